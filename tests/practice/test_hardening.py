"""Admin behind the staff sign-in, client addresses behind a proxy, the 500 page, the
practice switcher, the embedded PostgreSQL data folder and the compose file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.embedded import ROOT_DATA_HOME, pg_data_dir, postgres_url_for_socket
from practice.models import AuditLog, Membership, Role
from tests.factories import UserFactory
from tests.helpers import PASSWORD, signed_in
from tests.practice.helpers import sign_in

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    user = UserFactory(email="platform@practica.test", is_superuser=True, is_staff=True)
    return user


def test_admin_has_no_sign_in_of_its_own(superuser):
    browser = Client()
    response = browser.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("signin"))
    # Posting credentials to it signs nobody in
    browser.post("/admin/login/", {"username": superuser.email, "password": PASSWORD})
    assert browser.get("/admin/").status_code == 302


def test_a_superuser_with_two_step_sign_in_needs_the_code_for_admin(superuser):
    device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    # A session that skipped the code (here: forced) does not open admin
    assert signed_in(superuser).get("/admin/").status_code == 302
    # The staff sign-in with the code does
    browser = Client()
    assert sign_in(browser, superuser.email).url == reverse("signin_code")
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"
    browser.post(reverse("signin_code"), {"token": code})
    assert browser.get("/admin/").status_code == 200


def test_a_superuser_without_two_step_sign_in_opens_admin(superuser):
    assert signed_in(superuser).get("/admin/").status_code == 200


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_lockouts_and_audit_rows_use_the_client_address(tenant):
    proxy = "10.0.0.5"
    # Someone at 198.51.100.66 fails five times on the admin's account
    for _ in range(5):
        Client().post(
            reverse("signin"),
            {"username": tenant.admin.email, "password": "wrong-password-123"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    # ... which locks the admin from that address, not from the proxy: another client still signs in
    other = Client()
    response = other.post(
        reverse("signin"),
        {"username": tenant.owner.email, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="spoofed-by-client, 203.0.113.20",
    )
    assert response.status_code == 302
    row = AuditLog.objects.filter(action="auth.signed_in", actor=tenant.owner).latest("id")
    assert row.ip_address == "203.0.113.20"
    locked = Client().post(
        reverse("signin"),
        {"username": tenant.admin.email, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.66",
    )
    assert locked.status_code in (403, 429)
    assert "locked for 15 minutes" in locked.content.decode()
    # ... while the admin herself, at her own address behind the same proxy, still signs in
    own = Client().post(
        reverse("signin"),
        {"username": tenant.admin.email, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="203.0.113.21",
    )
    assert own.status_code == 302


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(tenant):
    sign_in(Client(), tenant.owner.email, ip="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    row = AuditLog.objects.filter(action="auth.signed_in", actor=tenant.owner).latest("id")
    assert row.ip_address == "198.51.100.7"


@override_settings(ROOT_URLCONF="tests.practice.urls_error", DEBUG=False)
def test_the_500_page_leaks_nothing():
    browser = Client(raise_request_exception=False)
    response = browser.get("/fail/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    for secret in ("hunter2", "RuntimeError", "Traceback", "settings"):
        assert secret not in page


def test_the_switcher_lists_every_practice_and_home_goes_to_the_last_one(tenant, other_tenant):
    # Given the owner also works at the twin practice as a clinician
    Membership.objects.create(user=tenant.owner, practice=other_tenant.practice, role=Role.CLINICIAN)
    browser = signed_in(tenant.owner)
    # With no practice opened yet, home asks which one
    chooser = browser.get(reverse("home")).content.decode()
    assert chooser.count("Harbour Street Therapy") == 2
    # The switcher on a practice page links to both
    page = browser.get(reverse("dashboard", kwargs={"practice_slug": other_tenant.practice.slug})).content.decode()
    for practice in (tenant.practice, other_tenant.practice):
        assert f'href="{practice.get_absolute_url()}"' in page
    # Home now opens the practice used last
    assert browser.get(reverse("home")).url == other_tenant.practice.get_absolute_url()


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
