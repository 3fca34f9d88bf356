"""A reminder's values for templated channels (WeChat template/subscription messages, SMS).

Those channels cannot send our free text: their operator approves a template with a few variables.
`params` are computed beside the text, from the same households and engine amounts (by the campaign
builder and again by its send-time recheck), and `fill` puts them into the template the settings
describe: each template field is a format string over these names:

    place     五河县                  year      2024
    names     王*兰、王*军              count     2
    amount    760元                   deadline  2023年12月31日
    days_left 还剩41天 / 今天是最后一天   what      城乡居民医保缴费
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

NAMES_SHOWN = 3


def reminder_params(pack: Any, kind: str, deadline: date, today: date, households: Sequence[Any]) -> dict[str, str]:
    """The template values of one reminder (households: campaigns.HouseholdDue)."""
    from scheduler.campaigns import _masked_name, _yuan, _zh_date
    from scheduler.models import MIGRANT, NEWBORN

    members = [m for hh in households for m in hh.members]
    total = sum((Decimal(hh.amount) for hh in households), Decimal(0))
    names = "、".join(_masked_name(m.name) for m in members[:NAMES_SHOWN]) + ("等" if len(members) > NAMES_SHOWN else "")
    days = (deadline - today).days
    return {
        "place": pack.locality.name_zh,
        "year": str(pack.coverage_year),
        "names": names,
        "count": str(len(members)),
        "amount": _yuan(total) if total > 0 else "请咨询村（社区）",
        "deadline": _zh_date(deadline),
        "days_left": "今天是最后一天" if days <= 0 else f"还剩{days}天",
        "what": {MIGRANT: "外出务工返乡人员延期缴费", NEWBORN: "新生儿参保缴费"}.get(kind, "城乡居民医保缴费"),
    }


class TemplateError(ValueError):
    """A template field names a value reminders do not have."""


def fill_one(template: str, params: Mapping[str, str]) -> str:
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    missing = names - set(params)
    if missing:
        raise TemplateError(f"template field uses unknown value(s): {', '.join(sorted(missing))}")
    return template.format_map(dict(params))


def fill(fields: Mapping[str, str], params: Mapping[str, str]) -> dict[str, str]:
    """A WeChat template's data: each field's format string filled from the reminder's values."""
    return {key: fill_one(template, params) for key, template in fields.items()}


def fill_list(templates: Sequence[str], params: Mapping[str, str]) -> list[str]:
    """An SMS template's parameters, in order."""
    return [fill_one(t, params) for t in templates]
