"""Fixtures for the clients tests: a few clients in the practice and look-alikes in the
other practice (same names), so a missing practice filter shows up as an extra row."""

from __future__ import annotations

import pytest

from clients.models import Client
from tests.factories import ClientFactory


@pytest.fixture
def clara_client(tenant, other_tenant) -> Client:
    """A client of Clara (tenant.clinician)."""
    ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima", email="ana@twin.test")
    return ClientFactory(
        practice=tenant.practice,
        first_name="Ana",
        last_name="Lima",
        email="ana@mail.test",
        phone="207-555-0101",
        clinicians=[tenant.clinician],
    )


@pytest.fixture
def daniel_client(tenant) -> Client:
    """A client of Daniel (tenant.clinician2), not of Clara."""
    return ClientFactory(
        practice=tenant.practice,
        first_name="Bruno",
        last_name="Costa",
        email="bruno@mail.test",
        phone="207-555-0202",
        clinicians=[tenant.clinician2],
    )
