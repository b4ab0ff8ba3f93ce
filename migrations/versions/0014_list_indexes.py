"""indexes for the bounded lists at a city's size: green families by naming date, households
by status (the staff list's filter, newest first)

Revision ID: 9b3e7f2a1c64
Revises: 6f1a3c8e5b27
Create Date: 2026-12-01 20:20:00

At a million households the green-families dataset scanned and sorted the whole table before
its first row (bench/scale_bench.py: ~100 ms to the first row, growing with the table); with
``(named_on, id)`` it walks the named ones in order.  ``(status, id)`` serves the staff list
filtered by status, newest first, on PostgreSQL (SQLite's index on ``district`` already ends
with the rowid).
"""
from alembic import op


revision = '9b3e7f2a1c64'
down_revision = '6f1a3c8e5b27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_households_named_on_id'), 'households', ['named_on', 'id'])
    op.create_index(op.f('ix_households_status_id'), 'households', ['status', 'id'])


def downgrade():
    op.drop_index(op.f('ix_households_status_id'), table_name='households')
    op.drop_index(op.f('ix_households_named_on_id'), table_name='households')
