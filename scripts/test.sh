#!/usr/bin/env bash
# The test command: installs what it needs, starts PostgreSQL and Redis on 127.0.0.1, runs ruff and pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh -k policy
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
eval "$(bash scripts/services.sh)"
export YIBAO_TEST_TMP=${YIBAO_TEST_TMP:-$(mktemp -d)}
.venv/bin/ruff check bot handlers scheduler wechat sms tests bench
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
