"""Shared fixtures.

Every test that uses ``practice`` also gets ``other_practice``: a look-alike tenant with
the same names, so that a query missing its practice filter shows up as a wrong row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from payments.fakestripe import redact_key
from practice.celery import app as celery_app
from practice.models import Membership, Practice, Role, User
from tests import stripe_requests
from tests.factories import MembershipFactory, PracticeFactory, UserFactory
from tests.helpers import signed_in


@pytest.fixture(autouse=True)
def _fast_hashing_and_eager_tasks(settings):
    # Argon2 is the production hasher (tested in test_settings); tests hash faster.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Celery runs tasks in-process unless a test starts a real worker (tests/test_worker.py).
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def no_app_jobs(monkeypatch):
    """The scheduler without the jobs the apps register (invoice creation, reminders...):
    a scheduler test registers its own and sees only those."""
    from practice import jobs

    monkeypatch.setattr(jobs, "_registry", {})


@pytest.fixture(scope="session", autouse=True)
def _stripe_must_not_see() -> None:
    """Learn, as the tests save them, the names and notes no Stripe request may carry."""
    stripe_requests.watch()


_STRIPE_SCAN = pytest.StashKey[tuple[int, list[str]]]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any Stripe request the app made during it (the fake's logs, which
    the ``fake_stripe`` fixture collects) lacks a row-derived Idempotency-Key on a POST or
    carries a service name, a clinician's name or a note (issue 14)."""
    scanned, found = stripe_requests.report(
        stripe_requests.STORE, harness_keys=[redact_key(stripe_requests.HARNESS_KEY)]
    )
    session.config.stash[_STRIPE_SCAN] = (scanned, found)
    if found and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    scanned, found = config.stash.get(_STRIPE_SCAN, (0, []))
    if not scanned:
        return
    if not found:
        terminalreporter.write_line(
            f"Stripe request scan: {scanned} requests the app made, every POST keyed by a local row, "
            "no service name, clinician name or note."
        )
        return
    terminalreporter.section("Stripe request scan failed", sep="=", red=True, bold=True)
    terminalreporter.write_line(f"{len(found)} problem(s) in {scanned} requests the app made to Stripe:")
    for line in found:
        terminalreporter.write_line(f"  {line}")


@dataclass
class Tenant:
    practice: Practice
    owner: User
    admin: User
    biller: User
    clinician: User
    clinician2: User

    def member(self, role: str) -> User:
        return {
            Role.OWNER: self.owner,
            Role.ADMIN: self.admin,
            Role.BILLER: self.biller,
            Role.CLINICIAN: self.clinician,
        }[role]


def build_tenant(slug: str, name: str, email_domain: str, timezone: str = "America/New_York") -> Tenant:
    practice = PracticeFactory(slug=slug, name=name, timezone=timezone)
    users = {}
    for key, role, first in (
        ("owner", Role.OWNER, "Olivia"),
        ("admin", Role.ADMIN, "Adam"),
        ("biller", Role.BILLER, "Bella"),
        ("clinician", Role.CLINICIAN, "Clara"),
        ("clinician2", Role.CLINICIAN, "Daniel"),
    ):
        user = UserFactory(email=f"{key}@{email_domain}", first_name=first, last_name="Test")
        MembershipFactory(user=user, practice=practice, role=role)
        users[key] = user
    return Tenant(practice=practice, **users)


@pytest.fixture
def tenant(db) -> Tenant:
    return build_tenant("harbour", "Harbour Street Therapy", "harbour.test")


@pytest.fixture
def other_tenant(db) -> Tenant:
    # Same practice name and staff names: only the ids and the slug differ.
    return build_tenant("harbour-twin", "Harbour Street Therapy", "twin.test")


@pytest.fixture
def practice(tenant, other_tenant) -> Practice:
    return tenant.practice


@pytest.fixture
def other_practice(other_tenant) -> Practice:
    return other_tenant.practice


@pytest.fixture
def root(db) -> User:
    """A platform superuser (Django admin), member of no practice."""
    return UserFactory(email="root@platform.test", is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


@pytest.fixture
def owner_client(tenant, other_tenant) -> Client:
    return signed_in(tenant.owner)


@pytest.fixture
def membership(tenant) -> Membership:
    return Membership.objects.get(user=tenant.owner, practice=tenant.practice)
