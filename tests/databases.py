"""Test databases: SQLite files by default; PostgreSQL when BURGERBEEST_TEST_DATABASE_URL points
at a server (`.ci/run` starts one and runs the whole suite a second time against it).

On PostgreSQL every test gets a database of its own, copied from a template migrated once per
session, and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bot.migrate import upgrade
from models.database import create_engine

SERVER_ENV = "BURGERBEEST_TEST_DATABASE_URL"
TEMPLATE = "burgerbeest_template"


def server_url() -> str | None:
    """The PostgreSQL server to test against, or None for SQLite."""
    return os.environ.get(SERVER_ENV) or None


def dialect() -> str:
    return "postgresql" if server_url() else "sqlite"


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin(statement: str) -> None:
    url = make_url(server_url())
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_template() -> None:
    """A database migrated to head, for fast per-test copies."""

    async def run() -> None:
        await _admin(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{TEMPLATE}"')
        engine = create_engine(_with_database(server_url(), TEMPLATE))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def new_database(directory: Path, *, migrated: bool) -> tuple[str, str | None]:
    """(URL, name to drop afterwards): a fresh SQLite file, or a fresh PostgreSQL database —
    a copy of the migrated template, or empty."""
    server = server_url()
    if server is None:
        return f"sqlite+aiosqlite:///{directory / 'burgerbeest.sqlite3'}", None
    name = f"test_{uuid.uuid4().hex[:16]}"
    template = TEMPLATE if migrated else "template0"
    asyncio.run(_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return _with_database(server, name), name


def drop_database(name: str | None) -> None:
    if name is not None:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
