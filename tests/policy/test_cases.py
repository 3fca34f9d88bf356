"""OpenFisca-style case files: one YAML per locality (tests/policy/cases/), each case a question to the
policy engine with the answer read off the seed document by hand.

The runner only compares the keys a case lists in `expect` (plus a few case-level checks), so a case
pins exactly the seed figure it names and nothing the engine is free to choose. Expectations are never
derived from the engine or the packs: they are typed in from the seed text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

CASES_DIR = Path(__file__).parent / "cases"
LOCALITIES = ("taoyuan", "wuhe", "tengzhou", "tanghe")
QUESTIONS = {"amount", "deadline", "benefit_start", "eligibility", "refund", "amount_table", "not_in_document"}
# Clause markers for refusals that have nothing in the document to cite.
NO_CITATION_CLAUSES = {"silent", "no_pack"}

MONEY_KEYS = {"personal", "total", "subsidy", "reimbursed_later", "government", "net"}
SET_KEYS = {"set_aside", "not_in_document"}
DATE_KEYS = {"deadline", "benefit_start", "event_on", "cutoff"}
DATE_PERSON_FIELDS = {"birth_date", "category_recognised_on"}
CASE_KEYS = {
    "name",
    "clause",
    "checks",
    "question",
    "locality",
    "on",
    "paid_on",
    "reason",
    "event_on",
    "topic",
    "town",
    "waiting",
    "person",
    "expect",
    "quote_contains",
    "subsidy_by_contains",
    "present",
    "contains",
    "explanation_contains",
    "quote_absent",
    "xfail_reason",
}
FILE_KEYS = {"locality", "document", "clauses_covered", "pack_facts", "synonyms", "cases"}


class _CaseLoader(yaml.SafeLoader):
    """YAML 1.1 reads a bare `on:` key as True; the case format uses `on:` for the date asked about,
    so only true/false are booleans here."""


_CaseLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CaseLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _load(locality: str) -> dict[str, Any]:
    with (CASES_DIR / f"{locality}.yaml").open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CaseLoader)


CASE_FILES = {loc: _load(loc) for loc in LOCALITIES}


def _case_params() -> list[Any]:
    params = []
    for loc, doc in CASE_FILES.items():
        for case in doc["cases"]:
            marks = []
            if case.get("xfail_reason"):
                # strict: the case flips to a failure as soon as the engine is fixed, so the mark is removed.
                marks.append(pytest.mark.xfail(reason=case["xfail_reason"], strict=True))
            params.append(pytest.param(loc, case, id=f"{loc}-{case['name']}", marks=marks))
    return params


def _norm(text: str) -> str:
    """Full-width brackets and digits to half-width, no whitespace: 二（二）2 == 二(二)2."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


# --------------------------------------------------------------------------- engine helpers


@pytest.fixture(scope="module")
def policy():
    import bot.policy

    return bot.policy


@pytest.fixture(scope="module")
def engine():
    import bot.policy.engine

    return bot.policy.engine


def _resolve(policy_mod: Any, word: str, locality: str) -> str | None:
    return policy_mod.resolve_category(word, locality)


def _person(engine_mod: Any, policy_mod: Any, spec: dict[str, Any], locality: str) -> Any:
    kwargs = dict(spec or {})
    for field in DATE_PERSON_FIELDS & kwargs.keys():
        kwargs[field] = _as_date(kwargs[field])
    if "categories" in kwargs:
        codes = []
        for word in kwargs["categories"]:
            # Chinese words go through the shared vocabulary, exactly as the bot does with user text.
            code = word if word.isascii() else _resolve(policy_mod, word, locality)
            assert code, f"category word {word!r} did not resolve to a code"
            codes.append(code)
        kwargs["categories"] = codes
    return engine_mod.Person(**kwargs)


def _ask(engine_mod: Any, policy_mod: Any, file_loc: str, case: dict[str, Any]) -> Any:
    loc = case.get("locality", file_loc)
    person = _person(engine_mod, policy_mod, case.get("person"), loc)
    question = case["question"]
    fn = getattr(engine_mod, question)
    if question == "benefit_start":
        return fn(loc, person, _as_date(case["paid_on"]))
    if question == "refund":
        return fn(loc, person, _as_date(case["on"]), case["reason"], event_on=_as_date(case.get("event_on")))
    if question == "amount_table":
        return fn(loc, _as_date(case["on"]))
    if question == "not_in_document":
        return fn(loc, case["topic"], on=_as_date(case["on"]), town=case.get("town"),
                  waiting=bool(case.get("waiting")))
    return fn(loc, person, _as_date(case["on"]))


def _matches(want: Any, got: Any) -> bool:
    """A wanted row (dict) matches a row of the answer when every key it names is equal."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _matches(v, got[k]) for k, v in want.items())
    if isinstance(want, (int, float)) and not isinstance(want, bool) and got is not None:
        return _money(got) == _money(want)
    if isinstance(want, dt.date):
        return _iso(got) == _iso(want)
    return got == want


def _compare(key: str, want: Any, got: Any) -> None:
    if key in MONEY_KEYS:
        assert got is not None, f"{key}: expected {want}, engine gave none"
        assert _money(got) == _money(want), f"{key}: expected {want}, got {got}"
    elif key in DATE_KEYS:
        assert _iso(got) == _iso(want), f"{key}: expected {_iso(want)}, got {got}"
    elif key in SET_KEYS:
        assert set(got or ()) == set(want), f"{key}: expected {sorted(want)}, got {got}"
    elif key == "periods":
        got_pairs = {(_iso(p.get("start")), _iso(p.get("end"))) for p in got or ()}
        want_pairs = {(_iso(p.get("start")), _iso(p.get("end"))) for p in want}
        assert got_pairs == want_pairs, f"periods: expected {want_pairs}, got {got_pairs}"
    elif isinstance(want, bool) or want is None:
        assert got is want, f"{key}: expected {want}, got {got!r}"
    else:
        assert got == want, f"{key}: expected {want!r}, got {got!r}"


# --------------------------------------------------------------------------- the cases


@pytest.mark.parametrize(("locality", "case"), _case_params())
def test_case(engine: Any, policy: Any, locality: str, case: dict[str, Any]) -> None:
    check_case(engine, policy, locality, case)


def check_case(engine: Any, policy: Any, locality: str, case: dict[str, Any]) -> None:
    """Ask the case's question and compare with what the seed says; AssertionError on a mismatch."""
    answer = _ask(engine, policy, locality, case)
    data = answer.to_json()
    expect = case["expect"]
    where = f"[{case['clause']}] {case.get('checks', '')}"

    for key, want in expect.items():
        assert key in data, (
            f"{where}: answer has no {key!r}; keys: {sorted(data)}; refusal: {data.get('refusal')}"
        )
        _compare(key, want, data[key])

    if expect.get("ok") is False:
        # A refusal says why and carries no figures: never a silent 0.
        assert data.get("refusal"), f"{where}: refusal without a reason"
        for key in MONEY_KEYS:
            assert data.get(key) is None, f"{where}: refusal carries a figure {key}={data.get(key)}"
    else:
        assert not data.get("refusal"), f"{where}: unexpected refusal: {data.get('refusal')}"

    citations = data.get("citations") or []
    clause = case["clause"]
    if clause not in NO_CITATION_CLAUSES:
        locators = [_norm(c.get("locator", "")) for c in citations]
        # A refusal for an unstated amount may name its clause in the reason instead of a citation.
        named = any(_norm(clause) in loc for loc in locators) or (
            expect.get("ok") is False and _norm(clause) in _norm(data.get("refusal") or "")
        )
        assert named, f"{where}: no citation locator contains {clause!r}; locators: {locators}"

    for fragment in case.get("quote_contains", ()):
        quotes = [_norm(c.get("quote", "")) for c in citations]
        assert any(_norm(fragment) in q for q in quotes), f"{where}: no cited quote contains {fragment!r}"

    for want in case.get("subsidy_by_contains", ()):
        rows = data.get("subsidy_by") or []
        assert any(
            want["payer"] in str(row.get("payer", "")) and _money(row.get("amount")) == _money(want["amount"])
            for row in rows
        ), f"{where}: subsidy_by has no {want}; got {rows}"

    for fragment in case.get("quote_absent", ()):
        # e.g. a non-local resident must never be answered with the local-户籍 clause
        quotes = [_norm(c.get("quote", "")) for c in citations]
        assert not any(_norm(fragment) in q for q in quotes), f"{where}: a cited quote contains {fragment!r}"

    for key in case.get("present", ()):
        assert data.get(key), f"{where}: {key!r} missing or empty"

    # `contains`: list fields (rows, extensions, newborn_fees, conditions) hold these entries.
    for key, wanted in (case.get("contains") or {}).items():
        rows = data.get(key) or []
        for want in wanted:
            assert any(_matches(want, row) for row in rows), f"{where}: {key} has no {want}; got {rows}"

    text = _norm(data.get("refusal") or data.get("explanation") or "")
    for fragment in case.get("explanation_contains", ()):
        assert _norm(fragment) in text, f"{where}: the reply does not say {fragment!r}: {text}"


# --------------------------------------------------------------------------- synonyms, pack facts


def _synonym_params() -> list[Any]:
    return [
        pytest.param(loc, word, code, id=f"{loc}-{word}")
        for loc, doc in CASE_FILES.items()
        for word, code in (doc.get("synonyms") or {}).items()
    ]


@pytest.mark.parametrize(("locality", "word", "code"), _synonym_params())
def test_category_synonym(policy: Any, locality: str, word: str, code: str) -> None:
    assert _resolve(policy, word, locality) == code


def _value(field: Any) -> Any:
    """A cited pack value (`.value`) or a bare one."""
    return getattr(field, "value", field)


def _entry_for(entries: list[Any], name: str) -> Any:
    for entry in entries:
        names = {entry.name, *(getattr(entry, "aliases", None) or ())}
        # 滕州 附件1 writes 柴胡店 where 附件2 writes 柴胡店镇: the same town.
        if name in names or f"{name}镇" in names or entry.name == name.removesuffix("镇"):
            return entry
    return None


@pytest.mark.parametrize("locality", LOCALITIES)
def test_pack_facts(policy: Any, locality: str) -> None:
    facts = CASE_FILES[locality]["pack_facts"]
    pack = policy.get_pack(locality)
    assert pack is not None, f"no pack for {locality}"
    assert str(pack.locality.division_code) == facts["division_code"]
    assert pack.coverage_year == facts["coverage_year"]

    table = facts["task_table"]
    entries = list(pack.task_table.entries)
    assert len(entries) == len(table["entries"]), f"{locality}: task table has {len(entries)} rows"
    for name, want in table["entries"].items():
        entry = _entry_for(entries, name)
        assert entry is not None, f"{locality}: task table lacks {name}"
        target, population = want if isinstance(want, list) else (want, None)
        assert entry.target == target, f"{locality} {name}: target {entry.target} != {target}"
        if population is not None:
            assert entry.registered_population == population, f"{locality} {name}: population"
    # The printed 合计 is kept as printed; the rows' own sum differs from it in two seeds (rows_sum).
    assert _value(pack.task_table.total) == table["total"], f"{locality}: printed 合计"
    assert sum(e.target for e in entries) == table.get("rows_sum", table["total"])
    if "registered_population_total" in table:
        assert sum(e.registered_population for e in entries) == table["registered_population_total"]
        assert _value(pack.task_table.registered_population_total) == table["registered_population_total"]

    if facts.get("phones"):
        dumped = _norm(pack.contacts)
        for phone in facts["phones"]:
            assert phone in dumped, f"{locality}: contact phone {phone} not in pack.contacts"


# --------------------------------------------------------------------------- the case files themselves


@pytest.mark.parametrize("locality", LOCALITIES)
def test_case_file_is_well_formed(locality: str) -> None:
    doc = CASE_FILES[locality]
    assert set(doc) <= FILE_KEYS, f"unknown top-level keys: {set(doc) - FILE_KEYS}"
    assert doc["locality"] == locality
    names = [c["name"] for c in doc["cases"]]
    assert len(names) == len(set(names)), "case names must be unique (they are the test ids)"
    for case in doc["cases"]:
        label = f"{locality}/{case.get('name')}"
        assert set(case) <= CASE_KEYS, f"{label}: unknown keys {set(case) - CASE_KEYS}"
        assert case.get("clause"), f"{label}: every case names its clause"
        assert case.get("checks"), f"{label}: every case names the seed figure it checks"
        assert case["question"] in QUESTIONS, f"{label}: unknown question {case['question']}"
        assert "ok" in case["expect"], f"{label}: expect must say ok true/false"
        date_key = "paid_on" if case["question"] == "benefit_start" else "on"
        assert isinstance(_as_date(case.get(date_key)), dt.date), f"{label}: needs {date_key}"
        if case["question"] == "refund":
            assert case.get("reason"), f"{label}: refund needs a reason"


@pytest.mark.parametrize("locality", LOCALITIES)
def test_every_listed_clause_has_a_case(locality: str) -> None:
    doc = CASE_FILES[locality]
    covered = {c["clause"] for c in doc["cases"]}
    table_clause = (doc.get("pack_facts") or {}).get("task_table", {}).get("clause")
    if table_clause:
        covered.add(table_clause)
    missing = [c for c in doc["clauses_covered"] if c not in covered]
    assert not missing, f"{locality}: clauses listed without a case: {missing}"
    unlisted = covered - set(doc["clauses_covered"]) - NO_CITATION_CLAUSES
    assert not unlisted, f"{locality}: cases cite clauses missing from clauses_covered: {unlisted}"
