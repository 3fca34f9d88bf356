"""`yibao ARGS` with a profiler switched on and off by signals, so a benchmark can profile just its
measured window: SIGUSR1 starts cProfile in the main thread (the event loop), SIGUSR2 stops it and
writes the stats to the file named by YIBAO_PROFILE_OUT.

    YIBAO_PROFILE_OUT=/tmp/run.prof .venv/bin/python -m bench.profiled_run run
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
from typing import Any

_profiler = cProfile.Profile()


def _start(_signum: int, _frame: Any) -> None:
    _profiler.enable()


def _stop(_signum: int, _frame: Any) -> None:
    _profiler.disable()
    _profiler.dump_stats(os.environ["YIBAO_PROFILE_OUT"])


def main() -> None:
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    from bot.cli import app

    sys.argv = ["yibao", *sys.argv[1:]]
    app()


if __name__ == "__main__":
    main()
