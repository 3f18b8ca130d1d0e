"""A PostgreSQL server for tests: ``SHEETS_HEALTH_PG_URL``, or a throwaway one started here.

The throwaway server lives in a temp dir (data + unix socket, no TCP listener), is started
once per test process on first use and stopped at exit. initdb refuses to run as root, so as
root the server runs as the ``postgres`` user (``runuser``). When no server can be had, tests
that need one are skipped with the reason, never failed.

    from tests.pg import pg_url, pg_schema
    url = pg_url()                 # skips the test when there is no server
    with pg_schema(url) as schema: # a fresh schema, dropped afterwards
        ...
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ENV = "SHEETS_HEALTH_PG_URL"
_START_TIMEOUT = 30


@dataclass(frozen=True)
class Server:
    url: str | None
    reason: str = ""


def _binaries() -> tuple[str, str] | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    initdb = candidates[-1] if candidates else shutil.which("initdb")
    if not initdb:
        return None
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    if not Path(pg_ctl).exists():
        pg_ctl = shutil.which("pg_ctl") or ""
    return (initdb, pg_ctl) if pg_ctl else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _can_connect(url: str) -> str:
    """'' when a connection works, else the reason (password masked)."""
    import sqlalchemy as sa

    from sheets_health.sources.common import mask_url, scrub, secrets_of

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return ""
    except Exception as exc:  # any failure means "no server": the tests skip
        return f"{mask_url(url)}: {scrub(str(exc).splitlines()[0], secrets_of(url))}"
    finally:
        engine.dispose()


def _start() -> Server:
    found = _binaries()
    if found is None:
        return Server(None, f"no PostgreSQL server: set {ENV} or install postgresql (initdb)")
    initdb, pg_ctl = found
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            return Server(None, "running as root and there is no 'postgres' user for initdb")
        runuser = shutil.which("runuser")
        if runuser is None:
            return Server(None, "running as root and runuser is not available")
        prefix = [runuser, "-u", "postgres", "--"]
    home = Path(tempfile.mkdtemp(prefix="shpg-"))
    if owner is not None:
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data = home / "data"
    port = _free_port()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, *args],
            capture_output=True,
            text=True,
            timeout=_START_TIMEOUT,
            check=False,
            cwd=home,
        )

    init = run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
    if init.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        return Server(None, f"initdb failed: {init.stderr.strip()[-300:]}")
    options = (
        f"-k {home} -p {port} -c listen_addresses='' -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    start = run(pg_ctl, "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start")
    if start.returncode != 0:
        log = (home / "log").read_text(errors="replace")[-300:] if (home / "log").exists() else ""
        shutil.rmtree(home, ignore_errors=True)
        return Server(None, f"pg_ctl start failed: {start.stderr.strip()[-300:]} {log}")

    def stop() -> None:
        run(pg_ctl, "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)

    atexit.register(stop)
    return Server(f"postgresql+psycopg://postgres@/postgres?host={home}&port={port}")


@functools.cache
def server() -> Server:
    url = os.environ.get(ENV)
    if url:
        reason = _can_connect(url)
        return Server(None, f"{ENV} is set but unreachable: {reason}") if reason else Server(url)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return Server(None, "psycopg is not installed (pip install 'sheets-health[postgres]')")
    started = _start()
    if started.url is not None:
        reason = _can_connect(started.url)
        if reason:
            return Server(None, f"the throwaway server does not answer: {reason}")
    return started


def pg_url() -> str:
    """The server's SQLAlchemy URL; skips the calling test when there is none."""
    found = server()
    if found.url is None:
        pytest.skip(f"PostgreSQL unavailable: {found.reason}")
    return found.url


@contextlib.contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema (safe on a shared server), dropped with everything in it afterwards."""
    import sqlalchemy as sa

    name = f"sh_test_{secrets.token_hex(4)}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.schema.CreateSchema(name))
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(sa.schema.DropSchema(name, cascade=True, if_exists=True))
        engine.dispose()
