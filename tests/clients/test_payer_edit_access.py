"""Who may change a payer (issue 9 part 19): owner, admin and biller always; a clinician
only a payer who pays for their own clients alone, since a change reaches every client."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from clients.models import Client, Payer
from clients.views import PAYER_SHARED
from practice.models import AuditLog, Role
from tests.factories import PayerFactory
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

PAYER = {
    "first_name": "Karen",
    "last_name": "Whitaker",
    "email": "new@mail.test",
    "phone": "",
    "relationship": "parent",
    "address": "",
}


@pytest.fixture
def shared_payer(tenant, clara_client, daniel_client) -> Payer:
    """Karen pays for Clara's client Ana and for Daniel's client Bruno."""
    payer = PayerFactory(practice=tenant.practice, first_name="Karen", last_name="Whitaker", email="old@mail.test")
    Client.objects.filter(pk__in=[clara_client.pk, daniel_client.pk]).update(payer=payer)
    return payer


def test_a_clinician_cannot_edit_a_payer_who_also_pays_for_a_colleagues_client(tenant, clara_client, shared_payer):
    clara = signed_in(tenant.clinician)
    # The client's page names the payer but offers no Edit payer button
    page = clara.get(url(tenant, "clients:detail", client_id=clara_client.pk)).content.decode()
    assert "Karen" in page
    assert "Edit payer" not in page
    # Opening or posting the edit form is a 403 that says why
    opened = clara.get(url(tenant, "clients:payer_edit", client_id=clara_client.pk))
    assert opened.status_code == 403
    assert escape(PAYER_SHARED) in opened.content.decode()
    posted = clara.post(url(tenant, "clients:payer_edit", client_id=clara_client.pk), PAYER)
    assert posted.status_code == 403
    # And the payer is unchanged, with nothing audited
    shared_payer.refresh_from_db()
    assert shared_payer.email == "old@mail.test"
    assert not AuditLog.objects.filter(action="payer.updated").exists()


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLER])
def test_owner_admin_and_biller_edit_a_shared_payer(tenant, clara_client, shared_payer, role):
    browser = signed_in(tenant.member(role))
    page = browser.get(url(tenant, "clients:detail", client_id=clara_client.pk)).content.decode()
    assert "Edit payer" in page
    response = browser.post(url(tenant, "clients:payer_edit", client_id=clara_client.pk), PAYER)
    assert response.status_code == 302
    shared_payer.refresh_from_db()
    assert shared_payer.email == "new@mail.test"


def test_a_clinician_edits_a_payer_who_pays_only_for_their_own_clients(tenant, clara_client):
    payer = PayerFactory(practice=tenant.practice, email="old@mail.test")
    Client.objects.filter(pk=clara_client.pk).update(payer=payer)
    clara = signed_in(tenant.clinician)
    assert "Edit payer" in clara.get(url(tenant, "clients:detail", client_id=clara_client.pk)).content.decode()
    response = clara.post(url(tenant, "clients:payer_edit", client_id=clara_client.pk), PAYER)
    assert response.status_code == 302
    payer.refresh_from_db()
    assert payer.email == "new@mail.test"
