"""Calendars (with their yearly holidays and make-up days), policies, contract terms, the cases the
SLA engine follows with what happened to them, and their clocks with one durable timer each.

Seeds the default policy (the domain's tables) and China's calendars for the years the
`chinese-calendar` package knows, as version 1 of each year.

Revision ID: s0001
Revises:
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "s0001"
down_revision = "sk0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE calendars (
            name varchar(64) PRIMARY KEY,
            zone varchar(64) NOT NULL,
            weekly jsonb NOT NULL,
            makeup_hours jsonb NOT NULL,
            description text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE calendar_years (
            calendar varchar(64) NOT NULL REFERENCES calendars (name),
            year integer NOT NULL CHECK (year BETWEEN 1970 AND 2200),
            version integer NOT NULL CHECK (version >= 1),
            holidays date[] NOT NULL,
            makeup_days date[] NOT NULL,
            source text NOT NULL,
            loaded_by varchar(128) NOT NULL,
            loaded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (calendar, year, version)
        );
        CREATE TABLE policies (
            name varchar(64) NOT NULL,
            version integer NOT NULL CHECK (version >= 1),
            body jsonb NOT NULL,
            created_by varchar(128) NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (name, version)
        );
        CREATE TABLE contract_terms (
            contract_id varchar(64) PRIMARY KEY,
            policy varchar(64) NOT NULL,
            calendar varchar(64) NOT NULL REFERENCES calendars (name),
            updated_by varchar(128) NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE sla_cases (
            case_id uuid PRIMARY KEY,
            organisation_id uuid NOT NULL,
            contract_id varchar(64) NOT NULL,
            opened_tier varchar(2) NOT NULL,
            tier varchar(2) NOT NULL,
            status varchar(32) NOT NULL,
            policy varchar(64) NOT NULL,
            policy_version integer NOT NULL,
            calendar varchar(64) NOT NULL,
            opened_at timestamptz NOT NULL
        );
        -- What happened to each case, as the engine heard it: clocks are rebuilt from these in time order.
        CREATE TABLE case_facts (
            case_id uuid NOT NULL,
            seq bigserial NOT NULL,
            event_id uuid NOT NULL,
            at timestamptz NOT NULL,
            kind varchar(16) NOT NULL,
            clock varchar(32),
            subject varchar(64) NOT NULL DEFAULT '',
            before varchar(32),
            after varchar(32),
            tier varchar(2),
            PRIMARY KEY (case_id, seq)
        );
        -- One event may be several facts (a complaint starts two clocks), each recorded once.
        CREATE UNIQUE INDEX case_facts_once ON case_facts (event_id, coalesce(clock, ''));
        CREATE TABLE clocks (
            id bigserial PRIMARY KEY,
            case_id uuid NOT NULL REFERENCES sla_cases (case_id),
            clock varchar(32) NOT NULL,
            subject varchar(64) NOT NULL DEFAULT '',
            tier varchar(2) NOT NULL,
            started_at timestamptz NOT NULL,
            pauses jsonb NOT NULL DEFAULT '[]',
            stopped_at timestamptz,
            tier_history jsonb NOT NULL DEFAULT '[]',
            outcome varchar(16) NOT NULL,
            deadline timestamptz,
            at_risk_since timestamptz,
            breached_at timestamptz,
            fired text[] NOT NULL DEFAULT '{}',
            next_mark varchar(32),
            next_due_at timestamptz,
            updated_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (case_id, clock, subject)
        );
        -- The durable timers: only clocks with something left to fire are in this index.
        CREATE INDEX clocks_due ON clocks (next_due_at) WHERE next_due_at IS NOT NULL;
        CREATE INDEX clocks_open ON clocks (deadline) WHERE stopped_at IS NULL;
    """)
    _seed()


def _seed() -> None:
    from sla.domain.calendars_data import DEFAULT_CALENDARS, china_years
    from sla.domain.policy import DEFAULT_POLICY

    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO policies (name, version, body, created_by) VALUES (:n, :v, :b, 'migration')"),
                 {"n": DEFAULT_POLICY.name, "v": DEFAULT_POLICY.version, "b": DEFAULT_POLICY.model_dump_json()})
    for spec in DEFAULT_CALENDARS:
        bind.execute(sa.text("INSERT INTO calendars (name, zone, weekly, makeup_hours, description) "
                             "VALUES (:name, :zone, :weekly, :makeup, :description)"),
                     {"name": spec.name, "zone": spec.zone, "weekly": json.dumps(spec.weekly_json()),
                      "makeup": json.dumps(spec.makeup_json()), "description": spec.description})
        if spec.official_years:
            for year, holidays, makeup, source in china_years():
                bind.execute(sa.text(
                    "INSERT INTO calendar_years (calendar, year, version, holidays, makeup_days, source, loaded_by) "
                    "VALUES (:c, :y, 1, :h, :m, :s, 'migration')"),
                    {"c": spec.name, "y": year, "h": sorted(holidays), "m": sorted(makeup), "s": source})


def downgrade() -> None:
    op.execute("DROP TABLE clocks; DROP TABLE case_facts; DROP TABLE sla_cases; DROP TABLE contract_terms; "
               "DROP TABLE policies; DROP TABLE calendar_years; DROP TABLE calendars;")
