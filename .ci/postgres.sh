#!/usr/bin/env bash
# Makes sure the PostgreSQL server the audit store tests use is up: 127.0.0.1:5432, trust
# authentication, a role `root` and a database `test` (MODELGATE_TEST_POSTGRES points the
# tests elsewhere), offering TLS. Starts the Debian cluster when it is down; installs it
# when absent; turns TLS on with the snakeoil certificate when it is off.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if [[ -n "${MODELGATE_TEST_POSTGRES:-}" ]]; then
    echo "using MODELGATE_TEST_POSTGRES"
    exit 0
fi
fresh=0
if ! ready; then
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
fi
psql -h 127.0.0.1 -U root -d test -Atqc 'SELECT 1' >/dev/null
# The TLS tests need the server to offer TLS (Debian's default, with the snakeoil certificate).
if [[ $(psql -h 127.0.0.1 -U root -d test -Atqc 'SHOW ssl') != on ]]; then
    [[ -r /etc/ssl/certs/ssl-cert-snakeoil.pem ]] || { echo "PostgreSQL offers no TLS and there is no snakeoil certificate (apt-get install ssl-cert)" >&2; exit 1; }
    psql -h 127.0.0.1 -U root -d test -qc "ALTER SYSTEM SET ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'" \
        -c "ALTER SYSTEM SET ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'" -c "ALTER SYSTEM SET ssl = on"
    psql -h 127.0.0.1 -U root -d test -Atqc 'SELECT pg_reload_conf()' >/dev/null
    sleep 1
    [[ $(psql -h 127.0.0.1 -U root -d test -Atqc 'SHOW ssl') == on ]] || { echo "PostgreSQL did not turn TLS on" >&2; exit 1; }
fi
echo "PostgreSQL is up on 127.0.0.1:5432, with TLS"
