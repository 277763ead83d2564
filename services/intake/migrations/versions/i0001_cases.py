"""Cases, their append-only timeline and resolution records.

Revision ID: i0001
Revises: sk0001
"""

from alembic import op

revision = "i0001"
down_revision = "sk0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A snapshot of the schema at this revision (later revisions alter it; tables.py is the present).
    op.execute("""
        CREATE TABLE cases (
            id uuid PRIMARY KEY,
            number varchar(20) NOT NULL UNIQUE,
            organisation_id uuid NOT NULL,
            contract_id varchar(64) NOT NULL,
            system_id varchar(64) NOT NULL,
            vendor varchar(100),
            region varchar(64),
            catalogue_item varchar(100),
            case_type varchar(20) NOT NULL,
            reporter jsonb NOT NULL,
            title varchar(200) NOT NULL,
            description text NOT NULL,
            impact jsonb NOT NULL,
            urgency varchar(10) NOT NULL,
            channel varchar(20) NOT NULL,
            tier varchar(2) NOT NULL,
            suggested_tier varchar(2) NOT NULL,
            status varchar(30) NOT NULL,
            assignee varchar(128),
            version integer NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE TABLE timeline (
            id bigserial PRIMARY KEY,
            case_id uuid NOT NULL REFERENCES cases (id),
            at timestamptz NOT NULL DEFAULT now(),
            kind varchar(40) NOT NULL,
            actor varchar(128) NOT NULL,
            internal boolean NOT NULL,
            summary text NOT NULL,
            data jsonb NOT NULL
        );
        CREATE TABLE resolutions (
            case_id uuid PRIMARY KEY REFERENCES cases (id),
            record jsonb NOT NULL,
            recorded_by varchar(128) NOT NULL,
            recorded_at timestamptz NOT NULL
        );
        ALTER TABLE cases ADD COLUMN search tsvector GENERATED ALWAYS AS
            (to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, ''))) STORED;
        CREATE INDEX cases_search ON cases USING gin (search);
        CREATE INDEX cases_org_created ON cases (organisation_id, created_at DESC, id);
        CREATE INDEX cases_created ON cases (created_at DESC, id);
        CREATE INDEX cases_updated ON cases (updated_at DESC, id);
        CREATE INDEX cases_status ON cases (status);
        CREATE INDEX timeline_case ON timeline (case_id, id);

        -- The timeline is append-only: a recorded update can never be edited or deleted.
        CREATE FUNCTION timeline_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'timeline entries are append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER timeline_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON timeline
            FOR EACH STATEMENT EXECUTE FUNCTION timeline_append_only();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER timeline_append_only ON timeline; DROP FUNCTION timeline_append_only();"
               "DROP TABLE resolutions; DROP TABLE timeline; DROP TABLE cases;")
