"""Items invoiced by someone else meanwhile: creating or editing an invoice with them creates
nothing and says so, never a partial invoice."""

from __future__ import annotations

import pytest

from billing import services
from billing.models import BillingItem, Invoice
from tests.factories import ClientFactory, make_item
from tests.helpers import url


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


@pytest.mark.django_db
def test_ticked_items_of_which_one_was_invoiced_meanwhile_create_nothing_and_say_so(tenant, biller, ana):
    # Given two uninvoiced items the biller has on screen
    first, second = make_item(tenant.practice, ana, price="100.00"), make_item(tenant.practice, ana, price="40.00")
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
    first, second = make_item(tenant.practice, ana, price="100.00"), make_item(tenant.practice, ana, price="40.00")
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
        practice=tenant.practice, client=ana, actor=tenant.biller, item_ids=[make_item(tenant.practice, ana).pk]
    )
    first, second = make_item(tenant.practice, ana, price="30.00"), make_item(tenant.practice, ana, price="40.00")
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
