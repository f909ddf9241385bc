"""Alembic migrations of the bank schema."""
