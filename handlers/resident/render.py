"""Turning policy-engine answers into short Chinese replies.

Every figure, date, phone number and policy sentence shown here comes from the engine answer
(`to_json()` fields, `explanation_zh`, `citations`) or from the pack; this module only arranges them.
A reply has at most MAX_LINES lines, then the source clause on one last line ("依据：…").
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

MAX_LINES = 6
SOURCE_PREFIX = "依据："
_SENTENCE_END = re.compile(r"(?<=[。；！？])")


def fields(answer: Any) -> dict[str, Any]:
    if answer is None:
        return {}
    if hasattr(answer, "to_json"):
        return dict(answer.to_json())
    return dict(getattr(answer, "__dict__", {}))


def day(value: Any) -> str:
    """2023-12-31 (date or ISO string) -> 2023年12月31日."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def money(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | float):
        value = Decimal(str(value)).normalize()
        return f"{value:f}"
    return str(value)


def source_line(answer_or_citations: Any, last: frozenset[str] = frozenset()) -> str | None:
    """One line naming the clauses: 依据：<document number> <locator>、<locator>；<other document> ..."""
    cits = answer_or_citations
    if not isinstance(cits, list | tuple):
        cits = getattr(answer_or_citations, "citations", None) or []
    by_doc: dict[str, list[str]] = {}
    for c in cits:
        doc = c.get("document") if isinstance(c, dict) else getattr(c, "document", "")
        loc = c.get("locator") if isinstance(c, dict) else getattr(c, "locator", "")
        locs = by_doc.setdefault(doc or "", [])
        if loc and loc not in locs:
            locs.append(loc)
    if not by_doc:
        return None
    # Clauses in `last` (e.g. the general financing clause of an amount) go after the deciding ones.
    parts = [f"{doc} {'、'.join(sorted(locs, key=lambda loc: loc in last)[:3])}".strip()
             for doc, locs in by_doc.items()]
    return SOURCE_PREFIX + "；".join(parts[:2])


def explanation_lines(answer: Any, room: int) -> list[str]:
    """The engine's own explanation, cut into at most `room` lines at sentence ends."""
    text = (getattr(answer, "explanation_zh", None) or fields(answer).get("explanation") or "").strip()
    if not text or room <= 0:
        return []
    lines: list[str] = []
    for raw in text.splitlines():
        raw = raw.strip()
        if raw:
            lines.append(raw)
    if len(lines) <= room:
        return lines
    # Too many lines: keep whole lines while they fit, the rest joined into the last one.
    return lines[: room - 1] + ["".join(lines[room - 1 :])]


def first_sentence(text: str) -> str:
    parts = [p for p in _SENTENCE_END.split(text) if p]
    return parts[0] if parts else text


def compose(lines: list[str | None], source: str | None) -> str:
    """At most MAX_LINES body lines (duplicates and empties dropped), then the source line."""
    body: list[str] = []
    for line in lines:
        if line and line.strip() and line.strip() not in body:
            body.append(line.strip())
    if len(body) > MAX_LINES:
        body = body[: MAX_LINES - 1] + ["".join(body[MAX_LINES - 1 :])]
    if source:
        body.append(source)
    return "\n".join(body)


def body_lines(text: str) -> list[str]:
    """The lines of a reply that count against MAX_LINES (the source line does not)."""
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(SOURCE_PREFIX)]


def year_note(pack: Any, today: dt.date) -> str | None:
    """When the pack's coverage year is over, say which year the answer is for."""
    year = getattr(pack, "coverage_year", None)
    if year is None or today.year <= int(year):
        return None
    return f"提示：以下是{year}年度的政策（该年度已结束，新年度政策暂未收录，以当地最新通知为准）。"


def contact_hint(pack: Any) -> str:
    """What to do when the bot cannot answer: the pack's contacts, else the village office."""
    contacts = getattr(pack, "contacts", None) if pack is not None else None
    for c in getattr(contacts, "phones", None) or ():
        if not getattr(c, "town", None):
            return f"建议打电话问：{c.office} {c.phone}"
    return "建议问一下村（社区）干部或乡镇医保经办窗口。"


def refusal(answer: Any, pack: Any, header: str | None = None) -> str:
    reason = getattr(answer, "refusal", None) or fields(answer).get("refusal") or "文件里没有写明这个问题。"
    return compose([header, f"这个问题我答不了：{reason}", contact_hint(pack)], source_line(answer))


def header(place: str, year: Any, who: str | None = None) -> str:
    parts = [f"{place}（{year}年度）" if year else place]
    if who:
        parts.append(who)
    return " · ".join(parts)


def amount(answer: Any, pack: Any, who: str | None, note: str | None) -> str:
    j = fields(answer)
    if not j.get("ok", getattr(answer, "ok", False)):
        return refusal(answer, pack, note)
    head = header(pack.locality.name_zh, j.get("coverage_year"), who)
    personal = money(j.get("personal"))
    if j.get("pay_first"):
        main = f"{head}：先缴 {personal} 元，之后补助 {money(j.get('reimbursed_later'))} 元。"
    elif j.get("subsidy"):
        main = f"{head}：个人缴纳 {personal} 元（资助 {money(j['subsidy'])} 元）。"
    else:
        main = f"{head}：个人缴纳 {personal} 元。"
    lines = [note, main]
    # The engine's explanation restates the figure; keep only its other sentences.
    figures = [personal] + ([money(j["subsidy"])] if j.get("subsidy") else [])
    restated = re.compile("|".join(rf"(?<![0-9.]){re.escape(f)}\s*元" for f in figures))
    room = MAX_LINES - len([x for x in lines if x])
    lines += [ln for ln in explanation_lines(answer, room + 1) if not restated.search(ln)][:room]
    general = frozenset({pack.financing.personal.locator}) if getattr(pack, "financing", None) else frozenset()
    return compose(lines, source_line(answer, general))


def deadline(answer: Any, pack: Any, note: str | None, *, newborn: bool = False) -> str:
    j = fields(answer)
    if not j.get("ok", getattr(answer, "ok", False)):
        return refusal(answer, pack, note)
    head = header(pack.locality.name_zh, j.get("coverage_year"))
    due = day(j.get("deadline"))
    what = "新生儿参保缴费截止" if newborn else "缴费截止"
    if j.get("missed"):
        when = f"{head}：{what} {due}，已经过了。"
    else:
        left = j.get("days_left")
        when = f"{head}：{what} {due}" + (f"，还剩 {left} 天。" if left is not None else "。")
    lines: list[str | None] = [note, when]
    for p in [] if newborn else (j.get("periods") or [])[:3]:
        start, end = p.get("start"), p.get("end")
        span = f"{day(start)}至{day(end)}" if start else f"截至{day(end)}"
        lines.append(f"{p.get('label') or '缴费期'}：{span}")
    room = MAX_LINES - len([x for x in lines if x])
    # Skip the engine's sentence restating the deadline; keep the rest (who it applies to, if missed).
    kept = [ln for ln in explanation_lines(answer, room + 1) if not (due in ln and "截止" in ln)]
    lines += kept[:room]
    return compose(lines, source_line(answer))


def eligibility(answer: Any, pack: Any, note: str | None) -> str:
    j = fields(answer)
    if not j.get("ok", getattr(answer, "ok", False)):
        return refusal(answer, pack, note)
    lines: list[str | None] = [note]
    explained = explanation_lines(answer, MAX_LINES - 1)
    if explained:
        lines += explained
    elif j.get("eligible"):
        lines.append(f"可以在{pack.locality.name_zh}参保" + (f"（{j['group']}）。" if j.get("group") else "。"))
    else:
        lines.append(f"不在{pack.locality.name_zh}参保" + (f"：{j['enroll_where']}" if j.get("enroll_where") else "。"))
    return compose(lines, source_line(answer))


def benefit_start(answer: Any, pack: Any, paid_on: dt.date | None, note: str | None) -> str:
    j = fields(answer)
    if not j.get("ok", getattr(answer, "ok", False)):
        return refusal(answer, pack, note)
    start = day(j.get("benefit_start"))
    paid = f"按 {day(paid_on)} 缴费算，" if paid_on else ""
    lines: list[str | None] = [note, f"{pack.locality.name_zh}：{paid}从 {start} 起享受待遇（可以报销）。"]
    room = MAX_LINES - len([x for x in lines if x])
    lines += [ln for ln in explanation_lines(answer, room + 1) if start not in ln][:room]
    return compose(lines, source_line(answer))


def rule_only(answer: Any, pack: Any, hide: list[str], note: str | None, hint: str | None = None) -> str:
    """The engine's rule sentences without those about an assumed date (in `hide`), plus a hint."""
    j = fields(answer)
    if not j.get("ok", getattr(answer, "ok", False)):
        return refusal(answer, pack, note)
    lines: list[str | None] = [note]
    room = MAX_LINES - len([x for x in lines if x]) - (1 if hint else 0)
    lines += [ln for ln in explanation_lines(answer, room + 2) if not any(h and h in ln for h in hide)][:room]
    lines.append(hint)
    return compose(lines, source_line(answer))


def refund(answer: Any, pack: Any, note: str | None) -> str:
    j = fields(answer)
    if not j.get("ok", getattr(answer, "ok", False)):
        return refusal(answer, pack, note)
    verdict = "可以申请退费。" if j.get("refund_allowed") else "不能退费。"
    lines = [note, f"{pack.locality.name_zh}：{verdict}"]
    lines += explanation_lines(answer, MAX_LINES - len([x for x in lines if x]))
    return compose(lines, source_line(answer))


def plain(answer: Any, pack: Any, note: str | None, head: str | None = None) -> str:
    """Answers whose content is the engine's explanation (payment channels, contacts, 先缴后补, summary)."""
    j = fields(answer)
    if not j.get("ok", getattr(answer, "ok", True)):
        return refusal(answer, pack, note)
    lines = [note, head]
    lines += explanation_lines(answer, MAX_LINES - len([x for x in lines if x]))
    return compose(lines, source_line(answer))
