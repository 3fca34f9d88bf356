"""The collection targets a document sets (任务分解表): a town's or village's target and registered
population, the locality's total, and the share to reach by a stage's end where the document says one.

Cadres and residents ask "朱顶镇任务数多少", "全县一共多少": figures from the pack's task table, each
with its row as citation, never computed beyond the printed rows and total.
"""

from __future__ import annotations

import datetime as dt

from bot.policy.engine.answers import Answer, Citation
from bot.policy.engine.common import Loc, cite, head, refuse, select_pack, uniq, zh_date
from bot.policy.schema import PolicyPack, TaskEntry
from bot.policy.vocab import norm_word


def _entry(pack: PolicyPack, area: str) -> TaskEntry | None:
    want = norm_word(area)
    for entry in pack.task_table.entries:
        names = [norm_word(n) for n in (entry.name, *entry.aliases)]
        if want in names or any(n.rstrip("镇乡村") == want.rstrip("镇乡村") for n in names):
            return entry
    return None


def task_target(loc: Loc, on: dt.date, area: str | None = None) -> Answer:
    """The target of `area` (a town or village of the task table) and the locality's total."""
    pack = select_pack(loc, on)
    if isinstance(pack, str):
        return refuse("task_target", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    table = pack.task_table
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}", f"area {area!r}"]
    citations: list[Citation] = []
    said: list[str] = []
    items: list[dict[str, object]] = []
    entry = _entry(pack, area) if area else None
    if area and entry is None:
        trace.append("area not in the task table")
        said.append(f"任务分解表里没有“{area}”（表里按{'乡镇' if table.level == 'town' else '村（社区）'}列）。")
    if entry is not None:
        population = f"，户籍人口{entry.registered_population}人" if entry.registered_population else ""
        said.append(f"{entry.name}：{head(pack)}参保任务数{entry.target}人{population}。")
        citations.append(cite(pack, entry))
        items.append({"name": entry.name, "target": entry.target, "registered_population": entry.registered_population})
    place = {"county": "全县", "city": "全市", "town": "全镇", "district": "全区"}.get(pack.locality.level, "合计")
    pop_total = table.registered_population_total
    total_line = f"{place}合计：{table.total.value}人" + (f"（户籍人口{pop_total.value}人）" if pop_total else "") + "。"
    said.append(total_line)
    citations.append(cite(pack, table.total))
    if table.total_mismatch_note:
        said.append(table.total_mismatch_note.split("；")[0] + "。")
    mark = table.completion_mark
    if mark is not None:
        by = f"（到{zh_date(mark.by)}）" if getattr(mark, "by", None) else ""
        said.append(f"集中征缴阶段要完成目标任务的{round(float(mark.value) * 100)}%{by}。")
        citations.append(cite(pack, mark))
    for goal in table.goals:
        if not any(goal.value.rstrip("。") in line for line in said):
            said.append(goal.value.rstrip("。") + "。")
            citations.append(cite(pack, goal))
    return Answer(
        question="task_target",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh="\n".join(said),
        citations=uniq(citations),
        trace=tuple(trace),
        items=tuple(items),
    )
