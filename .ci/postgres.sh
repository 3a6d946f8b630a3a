#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the test suite and print its URL on stdout.
# Installs Debian's postgresql when it is missing; runs the server as the postgres user in a
# fresh data directory on a loopback port, with fsync off (test data is disposable).
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
port=${BURGERBEEST_TEST_PG_PORT:-}
if [ -z "$port" ]; then
    # The first free loopback port from 54329: a server left running (a developer's, an earlier
    # run's) must not make this one fail to start.
    for candidate in $(seq 54329 54399); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
            port=$candidate
            break
        fi
    done
fi
data=$(mktemp -d /tmp/burgerbeest-pg.XXXXXX)
chown postgres: "$data"
su postgres -s /bin/sh -c "$bin/initdb -D '$data' -A trust -U postgres" >/dev/null
su postgres -s /bin/sh -c "$bin/pg_ctl -D '$data' -l '$data/server.log' -w -o \
    \"-p $port -k '$data' -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
    -c full_page_writes=off -c max_connections=300\" start" >/dev/null
echo "postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
