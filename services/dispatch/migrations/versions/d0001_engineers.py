"""Engineers (skills, regions, shifts, on-call rota), the cases dispatch follows, assignments with
their acknowledgement chase (one durable timer per assignment), activities and visits.

Revision ID: d0001
Revises: sk0001
"""

from alembic import op

revision = "d0001"
down_revision = "sk0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE engineers (
            username varchar(128) PRIMARY KEY,
            name varchar(200) NOT NULL,
            email varchar(320) NOT NULL,
            phone varchar(40) NOT NULL,
            language varchar(5) NOT NULL DEFAULT 'zh',
            skills text[] NOT NULL DEFAULT '{}',
            regions text[] NOT NULL DEFAULT '{}',
            expert boolean NOT NULL DEFAULT false,
            zone varchar(64) NOT NULL DEFAULT 'Asia/Shanghai',
            shifts jsonb NOT NULL DEFAULT '{}',
            on_call jsonb NOT NULL DEFAULT '[]',
            active boolean NOT NULL DEFAULT true,
            open_cases integer NOT NULL DEFAULT 0 CHECK (open_cases >= 0),
            idle_since timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX engineers_skills ON engineers USING gin (skills) WHERE active;
        CREATE TABLE dispatch_cases (
            case_id uuid PRIMARY KEY,
            case_number varchar(32) NOT NULL,
            organisation_id uuid NOT NULL,
            tier varchar(2) NOT NULL,
            status varchar(32) NOT NULL,
            skill varchar(128) NOT NULL,
            region varchar(64),
            title varchar(200) NOT NULL,
            opened_at timestamptz NOT NULL,
            engineer varchar(128) REFERENCES engineers (username),
            acknowledged_at timestamptz,
            first_contact_at timestamptz,
            staffing_required integer NOT NULL DEFAULT 1,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE assignments (
            id bigserial PRIMARY KEY,
            case_id uuid NOT NULL REFERENCES dispatch_cases (case_id),
            engineer varchar(128) NOT NULL REFERENCES engineers (username),
            kind varchar(16) NOT NULL,
            assigned_by varchar(128) NOT NULL,
            reasons jsonb NOT NULL,
            assigned_at timestamptz NOT NULL,
            acknowledged_at timestamptz,
            ended_at timestamptz,
            ended_because varchar(32),
            chase_anchor timestamptz NOT NULL,
            fired text[] NOT NULL DEFAULT '{}',
            next_mark varchar(32),
            next_due_at timestamptz
        );
        CREATE INDEX assignments_due ON assignments (next_due_at) WHERE next_due_at IS NOT NULL;
        CREATE INDEX assignments_of_case ON assignments (case_id, id);
        CREATE TABLE activities (
            id uuid PRIMARY KEY,
            case_id uuid NOT NULL REFERENCES dispatch_cases (case_id),
            engineer varchar(128) NOT NULL,
            kind varchar(20) NOT NULL,
            summary text NOT NULL,
            happened_at timestamptz NOT NULL,
            logged_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE visits (
            id uuid PRIMARY KEY,
            case_id uuid NOT NULL REFERENCES dispatch_cases (case_id),
            state varchar(20) NOT NULL,
            engineers text[] NOT NULL DEFAULT '{}',
            eta timestamptz,
            history jsonb NOT NULL DEFAULT '[]',
            sign_off jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        -- An engineer's recorded activity is immutable: refuse edits and deletions at the source.
        CREATE FUNCTION activities_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'activities are immutable once logged';
        END $$;
        CREATE TRIGGER activities_immutable BEFORE UPDATE OR DELETE ON activities
            FOR EACH ROW EXECUTE FUNCTION activities_are_immutable();
    """)


def downgrade() -> None:
    op.execute("DROP TABLE visits; DROP TABLE activities; DROP FUNCTION activities_are_immutable() CASCADE; "
               "DROP TABLE assignments; DROP TABLE dispatch_cases; DROP TABLE engineers;")
