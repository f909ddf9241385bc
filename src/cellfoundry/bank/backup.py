"""Backups of the bank: SQLite's online backup API, PostgreSQL's pg_dump / pg_restore.

:func:`backup` copies a live bank to a file without stopping writers (SQLite
copies pages under its own locking; ``pg_dump`` reads one consistent snapshot).
:func:`restore` loads such a file into an *empty* database and refuses one that
already holds a bank, so a restore never merges two collections by accident.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa

from cellfoundry.core.errors import ConflictError, ValidationError

__all__ = ["backup", "restore"]


def _libpq_url(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ValidationError(
            f"{name} is not installed; install Debian's postgresql-client to back up PostgreSQL",
            field="database",
        )
    return path


def backup(engine: sa.Engine, path: str | Path) -> Path:
    """Write a backup of the bank behind ``engine`` to ``path`` and return the path.

    SQLite gets a database file (a plain SQLite bank); PostgreSQL a ``pg_dump``
    custom-format archive.
    """
    target = Path(path)
    if target.exists():
        raise ConflictError("the backup file exists already", source=str(target), field="path")
    tmp = target.with_name(target.name + ".partial")
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            dest = sqlite3.connect(tmp)
            with dest:
                source.backup(dest)
            dest.close()
        finally:
            raw.close()
    else:
        subprocess.run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={tmp}",
                _libpq_url(engine.url),
            ],
            check=True,
            capture_output=True,
        )
    tmp.rename(target)
    return target


def restore(engine: sa.Engine, path: str | Path) -> None:
    """Load the backup at ``path`` into the empty database behind ``engine``."""
    source = Path(path)
    if not source.is_file():
        raise ValidationError("no backup file here", source=str(source), field="path")
    if sa.inspect(engine).get_table_names():
        raise ConflictError(
            "the target database is not empty; restore into a new, empty database",
            source=str(source),
            field="database",
        )
    if engine.dialect.name == "sqlite":
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            if src.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise ValidationError("the backup file is damaged", source=str(source))
            raw = engine.raw_connection()
            try:
                dest = raw.driver_connection
                assert isinstance(dest, sqlite3.Connection)
                src.backup(dest)
            finally:
                raw.close()
        except sqlite3.DatabaseError as err:
            raise ValidationError(f"not a SQLite bank backup ({err})", source=str(source)) from err
        finally:
            src.close()
        return
    done = subprocess.run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            f"--dbname={_libpq_url(engine.url)}",
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise ValidationError(
            f"pg_restore refused the file: {done.stderr.strip()[:300]}", source=str(source)
        )
