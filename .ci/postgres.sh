# shellcheck shell=bash
# start_postgres starts (installing if needed) a local PostgreSQL 15 cluster,
# creates the role and database the tests use, and sets
# DISTSYNC_TEST_POSTGRES_URL. Source this file, then call start_postgres.
# It needs root (or sudo-free access to pg_ctlcluster and the postgres user).

PG_TEST_USER="${PG_TEST_USER:-distsync}"
PG_TEST_PASSWORD="${PG_TEST_PASSWORD:-distsync}"
PG_TEST_DB="${PG_TEST_DB:-distsync_test}"

start_postgres() {
	if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
		echo "PostgreSQL is missing: installing it with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq postgresql >/dev/null
	fi
	local version
	version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
	if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
		pg_createcluster "$version" main >/dev/null
	fi
	if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
		pg_ctlcluster "$version" main start
	fi
	local port
	port="$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')"
	for _ in $(seq 1 30); do
		if su postgres -c "psql -p $port -Atqc 'select 1'" >/dev/null 2>&1; then break; fi
		sleep 1
	done
	su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_TEST_USER') THEN CREATE ROLE $PG_TEST_USER LOGIN PASSWORD '$PG_TEST_PASSWORD'; END IF; END \\\$\\\$;\""
	if ! su postgres -c "psql -p $port -Atqc \"SELECT 1 FROM pg_database WHERE datname = '$PG_TEST_DB'\"" | grep -q 1; then
		su postgres -c "createdb -p $port -O $PG_TEST_USER $PG_TEST_DB"
	fi
	DISTSYNC_TEST_POSTGRES_URL="postgres://$PG_TEST_USER:$PG_TEST_PASSWORD@127.0.0.1:$port/$PG_TEST_DB?sslmode=disable"
}
