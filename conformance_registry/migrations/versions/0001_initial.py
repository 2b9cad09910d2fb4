"""The first schema: platforms, certificates with their status history, runs, reports, the registry's serial.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table("platforms",
                    sa.Column("id", sa.String(40), primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("vendor", sa.String(200), nullable=False),
                    sa.Column("base_url", sa.String(2000), nullable=False),
                    sa.Column("profiles", sa.JSON, nullable=False),
                    sa.Column("sealed_secrets", sa.LargeBinary, nullable=False),
                    sa.Column("created_at", WHEN, nullable=False))
    op.create_table("reports",
                    sa.Column("digest", sa.String(80), primary_key=True),
                    sa.Column("gzipped", sa.LargeBinary, nullable=False),
                    sa.Column("created_at", WHEN, nullable=False))
    op.create_table("runs",
                    sa.Column("id", sa.String(40), primary_key=True),
                    sa.Column("platform_id", sa.String(40), sa.ForeignKey("platforms.id"), nullable=False, index=True),
                    sa.Column("profile_id", sa.String(100), nullable=False),
                    sa.Column("certificate_id", sa.String(40), nullable=True),
                    sa.Column("trigger", sa.String(20), nullable=False),
                    sa.Column("state", sa.String(20), nullable=False, index=True),
                    sa.Column("attempts", sa.Integer, nullable=False),
                    sa.Column("exit_code", sa.Integer, nullable=True),
                    sa.Column("verdict", sa.String(40), nullable=True),
                    sa.Column("report_digest", sa.String(80), nullable=True),
                    sa.Column("outcome_certificate_id", sa.String(40), nullable=True),
                    sa.Column("error", sa.Text, nullable=True),
                    sa.Column("queued_at", WHEN, nullable=False),
                    sa.Column("started_at", WHEN, nullable=True),
                    sa.Column("finished_at", WHEN, nullable=True))
    op.create_table("certificates",
                    sa.Column("id", sa.String(40), primary_key=True),
                    sa.Column("platform_id", sa.String(40), sa.ForeignKey("platforms.id"), nullable=False, index=True),
                    sa.Column("profile_id", sa.String(100), nullable=False),
                    sa.Column("profile_version", sa.String(100), nullable=False),
                    sa.Column("document", sa.JSON, nullable=False),
                    sa.Column("status", sa.String(20), nullable=False, index=True),
                    sa.Column("issued_at", WHEN, nullable=False),
                    sa.Column("valid_until", WHEN, nullable=False),
                    sa.Column("last_run_at", WHEN, nullable=False),
                    sa.Column("status_changed_at", WHEN, nullable=False))
    op.create_table("status_reports",
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("certificate_id", sa.String(40), sa.ForeignKey("certificates.id"), nullable=False,
                              index=True),
                    sa.Column("status", sa.String(20), nullable=False),
                    sa.Column("effective_at", WHEN, nullable=False),
                    sa.Column("reason", sa.Text, nullable=False),
                    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=True),
                    sa.Column("report_digest", sa.String(80), nullable=True))
    op.create_table("registry_state",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("serial", sa.Integer, nullable=False),
                    sa.Column("content_digest", sa.String(80), nullable=False),
                    sa.Column("updated_at", WHEN, nullable=False))


def downgrade() -> None:
    for table in ("registry_state", "status_reports", "certificates", "runs", "reports", "platforms"):
        op.drop_table(table)
