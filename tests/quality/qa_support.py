"""Shared helpers for the cross-cutting quality tests: generated ID numbers, a leak detector written
independently of bot.registry.ids (so a bug there cannot hide a leak), and a `yibao` runner."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

from stdnum.cn import ric

ROOT = Path(__file__).resolve().parents[2]
YIBAO = Path(sys.executable).with_name("yibao")
TODAY = "2023-11-20"  # inside 五河's 2024 collection period (2023-09-01 … 2023-12-31)


def make_id(region: str, birth: str, seq: str) -> str:
    """A generated 18-digit number with a correct check digit (never a real person's)."""
    body = f"{region}{birth}{seq}"
    assert len(body) == 17, body
    # calc_check_digit reads the first 17 characters of an 18-character number
    return body + ric.calc_check_digit(body + "0")


def wrong_check(number: str) -> str:
    """The same number with a wrong check digit."""
    digits = "0123456789X"
    return number[:17] + digits[(digits.index(number[17]) + 1) % len(digits)]


def legacy15(number18: str) -> str:
    """The 15-digit legacy form of a number of someone born 19xx."""
    assert number18[6:8] == "19"
    return number18[:6] + number18[8:17]


def expected_mask(number: str) -> str:
    """The documented mask format: first 4 and last 4 kept, the rest starred."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# Digit runs that may be split by up to three separators (spaces, dots, dashes, slashes,
# underscores: how people type and paste numbers), after NFKC so that full-width digits count and
# with every script's digits made ASCII and invisible characters dropped. A run is reduced to its
# characters [0-9X].
_RUN = re.compile(r"[0-9](?:[\s\-_./\\·]{0,3}[0-9Xx])+")


def _flatten(text: str) -> str:
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if unicodedata.category(ch) == "Cf":
            continue
        value = unicodedata.decimal(ch, None)
        out.append(str(value) if value is not None else ch)
    return "".join(out)


def leaks(text: str, numbers: Iterable[str]) -> list[str]:
    """Every full ID number from `numbers` that occurs in `text` (also full-width, in another
    script's digits, or split by separators)."""
    if not text:
        return []
    flat = _flatten(text)
    runs = ["".join(ch for ch in m.group(0) if ch.isalnum()).upper() for m in _RUN.finditer(flat)]
    found = []
    for number in numbers:
        number = number.upper()
        if number in flat.upper() or any(number in run for run in runs):
            found.append(number)
    return found


class ListHandler(logging.Handler):
    """Keeps every record at every level, without any masking filter: it sees what call sites log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is still worth seeing
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.levelname} {record.name}: {text}")


def cli_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a `yibao` child: its own SQLite file, a pinned day, nothing from the caller's
    .env (the child runs in tmp), and no county status service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "STATUS_API", "REDIS_URL", "YIBAO_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp / 'yibao.db'}", YIBAO_TODAY=TODAY, LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1", COLUMNS="120", NO_COLOR="1",
    )
    env.update(extra)
    return env


def run_yibao(args: list[str], env: Mapping[str, str], cwd: Path, stdin: str | None = None,
              timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(YIBAO), *args], input=stdin, capture_output=True, text=True, env=dict(env), cwd=cwd,
        timeout=timeout, check=False,
    )


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
