"""Audit runs, per-run device snapshots and the verdicts they share.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tool_version", sa.String(64), nullable=False),
        sa.Column("inventory", sa.Text(), nullable=False),
        sa.Column("inventory_format", sa.String(16), nullable=False),
        sa.Column("kb_documents", sa.Text(), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("invalid_rows", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("warnings", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unlisted", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("exposed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("patch_available", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("fixed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("not_affected", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("mitigated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unknown", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "verdicts",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("cves", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("remediation", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
    )
    op.create_index("ix_verdicts_run", "verdicts", ["run_id"])
    op.create_table(
        "devices",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("verdict_id", _ID, sa.ForeignKey("verdicts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("device_key", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("vendor_key", sa.String(128), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("firmware", sa.Text(), nullable=False),
        sa.Column("mac", sa.String(17), nullable=True),
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("ft", sa.Boolean(), nullable=True),
        sa.Column("pmf", sa.Boolean(), nullable=True),
        sa.Column("ciphers", sa.String(32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
    )
    op.create_index("ix_devices_run_key", "devices", ["run_id", "device_key"])


def downgrade() -> None:
    op.drop_index("ix_devices_run_key", table_name="devices")
    op.drop_table("devices")
    op.drop_index("ix_verdicts_run", table_name="verdicts")
    op.drop_table("verdicts")
    op.drop_table("runs")
