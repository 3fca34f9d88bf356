"""`yibao policy new`: the 五河 2024 pack carried to a 2025-style notice, and back through `policy check`.

The fixture notice (tests/policy/fixtures/wuhe-2025-notice.txt) is the 2024 seed with its figures raised
the way a 2025 notice raises them (+30 per person, periods a year later, new task numbers) and one
sentence reworded (a new payment channel), so all three groups -- kept, changed, missing -- occur.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot import clock
from bot.cli import app
from bot.policy import engine
from bot.policy.carry import carry_forward
from bot.policy.carry.paths import lookup
from bot.policy.carry.text import Matcher, Shape
from bot.policy.engine import Person
from bot.policy.loader import load_pack_file, source_text

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
NOTICE = FIXTURES / "wuhe-2025-notice.txt"
PACKS = ROOT / "bot" / "policy" / "packs"


@pytest.fixture(autouse=True)
def _today():
    clock.set_today(dt.date(2024, 10, 1))
    yield
    clock.set_today(None)


def _new(tmp_path: Path, source: Path = NOTICE, *extra: str) -> dict[str, Any]:
    out = tmp_path / "drafts" / "wuhe-2025.yaml"
    result = runner.invoke(app, ["policy", "new", "wuhe", "--year", "2025", "--source", str(source),
                                 "--out", str(out), "--json", *extra])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints exactly one JSON object"
    return json.loads(lines[0])


def _check(path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["policy", "check", str(path)])
    return result.exit_code, result.output


def _resolve(path: Path, quotes: dict[str, str] | None = None) -> None:
    """What the person does: confirm the proposals, fix the missing quotes, empty `review`."""
    raw = yaml.safe_load(path.read_text("utf-8"))
    raw.pop("review", None)
    for field, quote in (quotes or {}).items():
        lookup(raw, field)["quote"] = quote
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")


NEW_CHANNELS = "通过微信、支付宝、皖事通、“安徽税务”小程序等自助缴费渠道完成参保缴费"
NEW_HOW = ("普通城乡居民可采取个人自助缴费，通过微信、支付宝、皖事通、“安徽税务”小程序等自助缴费渠道完成参保缴费，"
           "继续由村（社区）工作人员催报催缴，指导操作。")
MISSING_FIXES = {
    "payment.channels.微信": NEW_CHANNELS,
    "payment.channels.支付宝": NEW_CHANNELS,
    "payment.channels.皖事通": NEW_CHANNELS,
    "payment.how.1": NEW_HOW,
}


def test_changed_figures_are_found_with_their_new_values(tmp_path: Path) -> None:
    data = _new(tmp_path)
    changed = {c["field"]: c for c in data["changed"]}
    expect = {
        "financing.personal": (380, 410),
        "financing.government": (640, 670),
        "financing.total": (1020, 1080),
        "financing.government_split.中央财政": (384, 402),
        "categories.dibao.help.subsidy": (320, 350),
        "categories.jiance.help.personal": (190, 205),
        "dates.collection.start": ("2023-09-01", "2024-09-01"),
        "dates.collection.end": ("2023-12-31", "2024-12-31"),
        "dates.benefit.start": ("2024-01-01", "2025-01-01"),
        "dates.migrant_extension.end": ("2024-02-29", "2025-02-28"),
        "task_table.entries.城关镇.target": (63194, 64020),
        "task_table.entries.沱湖乡.registered_population": (13746, 13700),
        "task_table.total": (542468, 544740),
        "documents.main.number": ("五政办秘〔2023〕50号", "五政办秘〔2024〕41号"),
        "documents.main.issued": ("2023-09-15", "2024-09-12"),
    }
    for field, (old, new) in expect.items():
        assert field in changed, f"{field} not proposed"
        assert (changed[field]["old"], changed[field]["new"]) == (old, new), field
        assert str(new).split("-")[0] in unicodedata.normalize("NFKC", changed[field]["quote"]).replace(" ", "")
    assert "410" in changed["financing.personal"]["quote"]


def test_unchanged_values_are_kept_and_missing_ones_listed(tmp_path: Path) -> None:
    data = _new(tmp_path)
    touched = {c["field"].removesuffix(".quote") for c in data["changed"]} | {m["field"] for m in data["missing"]}
    # 低保 still pays 60 (only the subsidy rose); newborns keep their 90 days; 特困 keep full help
    for field in ("categories.dibao.help.personal", "dates.newborn", "categories.tekun.help.basis",
                  "eligibility.groups.local_hukou", "dates.late", "contacts.phones.0552-5056951"):
        assert field not in touched, field
    assert data["kept"] >= 30
    missing = {m["field"]: m for m in data["missing"]}
    assert set(missing) == set(MISSING_FIXES)
    assert "安徽税务" in missing["payment.channels.微信"]["hint"]


def test_derived_values_are_recomputed_never_carried_silently(tmp_path: Path) -> None:
    data = _new(tmp_path)
    changed = {c["field"]: c for c in data["changed"]}
    refund = changed["refunds.rules.death+duplicate+employee_insurance+other_city.before"]
    assert (refund["old"], refund["new"]) == ("2024-01-01", "2025-01-01")
    assert refund["derived_from"] == "dates.benefit.start"
    # the 2024 table's rows were off by one; the new rows add up, so the old explanation is removed
    note = changed["task_table.total_mismatch_note"]
    assert note["new"] is None and note["derived_from"] == "task_table.entries"
    draft = yaml.safe_load(Path(data["draft"]).read_text("utf-8"))
    assert "total_mismatch_note" not in draft["task_table"]


def test_check_refuses_the_draft_until_every_item_is_resolved(tmp_path: Path) -> None:
    data = _new(tmp_path)
    draft = Path(data["draft"])
    assert draft.name == "wuhe-2025.yaml" and (draft.parent / NOTICE.name).exists()
    code, out = _check(draft)
    assert code == 1
    open_items = len(data["changed"]) + len(data["missing"]) + len(data["review"])
    assert f"还有 {open_items} 项待核对" in out
    assert "草稿待核对：financing.personal：" in out and "改为 410" in out
    assert "草稿待核对：payment.channels.微信：新文件中找不到原句" in out

    # One item left: still refused, and that item is named.
    raw = yaml.safe_load(draft.read_text("utf-8"))
    raw["review"] = [r for r in raw["review"] if r["field"] == "dates.collection.end"]
    draft.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    code, out = _check(draft)
    assert code == 1 and "还有 1 项待核对" in out and "dates.collection.end" in out

    # Emptying `review` without fixing the missing quotes is not enough: the old quotes are not in the notice.
    _resolve(draft)
    code, out = _check(draft)
    assert code == 1 and "payment.channels[0].quote: quote not found" in out

    _resolve(draft, MISSING_FIXES)
    code, out = _check(draft)
    assert code == 0, out


def test_resolved_draft_answers_with_the_new_figures(tmp_path: Path) -> None:
    data = _new(tmp_path)
    draft = Path(data["draft"])
    _resolve(draft, MISSING_FIXES)
    pack = load_pack_file(draft, sources_dir=draft.parent)
    assert pack.coverage_year == 2025 and pack.main_document.number.value == "五政办秘〔2024〕41号"
    on = dt.date(2024, 10, 1)
    dibao = engine.amount(pack, Person(categories=("dibao",)), on)
    assert (dibao.personal, dibao.total, dibao.subsidy) == (60, 1080, 350)
    assert any("350" in c.quote for c in dibao.citations)
    assert engine.deadline(pack, Person(), on).deadline == dt.date(2024, 12, 31)
    # last year's document stays in the pack, with its own quotes pointing at its own source
    assert pack.documents["wuhe-2024"].number.value == "五政办秘〔2023〕50号"


def test_whitespace_and_full_width_forms_are_tolerated(tmp_path: Path) -> None:
    text = NOTICE.read_text("utf-8")
    fullwidth = str.maketrans("0123456789()", "０１２３４５６７８９（）")
    # Every figure full-width, and a line break inside the financing sentence.
    odd = text.translate(fullwidth).replace("每人６７０元", "每人\n６７０ 元")
    source = tmp_path / "wuhe-2025-odd.txt"
    source.write_text(odd, "utf-8")
    plain, wide = _new(tmp_path / "a"), _new(tmp_path / "b", source)

    def proposals(data: dict[str, Any]) -> dict[str, Any]:
        return {c["field"]: unicodedata.normalize("NFKC", c["new"]).replace(" ", "") if isinstance(c["new"], str)
                else c["new"] for c in data["changed"]}

    assert proposals(wide) == proposals(plain)
    assert {c["field"]: c["new"] for c in wide["changed"]}["financing.government"] == 670
    assert wide["kept"] == plain["kept"] and wide["missing"] == plain["missing"]
    # Quotes in the draft are the notice's own characters, so the loader (no NFKC) finds them.
    draft = Path(wide["draft"])
    fixes = {k: v.translate(fullwidth) for k, v in MISSING_FIXES.items()}
    _resolve(draft, fixes)
    code, out = _check(draft)
    assert code == 0, out


def test_human_checklist_lists_each_group(tmp_path: Path) -> None:
    out = tmp_path / "d" / "wuhe-2025.yaml"
    result = runner.invoke(app, ["policy", "new", "wuhe", "--year", "2025", "--source", str(NOTICE),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "原样找到" in text and "有变化" in text and "找不到" in text
    assert "financing.personal：380 → 410" in text and "最接近的句子" in text
    assert f"yibao policy check {out}" in text
    header = out.read_text("utf-8").splitlines()[0]
    assert header.startswith("# DRAFT wuhe-2025")


def test_same_notice_keeps_everything_but_flags_what_a_year_must_change() -> None:
    raw = yaml.safe_load((PACKS / "wuhe-2024.yaml").read_text("utf-8"))
    text = source_text(raw["documents"]["main"]["source"])
    result = carry_forward(raw, text, text, year=2025, source_name="same.txt")
    assert result.changed == [] and result.missing == []
    flagged = {r.field: r.note for r in result.review}
    # The benefit year cannot be 2024 in a 2025 pack, and the old mismatch note is queried, not kept silently.
    assert any("coverage_year 2025" in note for note in flagged.values())
    assert "task_table.total_mismatch_note" in flagged


def test_a_derived_date_without_a_source_is_listed_for_review() -> None:
    # 唐河 prints no benefit period; its start and end are derived from the coverage year.
    raw = yaml.safe_load((PACKS / "tanghe-2023.yaml").read_text("utf-8"))
    text = source_text(raw["documents"]["main"]["source"])
    result = carry_forward(raw, text, text, year=2024, source_name="same.txt")
    review = {r.field: r for r in result.review}
    assert review["dates.benefit.start"].suggested == dt.date(2024, 1, 1)
    assert review["dates.benefit.end"].suggested == dt.date(2024, 12, 31)
    assert result.draft["dates"]["benefit"]["start"] == dt.date(2024, 1, 1)


def test_shape_keeps_adjacent_figures_apart_and_context_picks_bare_dates() -> None:
    old = "城关镇\t104874\t63194\n头铺镇 58563 48692\n印发日期：\n2023年9月15日\n附件"
    new = "会议于2024年3月1日召开。\n城关镇\t105210\t64020\n头铺镇 58340 48810\n印发日期：\n2024年9月12日\n附件"
    m = Matcher(old, new)
    row = m.find("城关镇 104874 63194")
    assert row.status == "changed" and row.candidate.figures == ("105210", "64020")
    issued = m.find("2023年9月15日")
    assert issued.status == "changed" and issued.candidate.figures == ("2024", "9", "12")
    assert m.find("头铺镇 58563 48692").status == "changed"
    assert m.find("沱湖乡 13746 12300").status == "missing"
    assert Shape.of("2023 年 9 月 1 日").figures == ("2023", "9", "1")


def test_stable_paths_name_list_items_by_what_identifies_them() -> None:
    raw = yaml.safe_load((PACKS / "wuhe-2024.yaml").read_text("utf-8"))
    assert lookup(raw, "dates.collection")["end"] == dt.date(2023, 12, 31)
    assert lookup(raw, "task_table.entries.城关镇")["target"] == 63194
    assert lookup(raw, "categories.dibao.help.personal")["value"] == 60
    assert lookup(raw, "financing.government_split.县级财政")["value"] == 64
    assert lookup(raw, "payment.how.2")["locator"] == "四（一）"
    with pytest.raises(KeyError):
        lookup(raw, "categories.nonexistent")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--year", "2024"], "--year 应晚于它"),
        (["--year", "2040"], "晚太多"),
        (["--year", "2025", "--source", "/nonexistent/notice.txt"], "找不到新文件"),
        (["--year", "2025", "--out", str(PACKS / "wuhe-2025.yaml")], "不能直接写进 bot/policy/packs/"),
    ],
)
def test_bad_input_gets_one_chinese_line(args: list[str], words: str, tmp_path: Path) -> None:
    full = ["policy", "new", "wuhe", *args]
    if "--source" not in args:
        full += ["--source", str(NOTICE)]
    if "--out" not in args:
        full += ["--out", str(tmp_path / "wuhe-2025.yaml")]
    result = runner.invoke(app, full)
    assert result.exit_code == 2 and words in result.output and "Traceback" not in result.output
    assert not (PACKS / "wuhe-2025.yaml").exists()


def test_any_draft_name_is_accepted_with_a_note(tmp_path: Path) -> None:
    out = tmp_path / "my-draft.yaml"
    result = runner.invoke(app, ["policy", "new", "wuhe", "--year", "2025", "--source", str(NOTICE),
                                 "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["draft"] == str(out) and "wuhe-2025.yaml" in data["note"]
    code, text = _check(out)
    assert code == 1 and "还有" in text
    folder = runner.invoke(app, ["policy", "new", "wuhe", "--year", "2025", "--source", str(NOTICE),
                                 "--out", str(tmp_path / "newdir")])
    assert folder.exit_code == 0 and (tmp_path / "newdir" / "wuhe-2025.yaml").exists()


def test_binary_source_and_existing_draft_are_refused(tmp_path: Path) -> None:
    binary = tmp_path / "notice.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81\x00\xff" * 50)
    result = runner.invoke(app, ["policy", "new", "wuhe", "--year", "2025", "--source", str(binary),
                                 "--out", str(tmp_path / "wuhe-2025.yaml")])
    assert result.exit_code == 2 and "不是文本文件" in result.output
    first = _new(tmp_path)
    # Nobody has touched the draft yet: running the command again just writes it again.
    again = runner.invoke(app, ["policy", "new", "wuhe", "--year", "2025", "--source", str(NOTICE),
                                "--out", first["draft"]])
    assert again.exit_code == 0, again.output
    # Once a person has edited it, it is never overwritten.
    draft = Path(first["draft"])
    draft.write_text(draft.read_text("utf-8").replace("kind: changed", "kind: changed ", 1), "utf-8")
    refused = runner.invoke(app, ["policy", "new", "wuhe", "--year", "2025", "--source", str(NOTICE),
                                  "--out", first["draft"]])
    assert refused.exit_code == 2 and "已经改动过" in refused.output


def test_gbk_notice_is_read_and_stored_as_utf8(tmp_path: Path) -> None:
    gbk = tmp_path / "src" / "wuhe-2025-gbk.txt"
    gbk.parent.mkdir()
    gbk.write_bytes(NOTICE.read_text("utf-8").replace("“安徽税务”", "安徽税务").encode("gb18030"))
    data = _new(tmp_path, gbk)
    copy = Path(data["source"])
    assert copy.read_text("utf-8").startswith("【测试用改写稿")
    assert {c["field"] for c in data["changed"]} >= {"financing.personal"}
    shutil.rmtree(gbk.parent)


def test_a_second_year_keeps_only_the_previous_document(tmp_path: Path) -> None:
    data = _new(tmp_path)
    draft = Path(data["draft"])
    _resolve(draft, MISSING_FIXES)
    raw = yaml.safe_load(draft.read_text("utf-8"))
    text_2025 = NOTICE.read_text("utf-8")
    text_2026 = text_2025.replace("每人410元", "每人440元").replace("每人1080元", "每人1110元")
    result = carry_forward(raw, text_2025, text_2026, year=2026, source_name="wuhe-2026.txt")
    assert set(result.draft["documents"]) == {"main", "wuhe-2025"}
    assert result.draft["documents"]["wuhe-2025"]["source"] == NOTICE.name
    changed = {c.field: (c.old, c.new) for c in result.changed}
    assert changed["financing.personal"] == (410, 440) and changed["financing.total"] == (1080, 1110)


def test_same_name_as_last_years_notice_is_refused(tmp_path: Path) -> None:
    same = tmp_path / "001_eed7a0ad29b0fb7e.txt"
    same.write_text(NOTICE.read_text("utf-8"), "utf-8")
    result = runner.invoke(app, ["policy", "new", "wuhe", "--year", "2025", "--source", str(same),
                                 "--out", str(tmp_path / "d")])
    assert result.exit_code == 2 and "同名" in result.output
