"""Where the embedded PostgreSQL keeps its data and how its socket is addressed, and the compose
file that runs the production stack."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from practice.embedded import ROOT_DATA_HOME, pg_data_dir, postgres_url_for_socket

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_postgres_data_stays_in_the_project_unless_root_would_open_a_private_folder(tmp_path):
    project = tmp_path / "open" / "project"
    project.mkdir(parents=True)
    for folder in (project, project.parent, tmp_path):
        folder.chmod(0o755)
    assert pg_data_dir(project, euid=1000) == project / ".run" / "pgdata"
    if all(os.stat(p).st_mode & stat.S_IROTH and os.stat(p).st_mode & stat.S_IXOTH for p in tmp_path.parents):
        assert pg_data_dir(project, euid=0) == project / ".run" / "pgdata"
    private = tmp_path / "home"
    inside = private / "project"
    inside.mkdir(parents=True)
    private.chmod(0o700)
    try:
        chosen = pg_data_dir(inside, euid=0)
        assert chosen.parent == ROOT_DATA_HOME and chosen.name.startswith("pg-")
        assert pg_data_dir(inside, euid=1000) == inside / ".run" / "pgdata"
    finally:
        private.chmod(0o755)


def test_the_socket_url_is_read_back_as_the_socket_folder():
    import environ

    cfg = environ.Env.db_url_config(postgres_url_for_socket(Path("/srv/app/.run/pgdata")))
    assert (cfg["HOST"], cfg["NAME"], cfg["USER"]) == ("/srv/app/.run/pgdata", "practica", "postgres")


def test_the_compose_file_runs_the_production_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= set(services)
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "worker" in " ".join(services["worker"]["command"]) and "beat" in " ".join(services["beat"]["command"])
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_ENV"] == "production", name
        assert "SECRET_KEY" in env and "DATABASE_URL" in env and "REDIS_URL" in env, name
    # gunicorn is reachable only from the host (the TLS proxy), never published openly
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
