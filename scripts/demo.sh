#!/usr/bin/env bash
# The demo: the bot in a terminal chat on generated data, no token needed.
# Extra arguments go to `yibao chat`, e.g. scripts/demo.sh --locality tengzhou
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
exec .venv/bin/yibao chat "$@"
