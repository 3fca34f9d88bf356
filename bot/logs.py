"""Logging setup. Every line is masked for ID numbers as a second line of defence behind
`bot.registry.ids.mask` at the call sites.

The filter masks the message; the formatter masks the whole formatted line, because a traceback
(exc_info, added by the formatter after the filters ran) can hold an ID: pydantic puts the input
into its ValidationError, SQL errors carry their parameters.
"""

from __future__ import annotations

import logging


def mask_ids_in_text(text: str) -> str:
    # One masking rule for the whole project: delegate to bot.registry.ids (also catches
    # full-width and other scripts' digits and numbers split by separators).
    from bot.registry.ids import mask_in_text

    return mask_in_text(text)


class IdMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        masked = mask_ids_in_text(msg)
        if masked != msg:
            record.msg, record.args = masked, None
        return True


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks the result: message, traceback and stack info alike."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_ids_in_text(super().format(record))


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(IdMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
