#!/usr/bin/env bash
# Start throwaway PostgreSQL and Redis servers on 127.0.0.1 for the test suite.
# Installs them from Debian's packages when missing and we are root (as on CI).
# Prints `export ...` lines for the caller to eval; prints nothing for a service it cannot start,
# and the tests that need it are then skipped with a reason.
set -uo pipefail
RUN=${YIBAO_SERVICES_DIR:-/tmp/yibao-services}
PG_PORT=${PG_PORT:-54329}
REDIS_PORT=${REDIS_PORT:-63799}
mkdir -p "$RUN"

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)  # bench.registry_import's baseline (.import)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-zenhei)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${need[*]} from Debian packages" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >"$RUN/apt.log" 2>&1 \
    || echo "apt-get failed, see $RUN/apt.log" >&2
fi

# PostgreSQL: a private cluster owned by the postgres user (initdb refuses root)
initdb=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)
if [ -n "$initdb" ]; then
  bin=$(dirname "$initdb")
  data="$RUN/pg"
  as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
    rm -rf "$data"; mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown -R postgres "$RUN" "$data"
    as_pg "$initdb -D $data -U postgres -A trust -E UTF8 --locale=C.UTF-8" >"$RUN/initdb.log" 2>&1 || true
    as_pg "$bin/pg_ctl -D $data -l $RUN/pg.log -w -o '-p $PG_PORT -h 127.0.0.1 -k $RUN -F' start" >/dev/null 2>&1 || true
  fi
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
    echo "export DATABASE_URL_PG=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
    echo "export PG_BIN=$bin"
  else
    echo "PostgreSQL did not start; see $RUN" >&2
  fi
fi

if command -v redis-server >/dev/null; then
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --logfile "$RUN/redis.log" >/dev/null 2>&1 || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && echo "export REDIS_URL_TEST=redis://127.0.0.1:$REDIS_PORT/0"
fi
exit 0
