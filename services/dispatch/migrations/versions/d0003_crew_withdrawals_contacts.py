"""On-site crews, withdrawn notices, the role contact directory, deferred assignment and ordering.

- `visits.crew`: the engineers asked to join a visit to meet the tier's minimum staffing, each with
  the reasons they were chosen; `visits.staffing_required` is the minimum when the visit was
  required.
- `notifications.about`: what a notice is about (`chase:<case>:<engineer>`: an acknowledgement
  chase), so that a held notice whose reason went away (the engineer acknowledged, the case was
  reassigned) is withdrawn unsent.
- `role_contacts`: who a role (dispatcher, project manager, the L1-L5 managers) is, managed through
  the API; a role without a row falls back to the `SD_CONTACTS` setting.
- `dispatch_cases.assign_due_at`: when to assign a case that waits (a P2-P4 opened while the desk
  is closed, or one nobody could take); `status_at`/`tier_at`: when the last applied change
  happened, so an older one heard late is ignored. `skill`/`region` become text: a case's vendor
  and system joined can exceed 128 characters.
- Indexes for a case's activities and visits, and at most one open assignment per case.

Revision ID: d0003
Revises: d0002
"""

from alembic import op

revision = "d0003"
down_revision = "d0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE dispatch_cases ALTER COLUMN skill TYPE text, ALTER COLUMN region TYPE text,
                                   ADD COLUMN assign_due_at timestamptz,
                                   ADD COLUMN status_at timestamptz,
                                   ADD COLUMN tier_at timestamptz;
        CREATE INDEX dispatch_cases_assign_due ON dispatch_cases (assign_due_at) WHERE assign_due_at IS NOT NULL;
        CREATE INDEX activities_of_case ON activities (case_id);
        CREATE INDEX visits_of_case ON visits (case_id);
        CREATE UNIQUE INDEX assignments_one_open ON assignments (case_id) WHERE ended_at IS NULL;
        ALTER TABLE visits ADD COLUMN crew jsonb NOT NULL DEFAULT '[]',
                           ADD COLUMN staffing_required integer NOT NULL DEFAULT 1;
        ALTER TABLE notifications ADD COLUMN about varchar(200);
        ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
        ALTER TABLE notifications ALTER COLUMN status TYPE varchar(10);
        ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
            CHECK (status IN ('pending', 'sent', 'failed', 'withdrawn'));
        CREATE INDEX notifications_pending_about ON notifications (about) WHERE status = 'pending';
        CREATE TABLE role_contacts (
            role varchar(64) PRIMARY KEY,
            name varchar(200) NOT NULL,
            email varchar(320) NOT NULL,
            phone varchar(40),
            language varchar(5) NOT NULL,
            updated_by varchar(128) NOT NULL,
            updated_at timestamptz NOT NULL
        );
    """)


def downgrade() -> None:
    op.execute("""
        DROP TABLE role_contacts;
        DROP INDEX notifications_pending_about;
        DELETE FROM notifications WHERE status = 'withdrawn';
        ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
        ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
            CHECK (status IN ('pending', 'sent', 'failed'));
        ALTER TABLE notifications ALTER COLUMN status TYPE varchar(8);
        ALTER TABLE notifications DROP COLUMN about;
        ALTER TABLE visits DROP COLUMN staffing_required, DROP COLUMN crew;
        DROP INDEX assignments_one_open; DROP INDEX visits_of_case; DROP INDEX activities_of_case;
        DROP INDEX dispatch_cases_assign_due;
        ALTER TABLE dispatch_cases DROP COLUMN tier_at, DROP COLUMN status_at, DROP COLUMN assign_due_at;
    """)
