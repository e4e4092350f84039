"""Helpers the practice tests share: signing in through the form, the dashboard's URL, TOTP
codes, a fixed clock start, and running manage.py in a subprocess under production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.models import Practice
from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]

# A fixed moment to start the clock at, so that time-based tests read the same every run.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sign_in(client: Client, email: str, password: str = PASSWORD, *, ip: str = "198.51.100.7", **extra):
    """Post the sign-in form as a person would, from the address ``ip``."""
    return client.post(reverse("signin"), {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)


def dashboard_url(practice: Practice) -> str:
    return reverse("dashboard", kwargs={"practice_slug": practice.slug})


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows right now for ``device``."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def page_text(response) -> str:
    return response.content.decode()


def manage(*args: str, **env_overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "ALLOWED_HOSTS"))
    }
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="practica.example",
        DATABASE_URL=os.environ.get("DATABASE_URL", ""),
        REDIS_URL=os.environ.get("REDIS_URL", settings.REDIS_URL),
    )
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    if not env["DATABASE_URL"]:
        env.pop("DATABASE_URL")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
