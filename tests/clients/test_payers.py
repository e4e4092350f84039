"""Payers: one person paying for several clients (a household)."""

from __future__ import annotations

import pytest

from clients import services
from clients.models import Client, Payer
from practice.models import AuditLog
from tests.factories import ClientFactory, PayerFactory
from tests.helpers import url

PAYER = {
    "first_name": "Karen",
    "last_name": "Whitaker",
    "email": "karen@mail.test",
    "phone": "",
    "relationship": "parent",
    "address": "",
}


@pytest.mark.django_db
def test_given_two_children_when_one_payer_pays_for_both_then_invoices_go_to_the_payer(tenant, owner_client):
    lily = ClientFactory(practice=tenant.practice, first_name="Lily", email="")
    sam = ClientFactory(practice=tenant.practice, first_name="Sam", email="sam@mail.test")
    # When a payer is added for Lily, then linked to Sam as well
    response = owner_client.post(url(tenant, "clients:payer_new", client_id=lily.pk), PAYER)
    assert response.status_code == 302
    payer = Payer.objects.get(practice=tenant.practice)
    owner_client.post(url(tenant, "clients:payer_new", client_id=sam.pk), {"action": "link", "payer": payer.pk})
    # Then both bill to Karen
    lily.refresh_from_db()
    sam.refresh_from_db()
    assert lily.billing_email == sam.billing_email == "karen@mail.test"
    assert set(payer.clients.all()) == {lily, sam}
    # And each page names the payer and the rest of the household
    html = owner_client.get(url(tenant, "clients:detail", client_id=lily.pk)).content.decode()
    assert "karen@mail.test" in html
    assert "Also pays for" in html and sam.display_name in html
    assert AuditLog.objects.filter(action="payer.created").count() == 1
    assert AuditLog.objects.filter(action="client.updated").count() == 2


@pytest.mark.django_db
def test_editing_the_payer_changes_it_for_the_whole_household(tenant, owner_client):
    payer = PayerFactory(practice=tenant.practice, email="old@mail.test")
    a, b = ClientFactory.create_batch(2, practice=tenant.practice, payer=payer)
    page = owner_client.get(url(tenant, "clients:payer_edit", client_id=a.pk)).content.decode()
    assert "pays for 2 clients" in page
    owner_client.post(url(tenant, "clients:payer_edit", client_id=a.pk), {**PAYER, "email": "new@mail.test"})
    b.refresh_from_db()
    assert b.billing_email == "new@mail.test"
    row = AuditLog.objects.get(action="payer.updated")
    assert row.changes["email"] == ["old@mail.test", "new@mail.test"]


@pytest.mark.django_db
def test_a_payer_with_a_bad_email_is_not_saved(tenant, owner_client, clara_client):
    response = owner_client.post(
        url(tenant, "clients:payer_new", client_id=clara_client.pk), {**PAYER, "email": "nope"}
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not Payer.objects.exists()
    clara_client.refresh_from_db()
    assert clara_client.payer is None


@pytest.mark.django_db
def test_linking_a_payer_of_another_practice_is_404_and_changes_nothing(
    tenant, other_tenant, owner_client, clara_client
):
    foreign = PayerFactory(practice=other_tenant.practice)
    response = owner_client.post(
        url(tenant, "clients:payer_new", client_id=clara_client.pk), {"action": "link", "payer": foreign.pk}
    )
    assert response.status_code == 404
    clara_client.refresh_from_db()
    assert clara_client.payer is None


@pytest.mark.django_db
def test_choosing_no_payer_unlinks(tenant, owner_client):
    payer = PayerFactory(practice=tenant.practice)
    client = ClientFactory(practice=tenant.practice, payer=payer, email="own@mail.test")
    owner_client.post(url(tenant, "clients:payer_new", client_id=client.pk), {"action": "link", "payer": ""})
    client.refresh_from_db()
    assert client.payer is None
    assert client.billing_email == "own@mail.test"


@pytest.mark.django_db
def test_payer_edit_without_a_payer_is_404(tenant, owner_client, clara_client):
    assert owner_client.get(url(tenant, "clients:payer_edit", client_id=clara_client.pk)).status_code == 404


@pytest.mark.django_db
def test_the_household_shows_a_clinician_only_the_clients_they_may_see(tenant, clara_client, daniel_client):
    from tests.helpers import signed_in

    payer = PayerFactory(practice=tenant.practice)
    Client.objects.filter(pk__in=[clara_client.pk, daniel_client.pk]).update(payer=payer)
    html = signed_in(tenant.clinician).get(url(tenant, "clients:detail", client_id=clara_client.pk)).content.decode()
    assert "Bruno" not in html


@pytest.mark.django_db
def test_payer_create_service_refuses_clients_of_another_practice(tenant, other_tenant):
    foreign = ClientFactory(practice=other_tenant.practice)
    with pytest.raises(ValueError):
        services.payer_create(
            practice=tenant.practice,
            actor=tenant.owner,
            first_name="K",
            last_name="W",
            email="k@mail.test",
            clients=[foreign],
        )
    assert not Payer.objects.exists()
