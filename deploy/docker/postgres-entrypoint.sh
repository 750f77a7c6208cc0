#!/bin/sh
# Entry point of deploy/docker/postgres.Dockerfile: on an empty PGDATA, initdb with POSTGRES_USER and the
# password from POSTGRES_PASSWORD_FILE, create POSTGRES_DB, run /docker-entrypoint-initdb.d/*.sql; then
# run the server, listening on every address with password (scram-sha-256) authentication.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile="${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is required}"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl --silent --wait --options="-c listen_addresses=''" start
  if [ "$db" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --quiet --username="$user" --dbname=postgres -c "CREATE DATABASE \"$db\""
  fi
  for script in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$script" ] || continue
    psql -v ON_ERROR_STOP=1 --quiet --username="$user" --dbname="$db" -f "$script"
  done
  pg_ctl --silent --wait --mode=fast stop
fi
exec postgres -c listen_addresses='*'
