"""Logging setup. Every handler gets a filter that masks anything shaped like an ID number,
as a second line of defence behind `bot.registry.ids.mask` at the call sites."""

from __future__ import annotations

import logging
import re

# 18-digit (last may be X) or 15-digit runs not embedded in longer digit runs
_ID_RE = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9Xx])")


def mask_ids_in_text(text: str) -> str:
    def _mask(m: re.Match[str]) -> str:
        s = m.group(1)
        return s[:4] + "*" * (len(s) - 8) + s[-4:]

    return _ID_RE.sub(_mask, text)


class IdMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        masked = mask_ids_in_text(msg)
        if masked != msg:
            record.msg, record.args = masked, None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(IdMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
