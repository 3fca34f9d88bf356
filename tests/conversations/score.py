"""Score a set of YAML conversations through the dialogue core: `python tests/conversations/score.py heldout`.

Prints passes per set. For the held-out set it prints only the numbers (and, with --names, the names of
failing conversations), never the transcripts: that set measures, it is not read for tuning.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runner import CoreChat, files, load, run  # noqa: E402
from world import build  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="+", help="subdirectories: cases, dev, heldout")
    parser.add_argument("--names", action="store_true", help="list failing conversations by name")
    parser.add_argument("--show", action="store_true", help="print failing transcripts (not for heldout)")
    args = parser.parse_args()
    from bot import clock
    from bot.conversation import Deps
    from bot.settings import Settings

    total_ok = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            convs = load(files(name))
            ok = 0
            for i, conv in enumerate(convs):
                engine, people = build(Path(tmp) / f"{name}-{i}.db", conv.today)
                clock.set_today(conv.today)
                deps = Deps(Settings(status_api_url=None), engine, 90_000 + i)
                result = run(conv, CoreChat(deps, 90_000 + i), people)
                engine.dispose()
                ok += result.ok
                if not result.ok and args.names:
                    print(f"  FAIL {conv.name}: {'; '.join(result.failures)}")
                if not result.ok and args.show and name != "heldout":
                    print("\n".join(result.transcript) + "\n")
            print(f"{name}: {ok}/{len(convs)} passed ({100 * ok / max(1, len(convs)):.0f} %)")
            total_ok, total = total_ok + ok, total + len(convs)
    return 0 if total_ok == total else 1


if __name__ == "__main__":
    sys.exit(main())
