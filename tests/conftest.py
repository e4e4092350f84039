"""Shared fixtures.

Every test that uses ``practice`` also gets ``other_practice``: a look-alike tenant with
the same names, so that a query missing its practice filter shows up as a wrong row.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from practice.celery import app as celery_app
from practice.models import Membership, Practice, Role, User
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
