"""Logging setup. Every handler gets a filter that masks anything shaped like an ID number,
as a second line of defence behind `bot.registry.ids.mask` at the call sites."""

from __future__ import annotations

import logging


def mask_ids_in_text(text: str) -> str:
    # One masking rule for the whole project: delegate to bot.registry.ids (also catches
    # full-width digits and numbers typed with spaces).
    from bot.registry.ids import mask_in_text

    return mask_in_text(text)


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
