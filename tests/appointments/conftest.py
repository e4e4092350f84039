"""Fixtures the appointments tests share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from appointments.services import appointment_mark_completed
from tests.factories import ClientFactory, ServiceFactory, make_appointment, past_start


@pytest.fixture
def service(tenant):
    return ServiceFactory(practice=tenant.practice, name="Individual therapy", price=Decimal("120.00"))


@pytest.fixture
def ada(tenant):
    """A client of Clara (tenant.clinician)."""
    client = ClientFactory(practice=tenant.practice, first_name="Ada", last_name="Lovelace")
    client.clinicians.add(tenant.clinician)
    return client


@pytest.fixture
def therapy(practice):
    return ServiceFactory(practice=practice, name="Individual therapy", code="IND", price=Decimal("150.00"))


@pytest.fixture
def client_a(practice):
    return ClientFactory(practice=practice, first_name="Ana", last_name="Aho")


@pytest.fixture
def completed(tenant):
    """Clara's (tenant.clinician's) completed session with Ada Lovelace, billed 120.00."""
    service = ServiceFactory(practice=tenant.practice, name="Individual therapy", price=Decimal("120.00"))
    ada = ClientFactory(practice=tenant.practice, first_name="Ada", last_name="Lovelace")
    appointment = make_appointment(
        tenant.practice, tenant.owner, tenant.clinician, [ada], [service], past_start(tenant.practice)
    )
    appointment_mark_completed(appointment=appointment, actor=tenant.owner)
    return appointment
