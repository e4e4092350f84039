"""Column limits are checked before the database (issue 9, part 10): long names, long
e-mails, a first invoice number past the counter and line breaks in single-line fields
are field errors or are stored safely, never a 500."""

from __future__ import annotations

import pytest
from django.core import mail

from appointments.models import Service
from billing import services as billing
from billing.models import Invoice, LedgerEntry, Package
from clients.models import Client, Payer
from practice.audit import audit_write
from practice.models import INVOICE_START_TOO_LARGE, AuditLog, Practice, StaffInvite, TaxRate, User
from practice.text import SINGLE_LINE
from tests.factories import ClientFactory, PayerFactory, ServiceFactory, make_item
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

LONG_EMAIL = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "example.test"  # 260 characters


def test_a_client_with_the_longest_names_is_invoiced_under_their_full_name(tenant):
    practice = tenant.practice
    client = ClientFactory(practice=practice, first_name="F" * 100, last_name="L" * 100)

    invoice = billing.invoice_create(
        practice=practice,
        client=client,
        actor=tenant.owner,
        item_ids=[make_item(practice, client, "100", days_ago=1, description="Session").pk],
    )

    assert Invoice.objects.get(pk=invoice.pk).bill_to_name == "F" * 100 + " " + "L" * 100


def test_a_payer_with_the_longest_names_is_invoiced_under_their_full_name(tenant):
    practice = tenant.practice
    payer = PayerFactory(practice=practice, first_name="P" * 100, last_name="Q" * 100)
    client = ClientFactory(practice=practice, payer=payer)

    invoice = billing.invoice_create(
        practice=practice,
        client=client,
        actor=tenant.owner,
        item_ids=[make_item(practice, client, "100", days_ago=1, description="Session").pk],
    )

    assert Invoice.objects.get(pk=invoice.pk).bill_to_name == "P" * 100 + " " + "Q" * 100


def test_a_first_invoice_number_past_the_counter_is_a_field_error(tenant):
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "billing:invoice_numbering"),
        {"payment_terms_days": "14", "invoice_prefix": "INV-", "invoice_start_number": "2147483647"},
    )

    assert response.status_code != 302  # the form again, with the error
    assert INVOICE_START_TOO_LARGE in response.content.decode()
    assert Practice.objects.get(pk=tenant.practice.pk).invoice_start_number == 1


def test_the_highest_first_invoice_number_still_numbers_invoices(tenant):
    owner = signed_in(tenant.owner)
    response = owner.post(
        url(tenant.practice, "billing:invoice_numbering"),
        {"payment_terms_days": "14", "invoice_prefix": "INV-", "invoice_start_number": "999999999"},
    )
    assert response.status_code == 302
    practice = Practice.objects.get(pk=tenant.practice.pk)
    client = ClientFactory(practice=practice)

    first = billing.invoice_create(
        practice=practice,
        client=client,
        actor=tenant.owner,
        item_ids=[make_item(practice, client, "100", days_ago=1, description="Session").pk],
        issue=True,
    )
    second = billing.invoice_create(
        practice=practice,
        client=client,
        actor=tenant.owner,
        item_ids=[make_item(practice, client, "100", days_ago=1, description="Session").pk],
        issue=True,
    )

    assert (first.number, second.number) == ("INV-999999999", "INV-1000000000")


def test_an_invite_to_an_email_longer_than_254_characters_is_a_field_error(tenant):
    response = signed_in(tenant.owner).post(url(tenant.practice, "staff"), {"email": LONG_EMAIL, "role": "clinician"})

    assert response.status_code in (200, 400)
    assert "Ensure this value has at most 254 characters" in response.content.decode()
    assert not StaffInvite.objects.exists()


def test_client_and_payer_emails_longer_than_254_characters_are_field_errors(tenant):
    owner = signed_in(tenant.owner)
    client = ClientFactory(practice=tenant.practice)
    base = {"first_name": "Maria", "last_name": "Silva", "phone": "", "address": "", "preferred_name": ""}

    new_client = owner.post(url(tenant.practice, "clients:new"), {**base, "email": LONG_EMAIL})
    new_payer = owner.post(
        url(tenant.practice, "clients:payer_new", client_id=client.pk),
        {**base, "email": LONG_EMAIL, "relationship": "parent"},
    )

    assert new_client.status_code == 400 and new_payer.status_code == 400
    assert not Client.objects.filter(first_name="Maria").exists()
    assert not Payer.objects.exists()


def test_an_actor_with_a_254_character_email_is_named_in_the_ledger_and_the_audit_log(tenant):
    long_but_valid = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "exa.te"  # 254 characters
    assert len(long_but_valid) == 254
    actor = User.objects.create_user(email=long_but_valid, password="a good long password")
    practice = tenant.practice
    client = ClientFactory(practice=practice)

    billing.invoice_create(
        practice=practice,
        client=client,
        actor=actor,
        item_ids=[make_item(practice, client, "100", days_ago=1, description="Session").pk],
        issue=True,
    )
    audit_write(practice=practice, actor=actor, action="test.long_actor")

    assert LedgerEntry.objects.get(client=client).actor_label == long_but_valid
    assert AuditLog.objects.get(action="test.long_actor").actor_label == long_but_valid


@pytest.mark.parametrize("name", ["Harbour Street\nTherapy", "Harbour Street\r\nTherapy", "Harbour\u2028Therapy"])
def test_a_practice_name_with_a_line_break_is_a_field_error(tenant, name):
    response = signed_in(tenant.owner).post(
        url(tenant.practice, "settings_practice"),
        {
            "name": name,
            "timezone": "America/New_York",
            "address": "",
            "phone": "",
            "email": "",
            "session_idle_minutes": "15",
        },
    )

    assert response.status_code != 302  # the form again, with the error
    assert SINGLE_LINE in response.content.decode()
    assert Practice.objects.get(pk=tenant.practice.pk).name == "Harbour Street Therapy"


def test_an_invitation_is_still_sent_for_a_practice_name_stored_with_a_line_break(
    tenant, django_capture_on_commit_callbacks
):
    Practice.objects.filter(pk=tenant.practice.pk).update(name="Harbour Street\nTherapy")

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(tenant.owner).post(url(tenant.practice, "staff"), {"email": "new@example.test", "role": "clinician"})

    assert [m.subject for m in mail.outbox] == ["You are invited to join Harbour Street Therapy on Practica"]


@pytest.mark.parametrize("field", ["first_name", "last_name", "preferred_name"])
def test_client_names_with_a_line_break_are_field_errors(tenant, field):
    data = {"first_name": "Maria", "last_name": "Silva", "preferred_name": "", "email": "", "phone": "", "address": ""}
    data[field] = "Ma\nria"

    response = signed_in(tenant.owner).post(url(tenant.practice, "clients:new"), data)

    assert response.status_code == 400
    assert SINGLE_LINE in response.content.decode()
    assert not Client.objects.filter(last_name__in=["Silva", "Ma\nria"]).exists()


def test_payer_service_package_and_tax_rate_names_refuse_line_breaks(tenant):
    owner = signed_in(tenant.owner)
    client = ClientFactory(practice=tenant.practice)
    payer = owner.post(
        url(tenant.practice, "clients:payer_new", client_id=client.pk),
        {"first_name": "Kar\nen", "last_name": "W", "email": "k@mail.test", "phone": "", "relationship": "parent"},
    )
    service = owner.post(
        url(tenant.practice, "appointments:service_new"),
        {
            "name": "Therapy\nsession",
            "code": "T1",
            "default_duration_minutes": "50",
            "price": "100",
            "payment_type": "self_pay",
        },
    )
    tax_rate = owner.post(url(tenant.practice, "billing:tax_rate_new"), {"name": "G\nST", "percent": "15"})

    for response in (payer, service, tax_rate):
        assert response.status_code == 400
        assert SINGLE_LINE in response.content.decode()
    assert not Payer.objects.exists()
    assert not Service.objects.filter(practice=tenant.practice).exists()
    assert not TaxRate.objects.filter(practice=tenant.practice).exists()


def test_a_package_name_with_a_line_break_is_a_field_error(tenant):
    service = ServiceFactory(practice=tenant.practice)

    response = signed_in(tenant.biller).post(
        url(tenant.practice, "billing:package_new"),
        {"name": "10\nsessions", "service": service.pk, "sessions": "10", "price": "1000"},
    )

    assert response.status_code == 400
    assert SINGLE_LINE in response.content.decode()
    assert not Package.objects.exists()
