"""The farm's first schema: farm_jobs, farm_attempts, farm_results (see verifier/farm/models.py).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ACTIVE = sa.text("state IN ('QUEUED', 'RUNNING')")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "farm_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("time_limit", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
    )
    op.create_index("ix_farm_jobs_dedupe_key", "farm_jobs", ["dedupe_key"])
    op.create_index("ix_farm_jobs_state", "farm_jobs", ["state"])
    op.create_index("farm_jobs_active_dedupe", "farm_jobs", ["dedupe_key"], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_table(
        "farm_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("farm_jobs.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(255), nullable=False),
        sa.Column("started_at", _when(), nullable=False),
        sa.Column("deadline_at", _when(), nullable=False),
        sa.Column("finished_at", _when(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("job_id", "number", name="farm_attempts_job_number"),
    )
    op.create_index("ix_farm_attempts_job_id", "farm_attempts", ["job_id"])
    op.create_index("ix_farm_attempts_outcome", "farm_attempts", ["outcome"])
    op.create_table(
        "farm_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("farm_jobs.id"), nullable=False, unique=True),
        sa.Column("attempt_id", sa.Integer(), sa.ForeignKey("farm_attempts.id"), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("release_name", sa.Text(), nullable=False),
        sa.Column("release_version", sa.Text(), nullable=False),
        sa.Column("report", sa.LargeBinary(), nullable=False),
        sa.Column("report_sha256", sa.String(64), nullable=False),
        sa.Column("report_size", sa.Integer(), nullable=False),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("worker", sa.String(255), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=True),
        sa.Column("envelope_sha256", sa.String(64), nullable=True),
        sa.Column("signed_at", _when(), nullable=True),
        sa.Column("signer", sa.Text(), nullable=True),
    )
    op.create_index("ix_farm_results_verdict", "farm_results", ["verdict"])
    op.create_index("ix_farm_results_release_name", "farm_results", ["release_name"])


def downgrade() -> None:
    op.drop_table("farm_results")
    op.drop_table("farm_attempts")
    op.drop_table("farm_jobs")
