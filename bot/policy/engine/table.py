"""The amount table of a place: the ordinary resident, then every subsidised category and age band.

For the dialogue's "answer first" replies ("交多少钱" with nobody named): one row per group with its
figure and citation, so the reply can show what applies to whom without asking who the person is.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from bot.policy.engine.amount import help_citations, subsidy_of
from bot.policy.engine.answers import Answer, Citation
from bot.policy.engine.common import Loc, cite, head, lines, refuse, select_pack, uniq, yuan
from bot.policy.schema import Help, PolicyPack


def amount_table(loc: Loc, on: dt.date) -> Answer:
    """Rows: code, name, personal, subsidy, pay_first, reimbursed_later, note, line, citations."""
    pack = select_pack(loc, on)
    if isinstance(pack, str):
        return refuse("amount_table", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    standard = pack.financing.personal.value
    ordinary = {
        "code": "ordinary",
        "name": "普通居民",
        "personal": standard,
        "subsidy": Decimal(0),
        "pay_first": False,
        "reimbursed_later": None,
        "stated": True,
        "note": None,
        "line": f"普通居民：每人缴{yuan(standard)}",
        "citations": (cite(pack, pack.financing.personal),),
    }
    rows = [ordinary]
    for cat in pack.categories:
        rows.append(_row(pack, cat.code, cat.name_zh, cat.help, standard, cat.note_zh or cat.help.note_zh))
    for rule in pack.age_rules.rules if pack.age_rules else ():
        row = _row(pack, rule.id, rule.name_zh, rule.help, standard, rule.help.note_zh)
        row.update(min_age=rule.min_age, max_age=rule.max_age)
        rows.append(row)
    citations: list[Citation] = [c for r in rows for c in r["citations"]]
    return Answer(
        question="amount_table",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=_explain(pack, rows),
        citations=uniq(citations),
        trace=(f"pack {pack.locality.id}-{pack.coverage_year}", f"{len(rows)} rows"),
        rows=tuple(rows),
    )


def _row(
    pack: PolicyPack, code: str, name: str, help_: Help, standard: Decimal, note: str | None
) -> dict[str, Any]:
    subsidy = subsidy_of(help_, standard)
    pay_first = help_.kind == "pay_first"
    if subsidy is None:
        personal = None
        line = f"{name}：文件没写金额（{help_.basis.locator}）"
    elif pay_first:
        personal = standard
        line = f"{name}：先缴{yuan(standard)}，之后补{yuan(subsidy)}"
    else:
        personal = standard - subsidy
        line = f"{name}：个人不用缴" if personal == 0 else f"{name}：个人缴{yuan(personal)}"
        if subsidy and personal:
            line += f"（资助{yuan(subsidy)}）"
    return {
        "code": code,
        "name": name,
        "personal": personal,
        "subsidy": subsidy,
        "pay_first": pay_first,
        "reimbursed_later": subsidy if pay_first else None,
        "stated": subsidy is not None,
        "note": note,
        "line": line,
        "citations": tuple(uniq(help_citations(pack, help_))),
    }


def _explain(pack: PolicyPack, rows: list[dict[str, Any]]) -> str:
    """At most four lines: the ordinary amount, who pays nothing, who pays less, the rest."""
    free = [r["name"] for r in rows[1:] if r["personal"] == 0]
    less = [
        f"{r['name']}{yuan(r['personal'])}"
        for r in rows[1:]
        if r["personal"] and not r["pay_first"] and r["subsidy"]
    ]
    first = [
        f"{r['name']}先缴{yuan(r['personal'])}补{yuan(r['subsidy'])}" for r in rows[1:] if r["pay_first"]
    ]
    rest = [r["name"] for r in rows[1:] if r["subsidy"] == 0 and r["code"] != "ordinary"]
    unstated = [r["name"] for r in rows[1:] if not r["stated"]]
    tail = "；".join(
        [
            *([f"没有资助：{'、'.join(rest)}"] if rest else []),
            *([f"文件没写金额：{'、'.join(unstated)}"] if unstated else []),
        ]
    )
    return lines(
        f"{head(pack)}：普通居民每人缴{yuan(rows[0]['personal'])}。",
        f"个人不用缴：{'、'.join(free)}。" if free else None,
        "；".join(
            [
                *([f"少缴：{'、'.join(less)}"] if less else []),
                *([f"先缴后补：{'、'.join(first)}"] if first else []),
            ]
        )
        + "。"
        if less or first
        else None,
        f"{tail}。" if tail else None,
    )
