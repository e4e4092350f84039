"""Issue 15 part 2: Billing, the client portal's home. The red count of unpaid invoices in
the navigation; every invoice, paid and unpaid, with its number, date, total and balance; a
row expands (htmx, or a page of its own without JavaScript) to its lines, payments, View,
Download PDF; all of it only for the signed-in client (or the payer's clients)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from billing.models import Invoice
from billing.services import invoice_void
from tests.factories import ClientFactory, PayerFactory, draft_invoice, give_credit, issued_invoice
from tests.factories import pay as pay_client
from tests.portal import grant_portal, portal_signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(practice):
    client = ClientFactory(practice=practice, first_name="Ann", last_name="Lee", email="ann@mail.test")
    grant_portal(client)
    return client


def pay(invoice: Invoice, actor, amount: str) -> None:
    """A cash payment of ``amount`` on ``invoice``."""
    pay_client(invoice.practice, invoice.client, actor, amount, allocations={invoice.pk: Decimal(amount)})


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def nav_billing(html: str) -> str:
    """The accessible text of the Billing item in the portal's navigation."""
    match = re.search(r'<a ([^>]*data-testid="portal-nav-home"[^>]*)>(.*?)</a>', html, re.S)
    assert match, html
    label = re.search(r'aria-label="([^"]*)"', match.group(1))
    return label.group(1) if label else text(match.group(2))


def rows(html: str) -> dict[str, str]:
    """Each invoice row's summary text, by invoice number."""
    found = re.findall(r'data-number="([^"]+)".*?<summary>(.*?)</summary>', html, re.S)
    return {number: text(summary) for number, summary in found}


def test_billing_counts_the_unpaid_invoices_in_the_navigation(tenant, ann):
    practice, biller = tenant.practice, tenant.biller
    issued_invoice(practice, ann, biller, "100.00")
    part_paid = issued_invoice(practice, ann, biller, "80.00")
    pay(part_paid, biller, "30.00")
    paid = issued_invoice(practice, ann, biller, "50.00")
    pay(paid, biller, "50.00")
    draft_invoice(practice, ann, biller, "70.00")
    invoice_void(invoice=issued_invoice(practice, ann, biller, "60.00"), actor=biller, reason="Typo")
    give_credit(practice, ann, biller, "10.00")

    home = portal_signed_in(ann).get("/portal/").content.decode()

    assert nav_billing(home) == "Billing, 2 unpaid"
    assert 'class="portal-count" data-testid="portal-unpaid-count">2<' in home
    assert "You owe $150.00 on 2 unpaid invoices." in text(home)


def test_no_count_when_everything_is_paid(tenant, ann):
    paid = issued_invoice(tenant.practice, ann, tenant.biller, "50.00")
    pay(paid, tenant.biller, "50.00")

    home = portal_signed_in(ann).get("/portal/").content.decode()

    assert nav_billing(home) == "Billing"
    assert "Nothing is owed" in home


def test_the_list_shows_paid_and_unpaid_invoices_with_date_total_and_balance(tenant, ann, practice):
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        older = issued_invoice(practice, ann, tenant.biller, "100.00", "20.00")
    pay(older, tenant.biller, "120.00")
    newer = issued_invoice(practice, ann, tenant.biller, "80.00")
    pay(newer, tenant.biller, "30.00")
    draft_invoice(practice, ann, tenant.biller, "70.00")

    home = portal_signed_in(ann).get("/portal/").content.decode()

    found = rows(home)
    assert list(found) == [newer.number, older.number]  # newest first, no draft
    assert found[newer.number] == (
        f"Invoice {newer.number} Partially paid Date {newer.issue_date:%-d %b %Y} Total $80.00 Balance $50.00"
    )
    assert found[older.number] == (
        f"Invoice {older.number} Paid Date {older.issue_date:%-d %b %Y} Total $120.00 Balance $0.00"
    )


def test_a_client_sees_only_their_own_invoices(tenant, ann, other_tenant):
    mine = issued_invoice(tenant.practice, ann, tenant.biller, "100.00")
    neighbour = ClientFactory(practice=tenant.practice, email="ann@mail.test")  # same email, no access
    theirs = issued_invoice(tenant.practice, neighbour, tenant.biller, "55.00")
    twin = ClientFactory(practice=other_tenant.practice, email="ann@mail.test")
    grant_portal(twin)
    elsewhere = issued_invoice(other_tenant.practice, twin, other_tenant.biller, "66.00")

    browser = portal_signed_in(ann)
    home = browser.get("/portal/").content.decode()

    assert list(rows(home)) == [mine.number]
    assert nav_billing(home) == "Billing, 1 unpaid"
    for invoice in (theirs, elsewhere):
        for suffix in ("", "view/", "pdf/"):
            assert browser.get(f"/portal/invoices/{invoice.pk}/{suffix}").status_code == 404
        assert browser.get(f"/portal/invoices/{invoice.pk}/", HTTP_HX_REQUEST="true").status_code == 404


def test_a_payer_sees_the_invoices_of_every_client_they_pay_for(tenant):
    practice = tenant.practice
    may = PayerFactory(practice=practice, first_name="May", email="may@mail.test")
    kit = ClientFactory(practice=practice, first_name="Kit", email="", payer=may)
    joe = ClientFactory(practice=practice, first_name="Joe", email="", payer=may)
    no_access = ClientFactory(practice=practice, first_name="Zed", email="", payer=may)
    grant_portal(kit, joe)
    kits = issued_invoice(practice, kit, tenant.biller, "40.00")
    joes = issued_invoice(practice, joe, tenant.biller, "60.00")
    zeds = issued_invoice(practice, no_access, tenant.biller, "70.00")

    home = portal_signed_in(may).get("/portal/").content.decode()

    assert set(rows(home)) == {kits.number, joes.number}
    assert zeds.number not in home
    assert nav_billing(home) == "Billing, 2 unpaid"
    assert "For Kit " in rows(home)[kits.number]


def test_a_row_expands_to_its_lines_payments_and_actions(tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "100.00", "25.00")
    pay(invoice, tenant.biller, "40.00")
    browser = portal_signed_in(ann)
    home = browser.get("/portal/").content.decode()
    # The row asks for its details when it opens; without JavaScript its link opens them.
    assert f'hx-get="/portal/invoices/{invoice.pk}/" hx-trigger="toggle once"' in home
    assert f'<a href="/portal/invoices/{invoice.pk}/">Show the details of invoice {invoice.number}</a>' in home

    details = browser.get(f"/portal/invoices/{invoice.pk}/", HTTP_HX_REQUEST="true").content.decode()

    assert "<html" not in details  # just the part that goes into the row
    amounts = re.findall(r'<tr data-testid="portal-line">.*?data-label="Amount">([^<]*)</td>', details, re.S)
    assert amounts == ["$100.00", "$25.00"]
    assert re.search(r"<dt>Balance due</dt><dd[^>]*>\$85\.00</dd>", details), details
    assert re.search(r"Cash · \$40\.00", text(details))
    assert f'href="/portal/invoices/{invoice.pk}/view/"' in details
    assert f'href="/portal/invoices/{invoice.pk}/pdf/" download' in details

    page = browser.get(f"/portal/invoices/{invoice.pk}/").content.decode()
    assert "<html" in page and 'data-testid="portal-invoice-details"' in page


def test_view_shows_the_invoice_as_a_document(tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "100.00")

    view = portal_signed_in(ann).get(f"/portal/invoices/{invoice.pk}/view/").content.decode()

    assert 'data-testid="document"' in view
    assert f"Invoice {invoice.number}" in text(view)
    assert "Ann Lee" in view


def test_download_pdf_is_the_invoice_as_a_pdf(tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "100.00")

    response = portal_signed_in(ann).get(f"/portal/invoices/{invoice.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.pdf"'
    assert response.content.startswith(b"%PDF")
    assert response["Cache-Control"] == "private, no-store"


def test_a_paid_invoice_downloads_as_a_receipt(tenant, ann):
    invoice = issued_invoice(tenant.practice, ann, tenant.biller, "100.00")
    pay(invoice, tenant.biller, "100.00")
    response = portal_signed_in(ann).get(f"/portal/invoices/{invoice.pk}/pdf/")
    assert response["Content-Disposition"] == f'attachment; filename="receipt-{invoice.number}.pdf"'


def test_a_draft_or_credit_invoice_is_not_in_the_portal(tenant, ann):
    draft = draft_invoice(tenant.practice, ann, tenant.biller, "70.00")
    credit = give_credit(tenant.practice, ann, tenant.biller, "10.00")
    browser = portal_signed_in(ann)
    for invoice in (draft, credit):
        assert browser.get(f"/portal/invoices/{invoice.pk}/").status_code == 404


def test_billing_reads_a_fixed_number_of_queries(tenant, ann, django_assert_max_num_queries):
    for n in range(12):
        invoice = issued_invoice(tenant.practice, ann, tenant.biller, f"{10 + n}.00")
        if n % 3 == 0:
            pay(invoice, tenant.biller, f"{10 + n}.00")
    browser = portal_signed_in(ann)
    browser.get("/portal/")

    with django_assert_max_num_queries(14):
        home = browser.get("/portal/")

    assert len(rows(home.content.decode())) == 12
    assert Invoice.objects.filter(client=ann, status="open").count() == 8
    assert nav_billing(home.content.decode()) == "Billing, 8 unpaid"
    assert Decimal("0") < Invoice.objects.filter(client=ann).first().total
