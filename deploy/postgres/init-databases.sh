#!/usr/bin/env bash
# One role and one database per service, each owned by its role: sd_intake, sd_sla, sd_dispatch,
# sd_spares, sd_reporting and sd_gateway. The passwords come from the environment:
#
#   SD_INTAKE_DB_PASSWORD  SD_SLA_DB_PASSWORD  SD_DISPATCH_DB_PASSWORD
#   SD_SPARES_DB_PASSWORD  SD_REPORTING_DB_PASSWORD  SD_GATEWAY_DB_PASSWORD
#
# The postgres image runs this from /docker-entrypoint-initdb.d/ on its first start (empty data
# directory) only. It is idempotent, so it can be run again by hand to add a missing database or to
# apply changed passwords:
#
#   docker compose exec postgres bash /docker-entrypoint-initdb.d/10-init-databases.sh
#
# The image may source this file instead of executing it (when it lacks the executable bit), so it
# neither sets shell options nor exits: a failing psql returns non-zero and the entrypoint stops.

sd_create_service_database() {
    local name="$1" password="$2"
    # psql variables (:'name', :'password') are quoted by psql itself; format() quotes the identifiers.
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
        --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        --set=name="$name" --set=password="$password" <<'EOSQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'name', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name') \gexec
EOSQL
}

sd_init_databases() {
    local service var password
    for service in intake sla dispatch spares reporting gateway; do
        var="SD_${service^^}_DB_PASSWORD"
        password="${!var:-}"
        if [ -z "$password" ]; then
            echo "init-databases: $var is not set; it is the password of role sd_$service" >&2
            return 1
        fi
        sd_create_service_database "sd_$service" "$password" || return 1
        echo "init-databases: role and database sd_$service ready"
    done
}

sd_init_databases
