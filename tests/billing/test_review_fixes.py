"""Defects found in review, each pinned by a given / when / then test."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import services
from billing.models import BillingItem, Invoice
from tests.billing.helpers import issued_invoice, make_item, url
from tests.conftest import signed_in
from tests.factories_clients import ClientFactory


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


@pytest.fixture
def biller(tenant):
    return signed_in(tenant.biller)


# --- an id in the query string or the form that is not a number is a 404 / field error ------


@pytest.mark.django_db
def test_a_payment_form_for_a_non_ascii_digit_invoice_id_is_a_404_not_a_crash(tenant, biller, ana):
    # Given an open invoice
    issued_invoice(tenant, ana)
    # When the payment form is opened with ?invoice=² (str.isdigit() says yes, int() says no)
    response = biller.get(url(tenant, "billing:payment_new"), {"invoice": "²"})
    # Then it is the 404 of a missing invoice, not a server error
    assert response.status_code == 404


@pytest.mark.django_db
def test_the_item_picker_for_a_non_ascii_digit_client_id_shows_no_items(tenant, biller, ana):
    # Given a client with an uninvoiced item
    make_item(tenant, ana)
    # When the + New invoice item picker is asked for ?client=²
    response = biller.get(url(tenant, "billing:invoice_new_items"), {"client": "²"}, HTTP_HX_REQUEST="true")
    # Then it shows no client's items, and does not crash
    assert response.status_code == 200
    assert response.context["client"] is None


@pytest.mark.django_db
def test_new_invoice_posted_with_a_non_ascii_digit_client_is_a_field_error(tenant, biller, ana):
    # Given a client with an uninvoiced item
    make_item(tenant, ana)
    # When + New invoice is posted with client=²
    response = biller.post(url(tenant, "billing:invoice_new"), {"client": "²", "action": "draft"})
    # Then the form says to choose a client, and nothing is created
    assert response.status_code == 400
    assert "client" in response.context["client_form"].errors
    assert not Invoice.objects.exists()


# --- items invoiced by someone else meanwhile: a message, never a partial invoice --------------


@pytest.mark.django_db
def test_ticked_items_of_which_one_was_invoiced_meanwhile_create_nothing_and_say_so(tenant, biller, ana):
    # Given two uninvoiced items the biller has on screen
    first, second = make_item(tenant, ana, price="100.00"), make_item(tenant, ana, price="40.00")
    # and another biller invoices the second one a moment before this biller's click
    services.invoice_create(practice=tenant.practice, client=ana, actor=tenant.admin, item_ids=[second.pk])
    # When the biller creates an invoice from both ticked items
    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [first.pk, second.pk], "action": "issue"},
        follow=True,
    )
    # Then nothing new is created (not an invoice for the first item alone), and they are told why
    assert Invoice.objects.filter(client=ana).count() == 1
    assert BillingItem.objects.get(pk=first.pk).invoice_id is None
    assert services.ITEMS_TAKEN in response.content.decode()


@pytest.mark.django_db
def test_new_invoice_with_an_item_invoiced_meanwhile_creates_nothing_and_says_so(tenant, biller, ana):
    # Given two uninvoiced items, the second invoiced by another biller a moment ago
    first, second = make_item(tenant, ana, price="100.00"), make_item(tenant, ana, price="40.00")
    services.invoice_create(practice=tenant.practice, client=ana, actor=tenant.admin, item_ids=[second.pk])
    # When + New invoice is posted with both ticked
    response = biller.post(
        url(tenant, "billing:invoice_new"),
        {
            "client": ana.pk,
            "item": [first.pk, second.pk],
            "action": "issue",
            "line-TOTAL_FORMS": "0",
            "line-INITIAL_FORMS": "0",
        },
    )
    # Then nothing new is created and the biller is told why
    assert response.status_code == 400
    assert Invoice.objects.filter(client=ana).count() == 1
    assert BillingItem.objects.get(pk=first.pk).invoice_id is None
    assert services.ITEMS_TAKEN in response.content.decode()


@pytest.mark.django_db
def test_editing_a_draft_with_an_item_invoiced_meanwhile_adds_nothing_and_says_so(tenant, biller, ana):
    # Given a draft, and two more uninvoiced items offered on its edit page
    draft = services.invoice_create(
        practice=tenant.practice, client=ana, actor=tenant.biller, item_ids=[make_item(tenant, ana).pk]
    )
    first, second = make_item(tenant, ana, price="30.00"), make_item(tenant, ana, price="40.00")
    # and another biller invoices the second one meanwhile
    services.invoice_create(practice=tenant.practice, client=ana, actor=tenant.admin, item_ids=[second.pk])
    # When the biller saves the draft with both ticked to add
    response = biller.post(
        url(tenant, "billing:invoice_edit", invoice_id=draft.pk),
        {"add_item": [first.pk, second.pk], "line-TOTAL_FORMS": "0", "line-INITIAL_FORMS": "0"},
        follow=True,
    )
    # Then the draft is unchanged and the biller is told why
    assert BillingItem.objects.get(pk=first.pk).invoice_id is None
    assert Invoice.objects.get(pk=draft.pk).total == draft.total
    assert services.ITEMS_TAKEN in response.content.decode()


@pytest.mark.django_db
def test_linking_a_payer_with_a_non_ascii_digit_id_is_a_404_not_a_crash(tenant, ana):
    # When an owner posts "link payer" with payer=²
    response = signed_in(tenant.owner).post(
        url(tenant, "clients:payer_new", client_id=ana.pk), {"action": "link", "payer": "²"}
    )
    # Then it is the 404 of a missing payer
    assert response.status_code == 404


# --- a payment allocated oldest first, racing another payment ---------------------------------


@pytest.mark.django_db
def test_oldest_first_skips_an_invoice_paid_between_the_lookup_and_the_lock(tenant, ana, monkeypatch):
    from billing.models import Payment

    from .factories import pay

    # Given two open invoices, $100 (older) and $50
    older = issued_invoice(tenant, ana, price="100.00")
    newer = issued_invoice(tenant, ana, price="50.00")
    # and a biller's payment that looks up the open invoices just before another biller's
    # cash payment for the older one commits
    stale = services.open_invoices_oldest_first(ana)
    pay(tenant.practice, ana, tenant.admin, "100.00", allocations={older.pk: Decimal("100.00")})
    monkeypatch.setattr(services, "open_invoices_oldest_first", lambda client: stale)
    # When the biller records $50, oldest first
    result = pay(tenant.practice, ana, tenant.biller, "50.00")
    # Then it pays the invoice still open, and both are paid once
    assert {a.invoice_id: a.amount for a in result.allocations} == {newer.pk: Decimal("50.00")}
    assert [Invoice.objects.get(pk=i.pk).status for i in (older, newer)] == ["paid", "paid"]
    assert Payment.objects.filter(client=ana).count() == 2
