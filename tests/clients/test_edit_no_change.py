"""Saving a client or a payer unchanged writes no audit row (issue 9 part 18)."""

from __future__ import annotations

import pytest

from clients import services
from clients.models import Client
from practice.models import AuditLog
from tests.factories import PayerFactory

pytestmark = pytest.mark.django_db


def test_saving_a_client_unchanged_writes_no_audit_row(tenant, clara_client):
    payer = PayerFactory(practice=tenant.practice)
    Client.objects.filter(pk=clara_client.pk).update(payer=payer)
    client = Client.objects.get(pk=clara_client.pk)
    services.client_update(
        client=client,
        actor=tenant.owner,
        first_name=client.first_name,
        last_name=client.last_name,
        preferred_name=client.preferred_name,
        email=client.email,
        phone=client.phone,
        date_of_birth=client.date_of_birth,
        address=client.address,
        clinicians=list(client.clinicians.all()),
        payer=payer,
    )
    assert not AuditLog.objects.filter(action="client.updated").exists()


def test_saving_a_payer_unchanged_writes_no_audit_row(tenant):
    payer = PayerFactory(practice=tenant.practice)
    services.payer_update(
        payer=payer,
        actor=tenant.owner,
        first_name=payer.first_name,
        last_name=payer.last_name,
        email=payer.email,
        phone=payer.phone,
        relationship=payer.relationship,
        address=payer.address,
    )
    assert not AuditLog.objects.filter(action="payer.updated").exists()
