"""Issue 9, part 15: the client's Billing tab shows the account history (every ledger
movement with running balances, paginated, with the page's opening balance) and paginates
its invoice and payment lists; the Billing page's Credits tab lists every credit and where
it was used. Query counts stay the same whatever the number of rows."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import services
from billing.models import Invoice
from billing.selectors import HISTORY_PAGE_SIZE
from tests.billing.helpers import billing_tab
from tests.factories import ClientFactory, give_credit, issued_invoice, online_payment
from tests.helpers import url

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])


tab = billing_tab


def cells(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}">([^<]*)<', html)


def money_sum(values: list[str]) -> Decimal:
    return sum((D(v.replace("$", "").replace(",", "")) for v in values), D("0"))


def row_totals(html: str) -> list[str]:
    """The Total column of the client's invoice rows."""
    rows = re.findall(r'<tr data-testid="client-invoice-row">(.*?)</tr>', html, re.S)
    return [re.findall(r'<td class="num"[^>]*>([^<]*)</td>', row)[0] for row in rows]


def test_52_invoices_are_all_listed_across_pages_and_add_up_to_the_header(tenant, biller, ana):
    for _ in range(52):
        issued_invoice(tenant.practice, ana, tenant.owner, "10.00")
    first = tab(biller, tenant, ana).content.decode()
    assert 'data-testid="client-balance">$520.00<' in first
    seen = row_totals(first)
    assert len(seen) == 25
    assert "Page 1 of 3" in first and "invoices_page=2#client-invoices-heading" in first
    for number in (2, 3):
        seen += row_totals(tab(biller, tenant, ana, invoices_page=number).content.decode())
    assert len(seen) == 52
    assert money_sum(seen) == D("520.00")


def test_the_account_history_shows_each_movement_with_running_balances(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    services.credit_apply(invoice=invoice, actor=tenant.biller, amount=D("30.00"))
    services.payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=D("50.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
    )
    html = tab(biller, tenant, ana).content.decode()
    rows = re.findall(r'<tr data-testid="history-row">(.*?)</tr>', html, re.S)
    assert len(rows) == 4
    assert [re.search(r"<td[^>]*>([^<]+)", row.split("</td>", 1)[1]).group(1).strip() for row in rows] == [
        "Invoice issued",
        "Credit issued",
        "Credit applied",
        "Payment",
    ]
    assert cells(html, "history-balance") == ["$100.00", "$100.00", "$70.00", "$20.00"]
    assert [c.strip() for c in cells(html, "history-credit")] == ["$0.00", "$30.00", "$0.00", "$0.00"]
    assert invoice.number in rows[0] and f"/invoices/{invoice.pk}/" in rows[0]


def test_history_pages_start_from_the_opening_balance_of_the_rows_before(tenant, biller, ana):
    for _ in range(HISTORY_PAGE_SIZE + 5):
        issued_invoice(tenant.practice, ana, tenant.owner, "10.00")
    # The newest page is shown first: 5 rows, opening at 25 x 10.00
    html = tab(biller, tenant, ana).content.decode()
    assert "Page 2 of 2" in html
    opening = re.search(r'<tr data-testid="history-opening">(.*?)</tr>', html, re.S).group(1)
    assert "$250.00" in opening
    assert cells(html, "history-balance") == ["$260.00", "$270.00", "$280.00", "$290.00", "$300.00"]
    first = tab(biller, tenant, ana, history_page=1).content.decode()
    assert 'data-testid="history-opening"' not in first
    assert cells(first, "history-balance")[0] == "$10.00"
    assert cells(first, "history-balance")[-1] == "$250.00"


def test_the_billing_tab_runs_the_same_queries_for_5_or_60_rows(tenant, biller, ana, django_assert_max_num_queries):
    def grow(n: int) -> None:
        for _ in range(n):
            invoice = issued_invoice(tenant.practice, ana, tenant.owner, "10.00")
            services.invoice_mark_paid(invoice=invoice, actor=tenant.biller)
            # and as many paid online, shown with their Stripe ids and fee
            invoice = issued_invoice(tenant.practice, ana, tenant.owner, "10.00")
            online_payment(tenant.practice, ana, "10.00", fee="0.59", allocations={invoice.pk: D("10.00")})

    grow(5)
    with CaptureQueriesContext(connection) as at_5:
        assert tab(biller, tenant, ana).status_code == 200
    grow(55)
    with django_assert_max_num_queries(len(at_5)):
        assert tab(biller, tenant, ana).status_code == 200
    with django_assert_max_num_queries(len(at_5)):
        assert tab(biller, tenant, ana, history_page=2, invoices_page=2, payments_page=2).status_code == 200


# --- the Credits tab ---------------------------------------------------------------------------


def test_the_credits_tab_lists_credit_invoices_and_overpayments_and_where_they_went(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    credit = give_credit(tenant.practice, ana, tenant.owner, "30.00")
    services.credit_apply(invoice=invoice, actor=tenant.biller, amount=D("20.00"))
    services.payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=D("95.00"),
        received_on=tenant.practice.local_today(),
        method="cheque",
        reference="CHQ-9",
        overpayment_to_credit=True,
    )
    later = issued_invoice(tenant.practice, ana, tenant.owner, "25.00")
    services.credit_apply(invoice=later, actor=tenant.biller)
    response = biller.get(url(tenant, "billing:credits"))
    html = response.content.decode()
    rows = re.findall(r'<tr data-testid="credit-row">(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    by_kind = {("Overpayment" if "Overpayment" in row else "credit invoice"): row for row in rows}
    # The credit invoice's 30.00: 20.00 on the first invoice, the oldest credit first for the next 10.00
    credit_row = by_kind["credit invoice"]
    assert credit.number in credit_row
    assert f"{invoice.number}</a> $20.00" in credit_row and f"{later.number}</a> $10.00" in credit_row
    assert 'data-testid="credit-left">$0.00<' in credit_row
    # The overpayment of 15.00 paid the rest of the later invoice
    over_row = by_kind["Overpayment"]
    assert "CHQ-9" in over_row and "$15.00" in over_row
    assert f"{later.number}</a> $15.00" in over_row
    assert 'data-testid="credit-left">$0.00<' in over_row
    assert Invoice.objects.get(pk=later.pk).status == "paid"
    # The client name filters the tab to that client (one "?", as querystring writes it)
    assert f'href="?client={ana.pk}"' in credit_row and "??" not in html


def test_credit_returned_by_a_void_goes_back_to_its_credit(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    services.credit_apply(invoice=invoice, actor=tenant.biller)
    services.invoice_void(invoice=Invoice.objects.get(pk=invoice.pk), actor=tenant.biller, reason="Wrong client")
    html = biller.get(url(tenant, "billing:credits")).content.decode()
    assert 'data-testid="credit-left">$30.00<' in html
    assert invoice.number not in html


@pytest.mark.parametrize("query", ["", "?q=nobody-by-this-name", "?status=draft", "?status=void&q=Smith"])
def test_the_credits_tab_with_no_credit_to_show_says_so(tenant, biller, ana, query):
    # A practice with no credit at all, or filters that leave none (one side or both)
    issued_invoice(tenant.practice, ana, tenant.owner, "40.00")
    if query:
        give_credit(tenant.practice, ana, tenant.owner, "30.00")
    response = biller.get(url(tenant, "billing:credits") + query)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="credit-row"' not in html
    assert "No credits match these filters." in html if query else "No credits." in html


def test_the_credits_tab_lists_draft_credit_invoices_when_asked(tenant, biller, ana):
    # "Draft" is a credit invoice's status only: the overpayment side is left empty
    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    draft = services.credit_invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        lines=[services.LineInput(description="Goodwill", unit_price=Decimal("15.00"))],
        reason="Goodwill",
        issue=False,
    )
    html = biller.get(url(tenant, "billing:credits") + "?status=draft").content.decode()
    rows = re.findall(r'<tr data-testid="credit-row">(.*?)</tr>', html, re.S)
    assert len(rows) == 1
    assert url(tenant, "billing:invoice", invoice_id=draft.pk) in rows[0] and ">Draft</a>" in rows[0]
