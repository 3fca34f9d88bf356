"""What staff see for /progress and /unpaid, shared by the bot handlers and the scheduled jobs.

Returns plain data and Chinese text; sending (reply or outbox) is the caller's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.policy import get_pack
from bot.policy.freshness import staff_warning_zh
from bot.registry import access
from bot.registry.models import Area, Staff
from bot.reports.progress import ProgressRow, progress_rows
from bot.reports.progress_chart import ChartRow, render_progress_png
from bot.reports.unpaid_xlsx import write_unpaid_xlsx

TEXT_ROWS = 10  # ranking lines in the chat message; the chart shows every area


@dataclass
class ProgressView:
    title: str
    text: str
    rows: list[ProgressRow]
    mark: float | None
    chart_path: Path | None = None
    warning: str | None = None  # the newest pack is behind the running campaign (also the text's 2nd line)


@dataclass
class UnpaidView:
    title: str
    text: str
    households: list[Any] = field(default_factory=list)
    people: int = 0
    file_path: Path | None = None


def coverage_year(locality_id: str) -> int:
    pack = get_pack(locality_id)
    if pack is None:
        raise access.AccessError("该地区暂无政策资料。")
    return pack.coverage_year


def progress_mark(locality_id: str) -> float | None:
    """A locality-wide completion mark to draw (唐河: 96 % by the end of the concentrated phase)."""
    pack = get_pack(locality_id)
    mark = pack.task_table.completion_mark if pack else None
    return float(mark.value) if mark is not None else None


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def pack_warning(locality_id: str, today: date) -> str | None:
    """The staff warning when the locality's newest pack does not cover the campaign running today."""
    pack = get_pack(locality_id)
    return staff_warning_zh(pack, today) if pack is not None else None


def progress_view(session: Session, staff: Staff, today: date) -> ProgressView:
    year = coverage_year(staff.locality_id)
    mark = progress_mark(staff.locality_id)
    warning = pack_warning(staff.locality_id, today)
    where = access.staff_area_name(session, staff)
    if staff.role == access.VILLAGE_CADRE:
        # A cadre sees the villages of their town ranked, which is what 排位通报 shares anyway,
        # but only aggregate counts: no names leave the cadre's own village.
        own = session.get(Area, staff.area_id)
        parent = own.parent_id if own else None
        rows = progress_rows(session, staff.locality_id, year, today, parent_area_id=parent)
    else:
        rows = progress_rows(session, staff.locality_id, year, today, parent_area_id=staff.area_id)
    title = f"{where} {year}年度参保进度（截至{today:%m月%d日}）"
    head = [title, warning] if warning else [title]
    if not rows:
        return ProgressView(title, "\n".join([*head, "暂无下级单位的数据。"]), rows, mark, warning=warning)
    lines = list(head)
    total_target = sum(r.target for r in rows)
    total_paid = sum(r.paid for r in rows)
    lines.append(f"合计：已缴 {total_paid} 人 / 目标 {total_target} 人，完成 {_pct(total_paid / total_target if total_target else 0)}")
    for i, r in enumerate(rows[:TEXT_ROWS], start=1):
        delta = (r.rate - r.rate_last_week) * 100
        own = " ←本村" if staff.role == access.VILLAGE_CADRE and r.area_id == staff.area_id else ""
        gap = f"，距{_pct(mark)}差{r.gap_to(mark)}人" if mark else f"，差{r.gap}人"
        on_roster = f"；花名册已缴{_pct(r.roster_rate)}" if r.target_is_task and r.roster else ""
        lines.append(f"{i}. {r.name} {_pct(r.rate)}（周+{delta:.1f}）{gap}{on_roster}{own}")
    if len(rows) > TEXT_ROWS:
        lines.append(f"……共 {len(rows)} 个单位，完整排名见图。")
    if any(not r.target_is_task for r in rows):
        lines.append("注：无任务数的单位按花名册人数计算。")
    return ProgressView(title, "\n".join(lines), rows, mark, warning=warning)


def render_chart(view: ProgressView, path: Path) -> Path | None:
    """Draw the view's chart (pure CPU and file I/O, no database: safe in a worker thread)."""
    if view.rows:
        view.chart_path = render_progress_png([ChartRow(r.name, r.rate) for r in view.rows], path, view.title,
                                              mark=view.mark)
    return view.chart_path


def write_unpaid_file(view: UnpaidView, path: Path) -> Path | None:
    """Write the view's XLSX (no database: safe in a worker thread)."""
    if view.households:
        view.file_path = write_unpaid_xlsx(view.households, path, view.title)
    return view.file_path


def unpaid_view(session: Session, staff: Staff, area_name: str | None = None) -> UnpaidView:
    from bot.registry import lookup

    year = coverage_year(staff.locality_id)
    scope = access.scope_area_ids(session, staff)
    if area_name:
        area = access.find_area(session, staff.locality_id, area_name)
        if area.id not in scope:
            raise access.AccessError("您只能查看本辖区的名单。")
        area_id: int | None = area.id
        where = f"{access.staff_area_name(session, staff).split(' ')[0]} {area.name}"
    else:
        if staff.role == access.COUNTY_ADMIN:
            raise access.AccessError("全县名单太大，请指定乡镇或村，例如：/unpaid 某某镇")
        area_id = staff.area_id
        where = access.staff_area_name(session, staff)
    households = lookup.unpaid_by_household(session, area_id, year)
    people = sum(len(h.members) for h in households)
    migrants = sum(1 for h in households for m in h.members if getattr(m, "migrant", False))
    title = f"{where} {year}年度未缴费名单"
    lines = [f"{where}：未缴费 {len(households)} 户 {people} 人（外出务工 {migrants} 人）"]
    for h in households[:5]:
        head = h.members[0]
        phone = getattr(head, "phone", None) or "无电话"
        lines.append(f"· {h.household_code} {head.name} 等{len(h.members)}人 {phone}")
    if len(households) > 5:
        lines.append("完整名单见附件表格。")
    return UnpaidView(title, "\n".join(lines), households, people)
