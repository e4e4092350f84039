"""The Billing page (Uninvoiced · Invoices · Payments · Credits) and Invoice all uninvoiced,
as a biller sees them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.forms.home import DATE_ORDER, last_month, last_week
from billing.models import Invoice
from billing.services import LineInput, credit_invoice_create, invoice_create, payment_record_manual
from tests.factories import ClientFactory, issued_invoice, make_item, online_payment
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def make_overdue(invoice: Invoice) -> None:
    Invoice.objects.filter(pk=invoice.pk).update(due_date=invoice.practice.local_today() - timedelta(days=5))


@pytest.fixture
def ana(tenant, other_tenant):
    # A look-alike in the other practice, with an invoice of its own that must never show.
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima")
    issued_invoice(other_tenant.practice, twin, other_tenant.biller, "999.00")
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", clinicians=[tenant.clinician])


@pytest.fixture
def bruno(tenant):
    return ClientFactory(
        practice=tenant.practice, first_name="Bruno", last_name="Costa", clinicians=[tenant.clinician2]
    )


def rows(response, testid: str) -> int:
    return response.content.decode().count(f'data-testid="{testid}"')


# --- Invoices tab --------------------------------------------------------------------------


def test_biller_sees_invoices_with_derived_statuses_and_totals(tenant, ana, bruno):
    # Given an open invoice, a partly paid one, an overdue one and a paid one
    open_one = issued_invoice(tenant.practice, ana, tenant.biller, "100.00")
    partly = issued_invoice(tenant.practice, ana, tenant.biller, "200.00")
    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("50.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        allocations={partly.pk: Decimal("50.00")},
    )
    overdue = issued_invoice(tenant.practice, bruno, tenant.biller, "80.00")
    make_overdue(overdue)
    paid = issued_invoice(tenant.practice, bruno, tenant.biller, "40.00")
    payment_record_manual(
        practice=tenant.practice,
        client=bruno,
        actor=tenant.biller,
        amount=Decimal("40.00"),
        received_on=tenant.practice.local_today(),
        method="card_terminal",
        allocations={paid.pk: Decimal("40.00")},
    )

    # When the biller opens the Invoices tab
    response = signed_in(tenant.biller).get(url(tenant, "billing:invoices"))

    # Then every invoice is listed with the status a biller reads, and the totals add up
    assert response.status_code == 200
    page = response.content.decode()
    assert rows(response, "invoice-row") == 4
    for invoice in (open_one, partly, overdue, paid):
        assert invoice.number in page
    assert "Partially paid" in page and "Overdue" in page and "Paid" in page
    assert "999.00" not in page  # the other practice's invoice
    # Outstanding: 100 + 150 + 80; overdue: 80
    assert 'data-testid="total-outstanding">$330.00<' in page
    assert 'data-testid="total-overdue">$80.00<' in page


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("overdue", {"overdue"}),
        ("partially_paid", {"partly"}),
        ("open", {"open", "partly", "overdue"}),
        ("paid", {"paid"}),
        ("draft", {"draft"}),
    ],
)
def test_status_filter_includes_derived_statuses(tenant, ana, bruno, status, expected):
    # Given invoices in each status
    made = {
        "open": issued_invoice(tenant.practice, ana, tenant.biller, "100.00"),
        "partly": issued_invoice(tenant.practice, ana, tenant.biller, "200.00"),
        "overdue": issued_invoice(tenant.practice, bruno, tenant.biller, "80.00"),
        "paid": issued_invoice(tenant.practice, bruno, tenant.biller, "40.00"),
    }
    item = make_item(tenant.practice, ana, on=tenant.practice.local_today())
    made["draft"] = invoice_create(practice=tenant.practice, client=ana, actor=tenant.biller, item_ids=[item.pk])
    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("50.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        allocations={made["partly"].pk: Decimal("50.00")},
    )
    payment_record_manual(
        practice=tenant.practice,
        client=bruno,
        actor=tenant.biller,
        amount=Decimal("40.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        allocations={made["paid"].pk: Decimal("40.00")},
    )
    make_overdue(made["overdue"])

    # When the biller filters by status
    response = signed_in(tenant.biller).get(url(tenant, "billing:invoices"), {"status": status})

    # Then exactly the invoices in that status are listed
    page = response.content.decode()
    listed = {key for key, inv in made.items() if f"/invoices/{inv.pk}/" in page}
    assert listed == expected


def test_filters_by_client_clinician_dates_and_number(tenant, ana, bruno):
    # Given one invoice for Ana (Clara's client) and an older one for Bruno (Daniel's)
    ana_invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    bruno_invoice = issued_invoice(tenant.practice, bruno, tenant.biller)
    Invoice.objects.filter(pk=bruno_invoice.pk).update(issue_date=date(2024, 1, 15))
    client = signed_in(tenant.biller)

    def listed(**params) -> set[str]:
        page = client.get(url(tenant, "billing:invoices"), params).content.decode()
        return {inv.number for inv in (ana_invoice, bruno_invoice) if inv.number in page}

    # Then each filter narrows the list to the invoice it describes
    assert listed() == {ana_invoice.number, bruno_invoice.number}
    assert listed(client=ana.pk) == {ana_invoice.number}
    chip = client.get(url(tenant, "billing:invoices"), {"client": ana.pk}).content.decode()
    assert 'data-testid="client-filter">Client: <strong>Ana Lima</strong>' in chip
    assert listed(clinician=tenant.clinician2.pk) == {bruno_invoice.number}
    assert listed(date_from="2024-01-01", date_to="2024-01-31") == {bruno_invoice.number}
    assert listed(q=bruno_invoice.number) == {bruno_invoice.number}
    assert listed(q="Lima") == {ana_invoice.number}


def test_end_before_start_is_a_field_error(tenant, ana):
    issued_invoice(tenant.practice, ana, tenant.biller)
    response = signed_in(tenant.biller).get(
        url(tenant, "billing:invoices"), {"date_from": "2025-02-01", "date_to": "2025-01-01"}
    )
    assert response.status_code == 400
    assert DATE_ORDER in response.content.decode()


def test_invoices_are_paginated_by_fifty(tenant, ana):
    for _ in range(55):
        issued_invoice(tenant.practice, ana, tenant.biller, "10.00")
    client = signed_in(tenant.biller)
    first = client.get(url(tenant, "billing:invoices"))
    second = client.get(url(tenant, "billing:invoices"), {"page": 2})
    assert rows(first, "invoice-row") == 50
    assert rows(second, "invoice-row") == 5
    assert "Page 1 of 2" in first.content.decode()


def _bulk_invoices(tenant, clients, count: int) -> None:
    """Issued invoices written straight to the table (as the bench does): the list reads rows only."""
    practice = tenant.practice
    start = Invoice.objects.filter(practice=practice).count()
    today = practice.local_today()
    Invoice.objects.bulk_create(
        [
            Invoice(
                practice=practice,
                client=clients[i % len(clients)],
                status="open",
                currency="USD",
                number=f"BULK-{start + i:06d}",
                sequence=100000 + start + i,
                issue_date=today - timedelta(days=i % 40),
                due_date=today - timedelta(days=i % 40) + timedelta(days=14),
                subtotal=Decimal("50"),
                total=Decimal("50"),
                balance=Decimal("50"),
            )
            for i in range(count)
        ]
    )


@pytest.mark.parametrize("tab", ["billing:home", "billing:invoices", "billing:payments", "billing:credits"])
def test_query_count_does_not_grow_with_rows(tenant, ana, bruno, tab, django_assert_max_num_queries):
    # Given 5 invoices, payments (some online), credits and uninvoiced items, then 60 of each
    client = signed_in(tenant.biller)

    def grow(n: int) -> None:
        for i in range(n):
            who = ClientFactory(practice=tenant.practice, clinicians=[tenant.clinician])
            make_item(tenant.practice, who, on=tenant.practice.local_today() - timedelta(days=i % 9))
        _bulk_invoices(tenant, [ana, bruno], n)
        for _ in range(n // 5):
            payment_record_manual(
                practice=tenant.practice,
                client=ana,
                actor=tenant.biller,
                amount=Decimal("1.00"),
                received_on=tenant.practice.local_today(),
                method="cash",
                allocations={},  # all to credit: the bulk invoices have no ledger rows to pay off
                overpayment_to_credit=True,
            )
            # and card payments taken online, with Stripe's ids and fee beside them
            online_payment(tenant.practice, ana, "2.00", fee="0.36")
            credit_invoice_create(
                practice=tenant.practice,
                client=bruno,
                actor=tenant.biller,
                reason="Goodwill",
                lines=[LineInput(description="Goodwill", unit_price=Decimal("5"))],
            )

    grow(5)
    with CaptureQueriesContext(connection) as at_5:
        assert client.get(url(tenant, tab), {"clinician": tenant.clinician.pk}).status_code == 200
    grow(55)
    # When the page shows 50 rows instead of 5, then it runs no more queries
    with django_assert_max_num_queries(len(at_5)):
        response = client.get(url(tenant, tab), {"clinician": tenant.clinician.pk})
    assert response.status_code == 200
    with django_assert_max_num_queries(len(at_5)):
        assert client.get(url(tenant, tab)).status_code == 200
    # 17: one of them asks payments for card payments held for review (the page's notice).
    assert len(at_5) <= 17


# --- the other tabs --------------------------------------------------------------------------


def test_uninvoiced_tab_lists_clients_with_counts_and_totals(tenant, ana, bruno):
    today = tenant.practice.local_today()
    make_item(tenant.practice, ana, "100.00", on=today - timedelta(days=3))
    make_item(tenant.practice, ana, "50.00", on=today - timedelta(days=2))
    make_item(tenant.practice, bruno, "80.00", on=today - timedelta(days=1))
    invoiced = make_item(tenant.practice, bruno, "500.00", on=today)
    invoice_create(practice=tenant.practice, client=bruno, actor=tenant.biller, item_ids=[invoiced.pk], issue=True)

    response = signed_in(tenant.biller).get(url(tenant, "billing:home"))

    page = response.content.decode()
    assert response.status_code == 200
    assert rows(response, "uninvoiced-row") == 2
    assert "Ana Lima" in page and "$150.00" in page and "$80.00" in page
    assert 'data-testid="total-uninvoiced">$230.00<' in page
    assert "Invoice all uninvoiced" in page


def test_payments_and_credits_tabs(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "100.00")
    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("60.00"),
        received_on=tenant.practice.local_today(),
        method="cheque",
        reference="CHQ-4471",
        allocations={invoice.pk: Decimal("60.00")},
    )
    credit = credit_invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        reason="Late start",
        lines=[LineInput(description="Late start", unit_price=Decimal("25"))],
    )
    client = signed_in(tenant.biller)

    payments = client.get(url(tenant, "billing:payments")).content.decode()
    assert "CHQ-4471" in payments and "Cheque" in payments and "$60.00" in payments
    assert "CHQ-4471" in client.get(url(tenant, "billing:payments"), {"q": "4471"}).content.decode()
    assert "CHQ-4471" not in client.get(url(tenant, "billing:payments"), {"q": "nothing"}).content.decode()

    credits = client.get(url(tenant, "billing:credits")).content.decode()
    assert credit.number in credits and "Late start" in credits and "$25.00" in credits and "Issued" in credits
    assert invoice.number not in credits


@pytest.mark.parametrize(
    "name", ["billing:home", "billing:invoices", "billing:payments", "billing:credits", "billing:invoice_all"]
)
def test_clinicians_get_403(tenant, name):
    response = signed_in(tenant.clinician).get(url(tenant, name))
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["owner", "admin", "biller"])
def test_billing_roles_open_the_page(tenant, role):
    assert signed_in(tenant.member(role)).get(url(tenant, "billing:home")).status_code == 200


# --- Invoice all uninvoiced --------------------------------------------------------------------


def test_quick_picks_are_last_week_and_last_month():
    assert last_week(date(2025, 3, 12)) == (date(2025, 3, 3), date(2025, 3, 9))  # a Wednesday
    assert last_month(date(2025, 3, 12)) == (date(2025, 2, 1), date(2025, 2, 28))
    assert last_month(date(2025, 1, 1)) == (date(2024, 12, 1), date(2024, 12, 31))


def test_invoice_all_previews_then_creates_one_invoice_per_client(tenant, ana, bruno):
    # Given uninvoiced items for two clients in January, and one of Ana's in February
    make_item(tenant.practice, ana, "100.00", on=date(2025, 1, 6))
    make_item(tenant.practice, ana, "100.00", on=date(2025, 1, 13))
    make_item(tenant.practice, bruno, "80.00", on=date(2025, 1, 20))
    february = make_item(tenant.practice, ana, "100.00", on=date(2025, 2, 3))
    client = signed_in(tenant.biller)
    page_url = url(tenant, "billing:invoice_all")

    # When the biller previews January
    preview = client.get(page_url, {"date_from": "2025-01-01", "date_to": "2025-01-31"})

    # Then the preview lists both clients, their item counts and totals, and the grand total
    assert preview.status_code == 200
    text = preview.content.decode()
    assert rows(preview, "preview-row") == 2
    assert "2 clients, 3 items" in text
    assert 'data-testid="grand-total">$280.00<' in text
    assert Invoice.objects.filter(practice=tenant.practice).count() == 0  # a preview creates nothing

    # When they confirm, issuing the invoices
    done = client.post(page_url, {"date_from": "2025-01-01", "date_to": "2025-01-31", "mode": "issue"})

    # Then one open, numbered invoice per client exists and the summary lists them
    assert done.status_code == 200
    invoices = Invoice.objects.filter(practice=tenant.practice).order_by("total")
    assert [(i.client_id, i.total, i.status) for i in invoices] == [
        (bruno.pk, Decimal("80.000"), "open"),
        (ana.pk, Decimal("200.000"), "open"),
    ]
    assert all(i.number for i in invoices)
    summary = done.content.decode()
    assert rows(done, "created-row") == 2 and "$280.00 in all" in summary
    # February's item is still uninvoiced
    february.refresh_from_db()
    assert february.invoice_id is None


def test_invoice_all_as_drafts(tenant, ana):
    make_item(tenant.practice, ana, "100.00", on=date(2025, 1, 6))
    signed_in(tenant.biller).post(
        url(tenant, "billing:invoice_all"), {"date_from": "2025-01-01", "date_to": "2025-01-31", "mode": "draft"}
    )
    invoice = Invoice.objects.get(practice=tenant.practice)
    assert invoice.status == "draft" and invoice.number is None and invoice.total == Decimal("100")


def test_invoice_all_with_the_end_before_the_start_is_a_field_error(tenant, ana):
    make_item(tenant.practice, ana, on=date(2025, 1, 6))
    client = signed_in(tenant.biller)
    page_url = url(tenant, "billing:invoice_all")

    preview = client.get(page_url, {"date_from": "2025-01-31", "date_to": "2025-01-01"})
    assert preview.status_code == 400
    assert DATE_ORDER in preview.content.decode()
    assert rows(preview, "invoice-all-preview") == 0

    confirm = client.post(page_url, {"date_from": "2025-01-31", "date_to": "2025-01-01", "mode": "issue"})
    assert confirm.status_code == 400
    assert DATE_ORDER in confirm.content.decode()
    assert not Invoice.objects.filter(practice=tenant.practice).exists()


def test_invoice_all_with_nothing_in_range_says_so(tenant, ana):
    response = signed_in(tenant.biller).get(
        url(tenant, "billing:invoice_all"), {"date_from": "2025-01-01", "date_to": "2025-01-31"}
    )
    assert "There is nothing uninvoiced in that date range." in response.content.decode()


def test_invoice_all_offers_the_cadence_quick_picks(tenant):
    response = signed_in(tenant.biller).get(url(tenant, "billing:invoice_all"))
    start, end = last_week(tenant.practice.local_today())
    text = response.content.decode()
    assert "Last week" in text and "Last month" in text
    assert f"date_from={start:%Y-%m-%d}&amp;date_to={end:%Y-%m-%d}" in text


@pytest.mark.parametrize("tab", ["billing:home", "billing:invoices", "billing:payments"])
def test_client_name_links_filter_to_that_client(tenant, ana, tab):
    # Given an invoice of Ana's with a part payment and an uninvoiced item, so she is a row on every tab
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "100.00")
    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("40.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        allocations={invoice.pk: Decimal("40.00")},
    )
    make_item(tenant.practice, ana, on=tenant.practice.local_today())
    client = signed_in(tenant.biller)

    # When the biller follows the link on her name
    page = client.get(url(tenant, tab)).content.decode()
    link = f'href="?client={ana.pk}"'
    assert link in page and "??" not in page

    # Then the page lists only her, and its "Show every client" link goes back to everyone
    filtered = client.get(url(tenant, tab) + f"?client={ana.pk}").content.decode()
    assert 'data-testid="client-filter">Client: <strong>Ana Lima</strong>' in filtered
    assert '<a href="?">Show every client</a>' in filtered
    assert "??" not in filtered
