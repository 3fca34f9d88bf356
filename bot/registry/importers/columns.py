"""Column names the importers understand: the Chinese headers of the offices' exports plus English
aliases. Headers are compared after NFKC (full-width brackets become half-width), with spaces,
brackets and a trailing '*' removed and letters lower-cased, so 村（社区）, 村(社区) and 村 (社区) are
the same column."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str  # internal name, also the English alias
    title: str  # the Chinese header as documented
    aliases: tuple[str, ...] = ()


ROSTER_COLUMNS: tuple[Column, ...] = (
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "身份证", "id")),
    Column("name", "姓名", ("参保人姓名", "居民姓名")),
    Column("household", "户号", ("户编号", "家庭户号", "household_code")),
    Column("relation", "与户主关系", ("户主关系", "家庭关系", "关系")),
    Column("town", "乡镇", ("乡镇(街道)", "镇(街道)", "镇街", "乡镇街道", "镇", "街道")),
    Column("village", "村（社区）", ("村(居)", "村居", "村", "社区", "村委会", "村(社区)")),
    Column("phone", "联系电话", ("电话", "手机号", "手机号码", "联系方式")),
    Column("category", "资助类别", ("资助类型", "人员类别", "特殊人群类别", "类别", "categories")),
    Column("migrant", "外出务工", ("是否外出务工", "外出务工人员")),
    Column(
        "recognised_on", "认定日期", ("类别认定日期", "认定时间")
    ),  # optional: when the category was recognised
)

PAYMENT_COLUMNS: tuple[Column, ...] = (
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "身份证", "id")),
    Column("name", "姓名", ("参保人姓名", "缴费人姓名")),
    Column("paid_on", "缴费日期", ("缴费时间", "缴款日期", "入库日期", "date")),
    Column("amount", "缴费金额", ("金额", "缴款金额", "实缴金额", "个人缴费")),
    Column("channel", "缴费渠道", ("渠道", "缴费方式", "缴款方式")),
)

_DROP = re.compile(r"[\s()\[\]【】<>《》*:]+")


def header_key(raw: object) -> str:
    """The comparable form of a header cell."""
    if raw is None:
        return ""
    return _DROP.sub("", unicodedata.normalize("NFKC", str(raw)).replace("\ufeff", "")).lower()


def lookup_table(columns: tuple[Column, ...]) -> dict[str, str]:
    table: dict[str, str] = {}
    for col in columns:
        for name in (col.key, col.title, *col.aliases):
            table.setdefault(header_key(name), col.key)
    return table


def map_header(cells: list[object], columns: tuple[Column, ...]) -> dict[str, int]:
    """Column key -> position for the header row (first occurrence wins; unknown headers ignored)."""
    table = lookup_table(columns)
    found: dict[str, int] = {}
    for pos, cell in enumerate(cells):
        key = table.get(header_key(cell))
        if key is not None and key not in found:
            found[key] = pos
    return found


def titles(columns: tuple[Column, ...], keys: list[str] | tuple[str, ...]) -> str:
    by_key = {c.key: c for c in columns}
    return "、".join(f"“{by_key[k].title}”" for k in keys)
