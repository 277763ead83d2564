"""Cases, their append-only timeline and resolution records.

Revision ID: i0001
Revises: sk0001
"""

from alembic import op

from intake.adapters.tables import metadata

revision = "i0001"
down_revision = "sk0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind)
    op.execute("""
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
    op.execute("DROP TRIGGER timeline_append_only ON timeline; DROP FUNCTION timeline_append_only();")
    metadata.drop_all(op.get_bind())
