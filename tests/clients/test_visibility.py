"""Who sees which clients: clinicians their own, everyone else all of them."""

from __future__ import annotations

import pytest

from practice.models import AuditLog
from tests.helpers import signed_in, url

RECORD_PAGES = ["clients:detail", "clients:appointments", "clients:billing", "clients:settings", "clients:payer_new"]


@pytest.mark.django_db
def test_a_clinician_lists_only_their_own_clients(tenant, clara_client, daniel_client):
    response = signed_in(tenant.clinician).get(url(tenant, "clients:list"))
    assert [c.pk for c in response.context["page"]] == [clara_client.pk]
    html = response.content.decode()
    assert "Ana Lima" in html
    assert "Bruno Costa" not in html
    # The clinician filter makes no sense for them and is not offered.
    assert 'name="clinician"' not in html


@pytest.mark.django_db
def test_a_clinician_cannot_widen_their_list_with_the_clinician_filter(tenant, clara_client, daniel_client):
    response = signed_in(tenant.clinician).get(url(tenant, "clients:list"), {"clinician": tenant.clinician2.pk})
    assert [c.pk for c in response.context["page"]] == [clara_client.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("page", RECORD_PAGES)
def test_a_clinician_gets_404_on_another_clinicians_client(tenant, clara_client, daniel_client, page):
    client = signed_in(tenant.clinician)
    assert client.get(url(tenant, page, client_id=daniel_client.pk)).status_code == 404
    assert client.post(url(tenant, page, client_id=daniel_client.pk), {"first_name": "X"}).status_code == 404
    assert client.get(url(tenant, page, client_id=clara_client.pk)).status_code == 200
    daniel_client.refresh_from_db()
    assert daniel_client.first_name == "Bruno"
    assert not AuditLog.objects.filter(object_id=str(daniel_client.pk), object_type="clients.Client").exists()


@pytest.mark.django_db
def test_a_clinician_cannot_archive_another_clinicians_client(tenant, daniel_client):
    response = signed_in(tenant.clinician).post(url(tenant, "clients:archive", client_id=daniel_client.pk))
    assert response.status_code == 404
    daniel_client.refresh_from_db()
    assert daniel_client.status == "active"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "admin", "biller"])
def test_owners_admins_and_billers_see_every_client(tenant, role, clara_client, daniel_client):
    client = signed_in(tenant.member(role))
    response = client.get(url(tenant, "clients:list"))
    assert sorted(c.pk for c in response.context["page"]) == sorted([clara_client.pk, daniel_client.pk])
    assert client.get(url(tenant, "clients:detail", client_id=daniel_client.pk)).status_code == 200


@pytest.mark.django_db
def test_a_client_of_the_other_practice_is_404_even_by_id(tenant, other_tenant, owner_client):
    from tests.factories import ClientFactory

    foreign = ClientFactory(practice=other_tenant.practice)
    assert owner_client.get(url(tenant, "clients:detail", client_id=foreign.pk)).status_code == 404


@pytest.mark.django_db
def test_reading_a_client_record_is_audited(tenant, owner_client, clara_client):
    owner_client.get(url(tenant, "clients:billing", client_id=clara_client.pk))
    row = AuditLog.objects.get(action="client.viewed")
    assert row.actor == tenant.owner
    assert row.practice == tenant.practice
    assert row.object_id == str(clara_client.pk)
    assert row.changes == {"section": "billing"}


@pytest.mark.django_db
def test_the_list_alone_writes_no_view_rows(tenant, owner_client, clara_client):
    owner_client.get(url(tenant, "clients:list"))
    assert not AuditLog.objects.filter(action="client.viewed").exists()
