#!/usr/bin/env bash
# The demo: the bot in a terminal chat on generated data, no token needed.
# Extra arguments go to `yibao chat`, e.g. scripts/demo.sh --locality tengzhou
set -euo pipefail
cd "$(dirname "$0")/.."
# Install on first use or when the locked dependencies or pyproject.toml changed; otherwise start at
# once (re-running pip on every start cost ~4 s before the first prompt).
if [ ! -x .venv/bin/yibao ] || ! cmp -s requirements.lock .venv/.lock-installed 2>/dev/null \
  || [ pyproject.toml -nt .venv/bin/yibao ]; then
  bash scripts/bootstrap.sh >&2
fi
# Pin "today" inside a collection period (五河's 2024 campaign) so deadlines and progress look live;
# override with YIBAO_TODAY=YYYY-MM-DD scripts/demo.sh
export YIBAO_TODAY=${YIBAO_TODAY:-2023-11-20}
exec .venv/bin/yibao chat "$@"
