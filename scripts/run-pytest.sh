#!/usr/bin/env bash
# Run the test suite. Starts a throwaway PostgreSQL on loopback when its Debian packages are
# installed, so the database tests run on SQLite and on PostgreSQL; without them those tests
# are skipped, unless CELLFOUNDRY_REQUIRE_POSTGRES=1 (CI), which makes a skip a failure.
set -euo pipefail
PY=${1:-.venv/bin/python}
if [ -z "${CELLFOUNDRY_TEST_POSTGRES_URL:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  CELLFOUNDRY_TEST_POSTGRES_URL=$(./scripts/start-postgres.sh)
  export CELLFOUNDRY_TEST_POSTGRES_URL
fi
exec "$PY" -m pytest -q "${@:2}"
