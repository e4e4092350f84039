"""Production mode: refuses to start without SECRET_KEY, clean under check --deploy
(issue 3 part 2). Each test starts a real ``manage.py`` process with production settings."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.practice.helpers import manage


def test_production_settings_pass_check_deploy_without_a_single_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", SECRET_KEY=None)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_an_empty_secret_key():
    result = manage("check", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_development_secret_key():
    result = manage("check", SECRET_KEY=settings.DEVELOPMENT_SECRET_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_turns_debug_off_and_on_the_secure_settings():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS >= 31536000, s.ALLOWED_HOSTS)"
    )
    result = manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False True True True True ['practica.example']"


@pytest.mark.parametrize("env", ["prod", "staging"])
def test_an_unknown_django_env_is_refused(env):
    result = manage("check", DJANGO_ENV=env)
    assert result.returncode != 0
    assert "DJANGO_ENV" in result.stderr


def test_a_strict_content_security_policy_is_sent(client, db):
    response = client.get("/signin/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


IS_SECURE = (
    "from django.test import RequestFactory;"
    "from django.conf import settings as s;"
    "r = RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https');"
    "print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None), r.is_secure())"
)


def test_without_a_trusted_proxy_a_client_sent_forwarded_proto_is_not_believed():
    # Given production settings with no proxy configured
    result = manage("shell", "-c", IS_SECURE, TRUSTED_PROXY_COUNT=None)
    assert result.returncode == 0, result.stderr
    # Then a request that claims X-Forwarded-Proto: https is still plain HTTP
    assert result.stdout.strip().splitlines()[-1] == "None False"


def test_behind_a_trusted_proxy_its_forwarded_proto_is_believed_and_check_deploy_stays_clean():
    result = manage("shell", "-c", IS_SECURE, TRUSTED_PROXY_COUNT="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "('HTTP_X_FORWARDED_PROTO', 'https') True"
    check = manage("check", "--deploy", "--fail-level", "WARNING", TRUSTED_PROXY_COUNT="1")
    assert check.returncode == 0, check.stdout + check.stderr
