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


def collection_over(pack: Any, today: dt.date) -> bool:
    """The pack's collection (including any extension for migrant workers) has ended."""
    d = pack.dates
    last = max([d.collection.end] + ([d.migrant_extension.end] if d.migrant_extension else []))
    return today > last


def year_note(pack: Any, today: dt.date, *, collection: bool = False) -> str | None:
    """Say which year an answer is for when that is not the year a resident would expect.

    When the newest pack no longer covers the campaign running today (`bot.policy.currency`), every
    answer is labelled. While it still does but its collection is over (a resident asking "how much"
    then means next year's fee), answers about paying (amounts, deadlines) say the new notice is not
    loaded.
    """
    from bot.policy import currency

    current = currency(pack, today)
    if not current.covers_now:
        return f"提示：{current.note_zh}"
    year = int(pack.coverage_year)
    if collection and collection_over(pack, today):
        return (f"提示：这是{year}年度的标准（{day(pack.dates.collection.end)}已截止），"
                f"{year + 1}年度的通知我这里还没有收录，以当地最新通知为准。")
    return None


def refusal(answer: Any, pack: Any, header: str | None = None) -> str:
    """An engine answer that is not a plain yes/figure: the reason the engine gives (what the document
    does not settle, or the one fact it needs), and whom to ask."""
    reason = getattr(answer, "refusal", None) or fields(answer).get("refusal") or "文件里没有写明这个问题。"
    asks_back = bool(getattr(answer, "needs", None))
    contact = contact_line(pack)
    # Some engine reasons already end with whom to ask: say it once.
    lines = [header, reason, None if asks_back or contact in reason else contact]
    return compose([ln for ln in lines if not (ln and header and ln in header)], source_line(answer))


def header(place: str, year: Any, who: str | None = None) -> str:
    parts = [f"{place}（{year}年度）" if year else place]
    if who:
        parts.append(who)
    return " · ".join(parts)


def amount(answer: Any, pack: Any, who: str | None, note: str | None, verdict: str | None = None, *,
           extra: str | None = None) -> str:
    """One person's amount; `extra` (a household's total) goes right under the figure."""
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
    lines = [verdict, note, main, extra]
    # The engine's first sentence restates the figure under the place and year; keep the others.
    engine_head = f"{pack.locality.name_zh}{j.get('coverage_year')}年度："
    room = MAX_LINES - len([x for x in lines if x])
    lines += [ln for ln in explanation_lines(answer, room + 1) if not ln.startswith(engine_head)][:room]
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


def benefit_start(answer: Any, pack: Any, paid_on: dt.date | None, note: str | None, *,
                  paying_now: bool = False) -> str:
    j = fields(answer)
    if not j.get("ok", getattr(answer, "ok", False)):
        return refusal(answer, pack, note)
    start = day(j.get("benefit_start"))
    paid = "现在缴费的，" if paying_now else (f"按 {day(paid_on)} 缴费算，" if paid_on else "")
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
    start = day(pack.dates.benefit.start)
    verdict = (f"可以申请退费（退费要在待遇享受期{start}开始之前办）。" if j.get("refund_allowed")
               else "不能退费。")
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


# ---------------------------------------------------------------------------- dialogue helpers


def category_name(pack: Any, code: str) -> str:
    """The pack's local name for a category code, else the shared vocabulary's name."""
    local = pack.category(code)
    if local is not None:
        return local.name_zh
    from bot.policy import vocabulary

    entry = vocabulary().get(code)
    return entry.name_zh if entry is not None else code


_BRACKETS = re.compile(r"[（(][^）)]*[）)]")


def short_category(name: str) -> str:
    """A category name short enough for a button: 防止返贫监测对象（监测人口） -> 防止返贫监测对象."""
    short = _BRACKETS.sub("", name).strip()
    return short or name


def age_bands(pack: Any) -> list[tuple[int, str]]:
    """The age bands a pack's age rules distinguish (滕州: 60–69, 70+), as (lowest age, label)."""
    rules = getattr(getattr(pack, "age_rules", None), "rules", None) or ()
    bands = sorted({(int(r.min_age), None if r.max_age is None else int(r.max_age)) for r in rules})
    return [(lo, f"{lo}岁及以上" if hi is None else f"{lo}–{hi}岁") for lo, hi in bands]


def same_amount(a: Any, b: Any) -> bool:
    fa, fb = fields(a), fields(b)
    return (fa.get("ok"), fa.get("personal"), fa.get("pay_first")) == (fb.get("ok"), fb.get("personal"), fb.get("pay_first"))


def _pays(answer: Any) -> str:
    """What a person pays, in a few characters: 交60元, 不用交, 先缴350元，之后补250元, 文件未写明. Takes
    an engine answer or a row of the engine's amount table."""
    j = answer if isinstance(answer, dict) else fields(answer)
    if not j.get("ok", True) or (isinstance(answer, dict) and not j.get("stated", True)):
        return "文件未写明金额"
    personal = j.get("personal")
    if personal is None:
        return "文件未写明金额"
    if j.get("pay_first"):
        return f"先缴{money(personal)}元，之后补{money(j.get('reimbursed_later'))}元"
    if Decimal(str(personal)) == 0:
        return "不用交（全额资助）"
    return f"交{money(personal)}元"


def amount_table(table: Any, ordinary: Any, pack: Any, note: str | None, lead: str | None = None, *,
                 financing_first: bool = False, verdict: str | None = None, extra: str | None = None) -> str:
    """The engine's amount table: the ordinary resident's amount first, then the subsidised groups
    grouped by what they pay, and the financing line (total, government share) where room is left or
    when it was asked about; `lead` (a question offering the choices) goes last before the source line."""
    rows = list(getattr(table, "rows", None) or ())
    if not getattr(table, "ok", False) or not rows:
        return refusal(table, pack, note)
    first, others = rows[0], rows[1:]
    head = header(pack.locality.name_zh, fields(table).get("coverage_year"))
    personal = money(first["personal"])
    financing = next((ln for ln in explanation_lines(ordinary, 3) if "财政" in ln or "筹资" in ln), None)
    groups: dict[str, list[str]] = {}
    # Age bands first: the elderly are the largest group asking, and their band must not be cut off.
    for row in sorted(others, key=lambda r: r.get("min_age") is None):
        label = _age_label(row) or short_category(row["name"])
        groups.setdefault(_pays(row), []).append(label)
    top: list[str | None] = [verdict, note, f"{head}：普通居民每人交 {personal} 元。", extra]
    if financing_first:
        top += [financing, government_split(ordinary)]
    used = len([x for x in top if x]) + (1 if lead else 0)
    body = []
    for pays, labels in groups.items():
        names = "、".join(labels[:5]) + (f"等{len(labels)}类" if len(labels) > 5 else "")
        body.append(f"{names}：{pays}")
    room = MAX_LINES - used
    if len(body) > room:
        body = body[: room - 1] + ["；".join(body[room - 1 :])]
    elif not financing_first and financing and len(body) < room:
        body.append(financing.rstrip("。"))
    body = [line + "。" for line in body]
    cits = [c for row in rows for c in row.get("citations", ())]
    return compose([*top, *body, lead], source_line(cits))


def _age_label(row: dict[str, Any]) -> str | None:
    if row.get("min_age") is None:
        return None
    lo, hi = row["min_age"], row.get("max_age")
    return f"{lo}岁及以上老人" if hi is None else f"{lo}–{hi}岁老人"


def government_split(answer: Any) -> str | None:
    """Who pays the government share, where the document splits it (中央、省、县)."""
    shares = [x for x in (getattr(answer, "subsidy_by", None) or ()) if x.part == "government"]
    if len(shares) < 2:
        return None
    return "财政补助中：" + "、".join(f"{x.payer}{money(x.amount)}元" for x in shares) + "。"


def age_lines(rows: list[tuple[str, Any]]) -> list[str]:
    """One line per age band: "60–69岁：交175元"."""
    return [f"{label}：{_pays(answer)}。" for label, answer in rows]


def amount_by_birthday(answers: list[tuple[int | None, Any]], pack: Any, who: str | None, birth_year: Any,
                       on: dt.date, note: str | None, verdict: str | None = None) -> str:
    """Only the birth year is known and the age on `on` decides: say both cases."""
    head = header(pack.locality.name_zh, fields(answers[0][1]).get("coverage_year"), who)
    born = f"{birth_year}年出生" if birth_year else "按出生日期"
    lines: list[str | None] = [verdict, note, f"{head}：{born}，要看生日过没过（按{day(on)}算）："]
    cits: list[Any] = []
    for age, answer in answers:
        lines.append(f"满{age}岁：{_pays(answer)}。")
        cits += list(getattr(answer, "citations", ()) or ())
    lines.append("告诉我出生月日可以算准。")
    return compose(lines, source_line(cits))


def amount_check(stated: Decimal, answers: list[Any], table: list[Any] | None = None,
                 past_year: int | None = None) -> str | None:
    """The resident stated an amount ("交380对不对"): the line confirming or correcting it. With
    `past_year` (the answer is from a year whose collection is over, the next notice not loaded) a
    different figure is not called wrong: it may be the new year's."""
    personal = [Decimal(str(fields(a).get("personal"))) for a in answers if fields(a).get("ok")
                and fields(a).get("personal") is not None]
    if not personal:
        return None
    if stated in personal:
        return f"按{past_year}年度的文件，是 {money(stated)} 元。" if past_year else f"对，是 {money(stated)} 元。"
    others = [a for a in (table or []) if fields(a).get("ok") and fields(a).get("personal") is not None
              and Decimal(str(fields(a)["personal"])) == stated]
    total = fields(answers[0]).get("total")
    if others:
        return f"{money(stated)} 元不是普通居民的标准，是部分资助对象交的（见下）。"
    if total is not None and Decimal(str(total)) == stated:
        return f"{money(stated)} 元是每人的筹资总额（个人缴费加财政补助），个人交的是 {money(personal[0])} 元。"
    if past_year is not None:
        return f"按{past_year}年度的文件，个人交 {money(personal[0])} 元，不是 {money(stated)} 元。"
    return f"不对，不是 {money(stated)} 元，是 {money(personal[0])} 元。"


def add_line(text: str, line: str, citation: Any = None) -> str:
    """One more body line before the source line (and its clause added to the source line)."""
    body = [ln for ln in text.splitlines() if not ln.startswith(SOURCE_PREFIX)]
    sources = [ln for ln in text.splitlines() if ln.startswith(SOURCE_PREFIX)]
    if line and line not in body:
        if len(body) >= MAX_LINES:
            body[-1] = body[-1].rstrip("。") + "；" + line  # the reply keeps its line limit
        else:
            body.append(line)
    if citation is not None:
        src = citation if isinstance(citation, str) else None
        if src and sources and src not in sources[0]:
            sources = [sources[0] + "、" + src]
        elif src and not sources:
            sources = [SOURCE_PREFIX + src]
    return "\n".join(body + sources)


def cite_line(pack: Any, cited: Any) -> str:
    """The locator of a cited pack value, for `add_line`."""
    return str(cited.locator)


def first_line(answer: Any) -> str | None:
    lines = explanation_lines(answer, 1)
    return first_sentence(lines[0]) if lines else None


def benefit_rules(pack: Any, note: str | None, on_time: Any, late: Any) -> str:
    """When benefits start, as rules (the year is over, so no payment date is assumed)."""
    lines: list[str | None] = [note]
    j = fields(on_time)
    if j.get("ok"):
        lines.append(f"{pack.locality.name_zh}：集中缴费期内按时缴费的，从 {day(j.get('benefit_start'))} 起享受待遇。")
    consequence = getattr(late, "missed_consequence_zh", None)
    if consequence:
        lines.append(f"过了缴费期补缴的：{consequence}")
    cits = list(getattr(on_time, "citations", ()) or ()) + list(getattr(late, "citations", ()) or ())
    return compose(lines, source_line(cits))


def contact_line(pack: Any) -> str:
    """Whom to call: the pack's county-level phone, else where the document says to ask."""
    contacts = getattr(pack, "contacts", None)
    phones = [c for c in getattr(contacts, "phones", None) or () if not getattr(c, "town", None)]
    if phones:
        numbers = "、".join(dict.fromkeys(c.phone for c in phones))
        return f"可以打电话问：{phones[0].office} {numbers}。"
    if any(getattr(c, "town", None) for c in getattr(contacts, "phones", None) or ()):
        return "可以打所在镇街医保办的电话问（发“联系电话”，我告诉您号码）。"
    asks = [a.value for a in getattr(contacts, "where_to_ask", None) or ()]
    if asks:
        return f"可以问：{'、'.join(asks)}。"
    return "可以问村（社区）干部，或乡镇医保经办窗口。"


def not_in_document(pack: Any, what: str, note: str | None, extra: str | None = None) -> str:
    """The honest answer to a question the locality's document does not settle."""
    number = pack.documents["main"].number.value if "main" in pack.documents else ""
    lines = [
        note,
        f"{pack.locality.name_zh}的征缴文件{('（' + number + '）') if number else ''}没有规定{what}，我不能乱说。",
        contact_line(pack),
        extra,
    ]
    return compose(lines, None)


def benefit_period_line(pack: Any) -> str:
    b = pack.dates.benefit
    return f"待遇享受期：{day(b.start)}至{day(b.end)}。"


def newborn_fee(pack: Any) -> tuple[str, str] | None:
    """五河's note on what a newborn born in the previous year pays for each year, if the pack has it."""
    note = getattr(pack.dates, "newborn_fee_note", None)
    if note is None:
        return None
    return f"新生儿缴费：{note.quote.strip('（）()')}", str(note.locator)


REFUND_LABELS: tuple[tuple[str, str], ...] = (
    ("death", "参保人去世"),
    ("duplicate", "重复缴费"),
    ("employee_insurance", "参加了职工医保"),
    ("other_city", "在外地参加了居民医保"),
    ("new_aid", "缴费后被认定为资助对象"),
)


def refund_overview(answers: list[tuple[str, Any]], pack: Any, note: str | None) -> str:
    """Refunds in general: which reasons the document allows, and until when."""
    allowed = [(r, a) for r, a in answers if fields(a).get("ok")]
    labels = dict(REFUND_LABELS)
    lines: list[str | None] = [note]
    if not allowed:
        return refusal(answers[0][1], pack, note)
    cits: list[Any] = []
    for reason, answer in allowed:
        first = first_line(answer) or ""
        lines.append(f"{labels.get(reason, reason)}：{first}")
        cits += list(getattr(answer, "citations", ()) or ())
    lines.append("是哪种情况？点一下：")
    return compose(lines, source_line(cits))
