"""Demo data: deterministic, valid IDs, sized from the task table, rates, amounts from the engine, files, CLI."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from bot import clock
from bot.policy import engine as policy_engine
from bot.policy import get_pack
from bot.registry import db, demo, ids, lookup
from bot.registry.models import Area, CategoryMembership, Household, Payment, Person

from .conftest import TODAY, fresh_pg_database

SCALE = 0.004  # ~2,200 people for wuhe, ~5,300 for tengzhou: enough for rates, fast on both backends


def _snapshot(session: Session) -> list[tuple]:
    rows = session.execute(
        select(Person.id_number, Person.name, Person.relation, Person.phone, Person.migrant, Person.birth_date,
               Household.code, Area.name, Payment.paid_on, Payment.amount, Payment.channel)
        .join(Household, Household.id == Person.household_id)
        .join(Area, Area.id == Person.area_id)
        .outerjoin(Payment, Payment.person_id == Person.id)
        .order_by(Person.id_number)
    ).all()
    return [tuple(r) for r in rows]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def wuhe_db(request, tmp_path_factory):
    """One generated wuhe registry per backend, shared by the read-only tests below."""
    clock.set_today(TODAY)
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'wuhe.db'}"
        else:
            url = stack.enter_context(fresh_pg_database())
        engine = db.get_engine(url)
        db.ensure_schema(engine)
        with Session(engine) as s:
            summary = demo.generate(s, "wuhe", scale=SCALE, seed=7)
            s.commit()
        yield engine, summary
        engine.dispose()
    clock.set_today(None)


@pytest.fixture()
def wuhe(wuhe_db, pinned_today):
    return wuhe_db[1]


@pytest.fixture()
def wsession(wuhe_db, pinned_today):
    with Session(wuhe_db[0]) as s:
        yield s


def test_sizes_follow_the_task_table(wsession, wuhe):
    pack = get_pack("wuhe")
    towns = {a.id: a for a in wsession.scalars(select(Area).where(Area.locality_id == "wuhe", Area.parent_id.is_(None)))}
    villages = list(wsession.scalars(select(Area).where(Area.locality_id == "wuhe", Area.parent_id.is_not(None))))
    per_town = Counter(v.parent_id for v in villages)
    assert set(per_town) == set(towns) and all(3 <= k <= 12 for k in per_town.values())
    assert all(v.level == "village" for v in villages) and wuhe.villages_created == len(villages)
    progress = {p.name: p for p in lookup.completion(wsession, "wuhe", pack.coverage_year)}
    for entry in pack.task_table.entries:
        assert progress[entry.name].roster == round(entry.target * SCALE), entry.name
    assert wuhe.persons == sum(round(e.target * SCALE) for e in pack.task_table.entries)


def test_ids_valid_with_local_region_and_sex_parity(wsession, wuhe):
    rows = wsession.execute(select(Person.id_number, Person.relation, Person.birth_date)).all()
    regions = Counter(number[:6] for number, _r, _b in rows)
    assert regions.most_common(1)[0][0] == "340322"
    assert 0.8 < regions["340322"] / len(rows) < 0.97
    assert all(r[:4] == "3403" for r in regions)
    for number, relation, born in rows:
        assert ids.validate(number).ok, ids.mask(number)
        assert ids.birth_date(number) == born
        if relation in ("子", "孙子", "父亲"):
            assert ids.sex(number) == "male"
        if relation in ("女", "孙女", "母亲", "儿媳"):
            assert ids.sex(number) == "female"
    assert len({r[0] for r in rows}) == len(rows)


def test_households_ages_categories_migrants_and_paid_rates(wsession, wuhe, pinned_today):
    pack = get_pack("wuhe")
    sizes = Counter(wsession.execute(select(Person.household_id)).scalars())
    assert set(sizes.values()) <= set(range(1, 8)) and max(sizes.values()) == 7
    n = wuhe.persons
    ages = [ids.age_on(number, pinned_today) for number in wsession.execute(select(Person.id_number)).scalars()]
    assert min(ages) == 0 and max(ages) >= 90
    assert 0.07 < wuhe.categories / n < 0.13
    codes = set(wsession.execute(select(CategoryMembership.category)).scalars())
    assert codes <= {c.code for c in pack.categories}
    migrants = wsession.execute(select(func.count()).where(Person.migrant)).scalar_one()
    assert 0.11 < migrants / n < 0.19
    paid = wsession.execute(select(func.count(func.distinct(Payment.person_id)))).scalar_one()
    assert 0.78 <= paid / n <= 0.96
    period = pack.dates.collection
    first, last = wsession.execute(select(func.min(Payment.paid_on), func.max(Payment.paid_on))).one()
    assert period.start <= first and last <= min(period.end, pinned_today)


def test_amounts_come_from_the_policy_engine(wsession, wuhe):
    pack = get_pack("wuhe")
    rows = wsession.execute(
        select(Person.id, Person.birth_date, Person.migrant, Payment.paid_on, Payment.amount).join(
            Payment, Payment.person_id == Person.id)
    ).all()
    cats = {pid: (cat, rec) for pid, cat, rec in wsession.execute(
        select(CategoryMembership.person_id, CategoryMembership.category, CategoryMembership.recognised_on))}
    checked = 0
    for pid, born, migrant, paid_on, amount in rows[::7]:
        cat, recognised = cats.get(pid, (None, None))
        held = (cat,) if cat and recognised <= paid_on else ()
        answer = policy_engine.amount(pack, policy_engine.Person(categories=held, birth_date=born, migrant=migrant),
                                      on=paid_on)
        if not answer.ok:
            answer = policy_engine.amount(pack, policy_engine.Person(birth_date=born, migrant=migrant), on=paid_on)
        assert Decimal(amount) == answer.personal, (cat, born, paid_on)
        checked += 1
    assert checked > 100


def test_samples_answer_status(wsession, wuhe):
    assert len(wuhe.samples) == 3
    for number, name, paid in wuhe.samples:
        result = lookup.status(wsession, number, name)
        assert result.found and result.enrolled == paid and result.year == 2024


def test_deterministic_for_a_seed(tmp_path, pinned_today):
    def run(name: str, seed: int) -> list[tuple]:
        engine = db.get_engine(f"sqlite:///{tmp_path / name}")
        db.ensure_schema(engine)
        with Session(engine) as s:
            demo.generate(s, "taoyuan", scale=0.05, seed=seed)
            s.commit()
            snap = _snapshot(s)
        engine.dispose()
        return snap

    first, again, other = run("a.db", 3), run("b.db", 3), run("c.db", 4)
    assert first == again and len(first) > 1500
    assert first != other


def test_refuses_twice_and_unknown_locality_and_bad_scale(session):
    demo.generate(session, "taoyuan", scale=0.01, seed=1)
    with pytest.raises(demo.DemoError) as err:
        demo.generate(session, "taoyuan", scale=0.01)
    assert "已有" in err.value.message_zh
    with pytest.raises(demo.DemoError) as err:
        demo.generate(session, "atlantis")
    assert "wuhe" in err.value.message_zh
    with pytest.raises(demo.DemoError):
        demo.generate(session, "tengzhou", scale=0)


def test_village_level_pack_and_orm_inserts_after_bulk_load(session):
    """桃园's task table lists villages: no villages are generated below them. Ids keep working."""
    summary = demo.generate(session, "taoyuan", scale=0.02, seed=1)
    session.commit()
    assert summary.villages_created == 0 and summary.persons > 500
    hh = Household(locality_id="taoyuan", code="NEW-1", area_id=None)
    session.add(hh)
    session.flush()
    born = dt.date(1990, 1, 1)
    body = f"341302{born:%Y%m%d}999"
    from stdnum.cn import ric

    session.add(Person(id_number=body + ric.calc_check_digit(body + "0"), name="新人", household_id=hh.id,
                       relation="户主", birth_date=born))
    session.commit()  # sequences on PostgreSQL were moved past the bulk-loaded ids


def test_files_for_the_importers(tmp_path, session):
    summary = demo.generate(session, "tengzhou", scale=0.001, seed=2, out_dir=tmp_path / "out")
    roster, payments = summary.files
    with roster.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == demo.ROSTER_HEADER and len(rows) - 1 == summary.persons
    towns = {e.name for e in get_pack("tengzhou").task_table.entries}
    assert {r[4] for r in rows[1:]} <= towns
    assert all(ids.validate(r[0]).ok for r in rows[1:]) and {r[8] for r in rows[1:]} <= {"是", "否"}
    with payments.open(encoding="utf-8", newline="") as f:
        prow = list(csv.reader(f))
    assert prow[0] == demo.PAYMENTS_HEADER and len(prow) - 1 == summary.payments
    dt.date.fromisoformat(prow[1][2])
    Decimal(prow[1][3])


def test_cli_demo_then_status(tmp_path, monkeypatch, pinned_today):
    from bot.cli import app
    from bot.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli' / 'yibao.db'}")
    monkeypatch.delenv("STATUS_API_URL", raising=False)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = runner.invoke(app, ["demo-data", "--locality", "wuhe", "--scale", "0.002", "--seed", "5"])
        assert out.exit_code == 0, out.output
        lines = [ln.split() for ln in out.output.splitlines() if ln.strip().startswith("yibao status")]
        assert len(lines) == 3
        _y, _s, number, name, *_ = lines[0]
        answer = runner.invoke(app, ["status", number, name])
        assert answer.exit_code == 0, answer.output
        assert ids.mask(number) in answer.output and number not in answer.output and "2024 年度" in answer.output
        wrong = runner.invoke(app, ["status", number, name + "某"])
        assert wrong.exit_code == 1 and "未查到" in wrong.output and number not in wrong.output
        bad = runner.invoke(app, ["status", number[:-1], name])
        assert bad.exit_code == 2 and "位数不对" in bad.output
        as_json = runner.invoke(app, ["status", number, name, "--json"])
        assert '"found": true' in as_json.output and number not in as_json.output
    finally:
        for url in list(db._open):
            if "cli" in url:
                db._open.pop(url).dispose()
        get_settings.cache_clear()
