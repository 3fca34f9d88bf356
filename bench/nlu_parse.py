"""NLU parse throughput against plain string normalisation, in one run.

    .venv/bin/python -m bench.nlu_parse [--rounds 20]

Messages are the phrasing table (tests/nlu/phrasings.yaml), parsed round after round on one core
after a warm-up (jieba's dictionary and the gazetteer load once). Baseline: the cheapest possible
handling of the same text, `unicodedata.normalize("NFKC", s).strip().lower()`. Also timed:
`bot.nlu.normalize` alone, a control loop of fixed pure-Python work (its tail latency shows
what the machine adds), and one cold start (import + warm-up) in a child process. Goal: parse
well under 1 ms per message (p99) after warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

TABLE = Path(__file__).resolve().parent.parent / "tests" / "nlu" / "phrasings.yaml"


def _messages() -> list[str]:
    table = yaml.safe_load(TABLE.read_text("utf-8"))
    return [str(e["text"]) for part in table.values() for e in part]


def _baseline(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _busy(text: str) -> int:
    """Control: fixed pure-Python work of about parse's median cost, touching no NLU code. Its
    tail latency is the machine's (scheduling on a shared host), not the parser's."""
    total = 0
    for i in range(2500):
        total += i * i
    return total


def _measure(fn: Callable[[str], object], messages: list[str], rounds: int) -> tuple[float, list[float]]:
    """(messages per second over all rounds, per-message latencies in microseconds)."""
    latencies: list[float] = []
    clock = time.perf_counter
    start = clock()
    for _ in range(rounds):
        for text in messages:
            t0 = clock()
            fn(text)
            latencies.append((clock() - t0) * 1e6)
    elapsed = clock() - start
    return len(latencies) / elapsed, latencies


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1]


def _cold_start() -> float:
    code = (
        "import time; t=time.perf_counter(); from bot.nlu import parse, warm_up; warm_up(); "
        "print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()

    from bot.nlu import normalize, parse, warm_up

    messages = _messages()
    warm_up()
    for text in messages:  # second warm-up: regex caches, lazily built indexes
        parse(text)

    rows = [
        ("baseline: NFKC + strip + lower", _baseline),
        ("bot.nlu.normalize", normalize),
        ("bot.nlu.parse", parse),
        ("control: fixed pure-Python loop", _busy),
    ]
    table = Table(title=f"NLU on {len(messages)} phrasings x {args.rounds} rounds, one core")
    for col in ("", "messages/s", "x baseline", "p50 µs", "p99 µs", "max µs"):
        table.add_column(col, justify="right" if col else "left")
    base_rate = None
    for label, fn in rows:
        rate, lat = _measure(fn, messages, args.rounds)
        base_rate = base_rate or rate
        table.add_row(
            label, f"{rate:,.0f}", f"{rate / base_rate:.3f}", f"{_pct(lat, 0.5):.1f}", f"{_pct(lat, 0.99):.1f}",
            f"{max(lat):.0f}",
        )  # fmt: skip
    console = Console()
    console.print(table)
    console.print(f"cold start (import + warm_up, child process): {_cold_start():.2f} s")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    console.print(f"python {platform.python_version()}, {platform.machine()}, load average {load}")


if __name__ == "__main__":
    main()
