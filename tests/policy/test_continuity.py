"""Rules in force since 2025 on the fictional test pack (tests/policy/fixtures/fictional-2025.yaml).

虚构县 is not a real place: its notice was written for these tests. Each case checks the figure and
the clause it cites, so a wrong reading of the pack fails as surely as a wrong sum.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from bot.policy import all_packs, engine, gazetteer, get_pack
from bot.policy.engine import History, Person
from bot.policy.loader import PackError, load_pack_file
from bot.policy.schema import PolicyPack

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def pack() -> PolicyPack:
    return load_pack_file(FIXTURES / "fictional-2025.yaml", sources_dir=FIXTURES)


def _locators(answer) -> set[str]:
    return {c.locator for c in answer.citations}


def test_fixture_is_never_a_real_locality(pack: PolicyPack) -> None:
    assert pack.locality.id == "fictional"
    assert get_pack("fictional") is None and get_pack("虚构县") is None
    assert all(p.locality.id != "fictional" for p in all_packs())
    assert all(place.locality_id != "fictional" for place in gazetteer())
    text = (FIXTURES / "fictional_2025_notice.txt").read_text("utf-8")
    assert text.startswith("【虚构文件 仅供测试】")


# "断保两年，现在交要等多久" and its neighbours: (years uninsured, years paid back) -> months, start
WAITING = [
    (0, 0, 3, dt.date(2025, 6, 11), {"四（一）"}),
    (1, 0, 3, dt.date(2025, 6, 11), {"四（一）"}),
    (2, 0, 4, dt.date(2025, 7, 11), {"四（一）", "四（二）", "四（三）"}),
    (3, 0, 5, dt.date(2025, 8, 11), {"四（一）", "四（二）", "四（三）"}),
    (4, 0, 6, dt.date(2025, 9, 11), {"四（一）", "四（二）", "四（三）"}),
    (5, 0, 7, dt.date(2025, 10, 11), {"四（一）", "四（二）", "四（三）"}),
    (2, 1, 3, dt.date(2025, 6, 11), {"四（一）", "四（二）", "四（三）"}),
    (5, 4, 6, dt.date(2025, 9, 11), {"四（一）", "四（二）", "四（三）"}),  # the floor of 6 months
    (6, 5, 6, dt.date(2025, 9, 11), {"四（一）", "四（二）", "四（三）"}),
]


@pytest.mark.parametrize(("uninsured", "paid_back", "months", "start", "locators"), WAITING)
def test_waiting_period(pack, uninsured, paid_back, months, start, locators) -> None:
    a = engine.waiting_period(pack, dt.date(2025, 3, 10), uninsured_years=uninsured, paid_back_years=paid_back)
    assert a.ok and a.question == "waiting_period"
    assert a.extra["waiting_months"] == months and a.benefit_start == start
    assert _locators(a) == locators
    assert f"要等{months}个月" in a.explanation_zh and "2025年" in a.explanation_zh


def test_two_years_uninsured_answers_the_residents_question(pack) -> None:
    a = engine.waiting_period(pack, dt.date(2025, 3, 10), uninsured_years=2)
    data = a.to_json()
    assert data["waiting_months"] == 4 and data["fixed_months"] == 3 and data["variable_months"] == 1
    assert data["benefit_start"] == "2025-07-11" and data["rule"] == "waiting_4_months"
    quotes = " ".join(c.quote for c in a.citations)
    assert "固定待遇等待期3个月" in quotes and "每多断保1年" in quotes
    assert "每补缴1年，可以少等1个月" in a.explanation_zh


def test_floor_is_cited_and_said_when_it_applies(pack) -> None:
    a = engine.waiting_period(pack, dt.date(2025, 3, 10), uninsured_years=5, paid_back_years=4)
    assert a.extra["floor_applied"] is True and a.extra["repaired_months"] == 4
    assert "不少于6个月" in a.explanation_zh
    assert any("不少于6个月" in c.quote for c in a.citations)


def test_inside_the_collection_period(pack) -> None:
    on_time = engine.waiting_period(pack, dt.date(2024, 11, 10), uninsured_years=0)
    assert on_time.extra["waiting_months"] == 0 and on_time.benefit_start == dt.date(2025, 1, 1)
    assert on_time.rule == "on_time"
    broke = engine.waiting_period(pack, dt.date(2024, 11, 10), uninsured_years=2)
    assert broke.extra["waiting_months"] == 4 and broke.benefit_start == dt.date(2025, 5, 1)


@pytest.mark.parametrize(
    ("person", "exemption", "locator"),
    [
        (Person(categories=("dibao",)), "aided", "四（四）"),
        (Person(categories=("jiance",)), "aided", "四（四）"),
        (Person(special_late_reason="veteran"), "veteran", "四（四）"),
        (Person(newborn=True, birth_date=dt.date(2025, 2, 1)), "newborn", "四（四）"),
    ],
)
def test_exempt_groups_wait_for_nothing(pack, person, exemption, locator) -> None:
    a = engine.waiting_period(pack, dt.date(2025, 3, 10), uninsured_years=3, person=person)
    assert a.extra["exempt"] == exemption and a.extra["waiting_months"] == 0
    assert a.benefit_start == dt.date(2025, 3, 11) and _locators(a) == {locator}
    assert "不设待遇等待期" in a.explanation_zh


def test_waiting_refusals(pack) -> None:
    assert "断保了几年" in engine.waiting_period(pack, dt.date(2025, 3, 10)).refusal
    too_many = engine.waiting_period(pack, dt.date(2025, 3, 10), uninsured_years=1, paid_back_years=2)
    assert not too_many.ok and "不能多于" in too_many.refusal
    old_rules = engine.waiting_period("wuhe", dt.date(2024, 3, 10), uninsured_years=2)
    assert not old_rules.ok and "没有写2025年起" in old_rules.refusal
    outside = engine.waiting_period(pack, dt.date(2023, 3, 10), uninsured_years=2)
    assert not outside.ok and "不适用" in outside.refusal


def test_history_gives_the_years_uninsured(pack) -> None:
    history = History.of([2019, 2020, 2021, 2022], known_from=2019)  # 2023, 2024 without insurance
    assert history.uninsured_before(2025) == 2 and history.last_break(2025) == 2024
    a = engine.waiting_period(pack, dt.date(2025, 3, 10), history=history)
    assert a.extra["uninsured_years"] == 2 and a.extra["waiting_months"] == 4
    # Years before the records begin are unknown, never counted as a break.
    assert History.of([2024], known_from=2024).uninsured_before(2025) == 0
    assert History.of([], known_from=None).uninsured_before(2025) == 0


def test_benefit_start_for_a_person_given_their_history(pack) -> None:
    history = History.of([2018, 2019, 2020, 2021, 2022], known_from=2018)
    a = engine.benefit_start_with_history(pack, Person(), dt.date(2025, 4, 1), history)
    assert a.question == "benefit_start" and a.rule == "waiting_4_months"
    assert a.benefit_start == dt.date(2025, 8, 2) and "四（二）" in _locators(a)
    continuous = History.of(range(2018, 2025))
    assert engine.benefit_start_with_history(pack, Person(), dt.date(2024, 12, 1), continuous).rule == "on_time"
    unknown = engine.benefit_start_with_history(pack, Person(), dt.date(2025, 4, 1))
    assert unknown.rule == "waiting_3_months" and "按连续参保计算" in unknown.explanation_zh
    # A pack without the 2025 rules answers by its own rules: history does not matter there.
    wuhe = engine.benefit_start_with_history("wuhe", Person(), dt.date(2024, 3, 15), history)
    assert wuhe.rule == "late_waiting_7th_month" and wuhe.benefit_start == dt.date(2024, 9, 1)


# "连续交了五年有什么好处"
@pytest.mark.parametrize(("years", "raised"), [(3, 0), (4, 0), (5, 3000), (6, 6000), (9, 15000)])
def test_continuous_enrolment_raises_the_cap(pack, years, raised) -> None:
    a = engine.incentive(pack, dt.date(2024, 11, 1), continuous_years=years)
    assert a.ok and a.extra["continuous_raise"] == raised and a.extra["raise_total"] == raised
    assert {"四（五）", "四（七）", "四（八）"} <= _locators(a)
    assert f"连续参保{years}年" in a.explanation_zh


def test_five_years_in_words(pack) -> None:
    a = engine.incentive(pack, dt.date(2024, 11, 1), continuous_years=5)
    assert "大病保险最高支付限额提高3000元" in a.explanation_zh and "共提高3000元" in a.explanation_zh
    assert "原最高支付限额的20%（80000元）" in a.explanation_zh
    assert "重新计算" in a.explanation_zh


# "去年没报销今年有啥奖励"
def test_no_claims_last_year_raises_this_year(pack) -> None:
    a = engine.incentive(pack, dt.date(2024, 11, 1), zero_claim_last_year=True)
    assert a.extra["zero_claim_raise"] == 3000 and a.extra["continuous_years"] is None
    assert "四（六）" in _locators(a) and "上一年度没有发生医保报销" in a.explanation_zh
    claimed = engine.incentive(pack, dt.date(2024, 11, 1), zero_claim_last_year=False)
    assert claimed.extra["zero_claim_raise"] == 0 and "没有零报销奖励" in claimed.explanation_zh


def test_history_replay_adds_both_and_stops_at_the_cap(pack) -> None:
    h = History.of(range(2019, 2025), zero_claim=[2023, 2024])
    a = engine.incentive(pack, dt.date(2024, 11, 1), history=h)
    # 2019..2025 continuous: years 5, 6, 7 raise 3000 each; zero claims in 2023 and 2024 raise 2024 and 2025
    assert a.extra["continuous_years"] == 7 and a.extra["continuous_raise"] == 9000
    assert a.extra["zero_claim_raise"] == 6000 and a.extra["raise_total"] == 15000
    long = History.of(range(1990, 2025), zero_claim=range(1990, 2025))
    capped = engine.incentive(pack, dt.date(2024, 11, 1), history=long)
    assert capped.extra["raise_total"] == 80000 and capped.extra["capped"] is True
    assert "已到上限" in capped.explanation_zh


def test_a_break_resets_and_reenrolment_cuts(pack) -> None:
    h = History.of([2017, 2018, 2019, 2020, 2021, 2022], known_from=2017)  # 2023, 2024 missed
    a = engine.incentive(pack, dt.date(2024, 11, 1), history=h)
    assert a.extra["continuous_years"] == 1 and a.extra["raise_total"] == 0 and a.extra["cut"] == 3000
    assert a.explanation_zh.startswith("中断后再次参保，2025年度大病保险最高支付限额降低3000元")
    assert any("降低3000元" in c.quote for c in a.citations)


def test_incentive_refused_where_the_pack_has_no_such_rules() -> None:
    a = engine.incentive("wuhe", dt.date(2023, 11, 20), continuous_years=5)
    assert not a.ok and "没有写2025年起" in a.refusal and "raise_total" not in a.to_json()


def test_schema_rejects_malformed_continuity() -> None:
    raw = yaml.safe_load((FIXTURES / "fictional-2025.yaml").read_text("utf-8"))
    raw["continuity"]["waiting"]["exempt"][1]["categories"] = ["not_a_code"]
    with pytest.raises(ValidationError, match="unknown category codes"):
        PolicyPack.model_validate(raw)
    raw = yaml.safe_load((FIXTURES / "fictional-2025.yaml").read_text("utf-8"))
    del raw["continuity"]["incentives"]["continuous"], raw["continuity"]["incentives"]["zero_claim"]
    with pytest.raises(ValidationError, match="incentives need continuous or zero_claim"):
        PolicyPack.model_validate(raw)


def test_every_continuity_value_quotes_its_clause(tmp_path: Path) -> None:
    raw = (FIXTURES / "fictional-2025.yaml").read_text("utf-8")
    bad = tmp_path / "fictional-2025.yaml"
    bad.write_text(raw.replace("每多断保1年，在固定", "每多断保2年，在固定"), "utf-8")
    (tmp_path / "fictional_2025_notice.txt").write_text(
        (FIXTURES / "fictional_2025_notice.txt").read_text("utf-8"), "utf-8")
    with pytest.raises(PackError, match=r"continuity\.waiting\.variable\.quote: quote not found"):
        load_pack_file(bad, sources_dir=tmp_path)


def test_answers_with_io_forbidden(pack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dialogue calls these in its worker thread: once packs are loaded they touch no file or socket."""
    import builtins
    import io
    import socket

    from bot.policy.freshness import currency

    def calls() -> list[object]:
        h = History.of(range(2018, 2023), known_from=2018)
        return [
            engine.waiting_period(pack, dt.date(2025, 3, 10), uninsured_years=2).to_json(),
            engine.incentive(pack, dt.date(2024, 11, 1), continuous_years=5, zero_claim_last_year=True).to_json(),
            engine.benefit_start_with_history(pack, Person(), dt.date(2025, 4, 1), h).to_json(),
            engine.benefit_start_with_history("wuhe", Person(), dt.date(2024, 3, 15), h).to_json(),
            currency(get_pack("wuhe"), dt.date(2026, 11, 30)),
        ]

    warm = calls()

    def forbidden(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"I/O at call time: {args[:1]!r}")

    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    monkeypatch.setattr(Path, "read_text", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    again = calls()
    monkeypatch.undo()
    assert again == warm
