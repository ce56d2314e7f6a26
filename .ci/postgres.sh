#!/usr/bin/env bash
# Makes sure the PostgreSQL server the audit store tests use is up: 127.0.0.1:5432, trust
# authentication, a role `root` and a database `test` (MODELGATE_TEST_POSTGRES points the
# tests elsewhere). Starts the Debian cluster when it is down; installs it when absent.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if [[ -n "${MODELGATE_TEST_POSTGRES:-}" ]]; then
    echo "using MODELGATE_TEST_POSTGRES"
    exit 0
fi
if ready; then
    echo "PostgreSQL is up on 127.0.0.1:5432"
    exit 0
fi
fresh=0
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "installing PostgreSQL (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
    fresh=1
fi
version=$(ls /etc/postgresql | sort -V | tail -1)
echo "starting the PostgreSQL $version cluster"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 60); do
    ready && break
    sleep 1
done
ready || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
if [[ $fresh == 1 ]]; then
    # A new cluster: the role, the database and trust on loopback, as the project's machines have.
    hba=/etc/postgresql/$version/main/pg_hba.conf
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    su postgres -c "psql -q -c 'CREATE ROLE root SUPERUSER LOGIN'" || true
    su postgres -c "createdb -O root test" || true
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi
psql -h 127.0.0.1 -U root -d test -Atqc 'SELECT 1' >/dev/null
echo "PostgreSQL is up on 127.0.0.1:5432"
