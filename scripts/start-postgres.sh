#!/usr/bin/env bash
# Start a PostgreSQL server on loopback for the test suite and benchmarks, and print its URL.
# Uses Debian's postgresql packages (installed by .ci/run); the cluster lives in $PGDATA_DIR,
# created on first use and reused afterwards. The settings are a test server's (no fsync);
# shared_buffers (PG_SHARED_BUFFERS) should hold the strains table for benchmarks at scale.
set -euo pipefail
PGDATA_DIR=${PGDATA_DIR:-/tmp/cellfoundry-pg}
PGPORT=${PGPORT:-54329}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
RUN_AS=()
if [ "$(id -u)" = 0 ]; then RUN_AS=(runuser -u postgres --); fi
if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
  rm -rf "$PGDATA_DIR"; mkdir -p "$PGDATA_DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA_DIR"
  "${RUN_AS[@]}" "$BIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
  "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" \
    -o "-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=${PG_SHARED_BUFFERS:-256MB} -c work_mem=32MB" \
    -w start >/dev/null
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
