"""One status table: the Billing page's SQL status, one invoice's status and every badge agree."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.urls import reverse

from billing import services
from billing.models import Invoice
from billing.selectors import credit_list, invoice_list
from billing.services import invoice_write_off
from billing.statuses import STATUS_BADGES
from tests.factories import ClientFactory, give_credit, issued_invoice, make_item, pay
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def invoices_in_every_status(tenant) -> dict[str, Invoice]:
    practice, biller = tenant.practice, tenant.biller
    client = ClientFactory(practice=practice)
    item = make_item(practice, client)
    made = {
        "draft": services.invoice_create(practice=practice, client=client, actor=biller, item_ids=[item.pk]),
        "open": issued_invoice(practice, client, biller, "100.00"),
        "partially_paid": issued_invoice(practice, client, biller, "200.00"),
        "overdue": issued_invoice(practice, client, biller, "80.00"),
        "paid": issued_invoice(practice, client, biller, "40.00"),
        "written_off": issued_invoice(practice, client, biller, "60.00"),
        "void": issued_invoice(practice, client, biller, "70.00"),
        "issued": give_credit(practice, client, biller, "30.00"),
    }
    pay(practice, client, biller, "50.00", allocations={made["partially_paid"].pk: D("50.00")})
    pay(practice, client, biller, "40.00", allocations={made["paid"].pk: D("40.00")})
    Invoice.objects.filter(pk=made["overdue"].pk).update(due_date=practice.local_today() - timedelta(days=5))
    invoice_write_off(invoice=made["written_off"], actor=biller, reason="Hardship")
    services.invoice_void(invoice=made["void"], actor=biller, reason="Entered twice")
    return {code: Invoice.objects.select_related("practice").get(pk=inv.pk) for code, inv in made.items()}


def test_given_invoices_in_every_status_then_the_list_and_one_invoice_read_the_same(tenant):
    made = invoices_in_every_status(tenant)
    listed = {
        row.pk: row.derived_status
        for row in [*invoice_list(tenant.practice), *credit_list(tenant.practice)]
        if row.pk in {inv.pk for inv in made.values()}
    }

    for code, invoice in made.items():
        assert invoice.status_code == code
        assert listed[invoice.pk] == code
        assert invoice.display_status == STATUS_BADGES[code][0]


def test_given_an_overdue_invoice_then_its_page_and_the_billing_page_show_the_same_badge(tenant):
    made = invoices_in_every_status(tenant)
    overdue = made["overdue"]
    browser = signed_in(tenant.biller)
    detail = browser.get(overdue.get_absolute_url()).content.decode()
    listing = browser.get(
        reverse("billing:invoices", kwargs={"practice_slug": tenant.practice.slug}) + "?status=overdue"
    ).content.decode()

    assert 'class="badge badge-bad" data-testid="invoice-status">Overdue<' in detail
    assert '<span class="badge badge-bad">Overdue</span>' in listing
