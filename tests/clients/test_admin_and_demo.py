"""Django admin for clients and payers, and the demo data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import Client, Payer
from practice.demo import load_demo_data
from practice.models import AuditLog, Practice
from tests.factories import ClientFactory, PayerFactory


@pytest.mark.django_db
def test_admin_lists_and_searches_clients_and_payers(superuser_client, tenant):
    payer = PayerFactory(practice=tenant.practice, email="karen@mail.test")
    ClientFactory(practice=tenant.practice, first_name="Lily", last_name="Whitaker", payer=payer)
    response = superuser_client.get(reverse("admin:clients_client_changelist"), {"q": "whitaker"})
    assert response.status_code == 200
    assert "Whitaker" in response.content.decode()
    assert superuser_client.get(reverse("admin:clients_payer_changelist"), {"q": "karen"}).status_code == 200
    assert superuser_client.get(reverse("admin:clients_payer_change", args=[payer.pk])).status_code == 200


@pytest.mark.django_db
def test_opening_a_client_in_admin_is_audited(superuser_client, tenant):
    client = ClientFactory(practice=tenant.practice)
    assert superuser_client.get(reverse("admin:clients_client_change", args=[client.pk])).status_code == 200
    row = AuditLog.objects.get(action="client.viewed")
    assert row.changes == {"section": "admin"}


@pytest.mark.django_db
def test_admin_refuses_a_payer_of_another_practice(superuser_client, tenant, other_tenant):
    client = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    foreign = PayerFactory(practice=other_tenant.practice)
    response = superuser_client.post(
        reverse("admin:clients_client_change", args=[client.pk]),
        {
            "practice": tenant.practice.pk,
            "status": "active",
            "first_name": "Ana",
            "last_name": "Lima",
            "payer": foreign.pk,
        },
    )
    assert response.status_code == 200  # the form again, with the error
    client.refresh_from_db()
    assert client.payer is None


@pytest.mark.django_db
def test_demo_data_is_idempotent_and_has_a_household():
    load_demo_data()
    first = Client.objects.count()
    load_demo_data()
    assert Client.objects.count() == first
    harbour = Practice.objects.get(slug="harbour-street")
    kowhai = Practice.objects.get(slug="kowhai")
    assert Client.objects.filter(practice=harbour).count() == 40
    assert Client.objects.filter(practice=harbour, status="archived").count() == 4
    assert Client.objects.filter(practice=kowhai).count() == 6
    karen = Payer.objects.get(practice=harbour, email="karen.whitaker@mail.example")
    assert karen.clients.count() == 2
    # Round-robin: each of the three clinicians has a third of the clients.
    counts = sorted(
        Client.objects.filter(practice=harbour, clinicians__email=f"clinician{n}@harbour.example").count()
        for n in (1, 2, 3)
    )
    assert counts == [13, 13, 14]
