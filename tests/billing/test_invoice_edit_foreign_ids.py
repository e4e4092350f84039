"""Invoice edit: a form naming another invoice's line or another client's item is a 400
that changes nothing, and a save that changes nothing writes no audit row (issue 9 part 18)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from billing import services
from billing.models import BillingItem
from billing.views.invoices import FOREIGN_IDS
from practice.models import AuditLog
from tests.factories import ClientFactory, make_item
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])


@pytest.fixture
def ben(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ben", last_name="Okafor", clinicians=[tenant.clinician])


def edit_url(invoice) -> str:
    return reverse("billing:invoice_edit", kwargs={"practice_slug": invoice.practice.slug, "invoice_id": invoice.pk})


def open_invoice(tenant, client, *prices):
    items = [make_item(tenant.practice, client, price=price) for price in prices]
    return services.invoice_create(
        practice=tenant.practice, client=client, actor=tenant.owner, issue=True, item_ids=[i.pk for i in items]
    )


def unchanged_post(invoice) -> dict:
    data: dict = {"line-TOTAL_FORMS": "0", "line-INITIAL_FORMS": "0"}
    for line in invoice.lines.all():
        data.update({f"units_{line.pk}": "1", f"price_{line.pk}": str(line.unit_price), f"tax_{line.pk}": "0"})
    return data


def test_removing_a_line_of_another_invoice_is_refused_and_changes_nothing(tenant, ana, ben):
    # Given Ana's open invoice and Ben's
    mine = open_invoice(tenant, ana, "100.00")
    theirs = open_invoice(tenant, ben, "80.00")
    foreign_line = theirs.lines.get()
    # When the edit form of Ana's invoice is posted naming Ben's line for removal
    response = signed_in(tenant.biller).post(edit_url(mine), {**unchanged_post(mine), "remove": [foreign_line.pk]})
    # Then it is a 400 that says so, and both invoices are as they were
    assert response.status_code == 400
    assert escape(FOREIGN_IDS) in response.content.decode()
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert (theirs.total, theirs.lines.count()) == (D("80.00"), 1)
    assert (mine.total, mine.lines.count()) == (D("100.00"), 1)
    assert not AuditLog.objects.filter(action="invoice.edited").exists()


def test_a_price_for_a_line_of_another_invoice_is_refused(tenant, ana, ben):
    mine = open_invoice(tenant, ana, "100.00")
    theirs = open_invoice(tenant, ben, "80.00")
    foreign_line = theirs.lines.get()
    data = {**unchanged_post(mine), f"units_{foreign_line.pk}": "1", f"price_{foreign_line.pk}": "1"}
    data[f"tax_{foreign_line.pk}"] = "0"
    response = signed_in(tenant.biller).post(edit_url(mine), data)
    assert response.status_code == 400
    theirs.refresh_from_db()
    assert theirs.total == D("80.00")


def test_adding_another_clients_item_is_refused_and_the_item_stays_uninvoiced(tenant, ana, ben):
    # Given Ana's open invoice and an uninvoiced item of Ben's
    mine = open_invoice(tenant, ana, "100.00")
    bens_item = make_item(tenant.practice, ben, price="60.00")
    # When Ana's invoice edit is posted with Ben's item ticked to add
    response = signed_in(tenant.biller).post(edit_url(mine), {**unchanged_post(mine), "add_item": [bens_item.pk]})
    # Then it is refused, Ben's item is still uninvoiced and Ana's total is unchanged
    assert response.status_code == 400
    assert escape(FOREIGN_IDS) in response.content.decode()
    assert BillingItem.objects.get(pk=bens_item.pk).invoice_id is None
    mine.refresh_from_db()
    assert mine.total == D("100.00")


def test_adding_an_item_of_another_practice_is_refused(tenant, other_tenant, ana):
    mine = open_invoice(tenant, ana, "100.00")
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Smith")
    foreign_item = make_item(other_tenant.practice, twin, price="60.00")
    response = signed_in(tenant.biller).post(edit_url(mine), {**unchanged_post(mine), "add_item": [foreign_item.pk]})
    assert response.status_code == 400
    assert BillingItem.objects.get(pk=foreign_item.pk).invoice_id is None


def test_adding_the_clients_own_item_still_works(tenant, ana):
    mine = open_invoice(tenant, ana, "100.00")
    extra = make_item(tenant.practice, ana, price="60.00")
    data = {**unchanged_post(mine), "add_item": [extra.pk]}
    data.update({f"units_{extra.pk}": "1", f"price_{extra.pk}": "60", f"tax_{extra.pk}": "0"})
    response = signed_in(tenant.biller).post(edit_url(mine), data)
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.total == D("160.00")


def test_saving_an_invoice_unchanged_writes_no_audit_row(tenant, ana):
    # Given an open invoice
    mine = open_invoice(tenant, ana, "100.00", "50.00")
    # When the biller saves the edit form without changing anything
    response = signed_in(tenant.biller).post(edit_url(mine), unchanged_post(mine))
    # Then it saves, and the audit log has no "edited" row for it
    assert response.status_code == 302
    assert not AuditLog.objects.filter(action="invoice.edited").exists()
