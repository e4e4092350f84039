"""Issue 11: the client's Billing tab reads its balances and list counts in one query,
prints the header from the same row, sums the uninvoiced total from the rows it lists, and
builds its item rows in Python (billing_tags.item_rows) with the markup the template had."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import services
from billing.models import ClientAccount
from billing.selectors import client_billing_figures
from billing.submission import FIELD
from tests.billing.helpers import billing_tab
from tests.factories import ClientFactory, give_credit, issued_invoice, make_item
from tests.helpers import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])


tab = billing_tab


def test_a_new_client_has_zero_balances_and_empty_lists(tenant, biller, ana):
    assert not ClientAccount.objects.filter(client=ana).exists()
    figures = client_billing_figures(tenant.practice, ana)
    assert (figures.balance, figures.credit_balance, figures.invoices, figures.payments, figures.entries) == (
        D("0"),
        D("0"),
        0,
        0,
        0,
    )
    html = tab(biller, tenant, ana).content.decode()
    assert 'data-testid="header-balance">$0.00<' in html
    assert 'data-testid="client-balance">$0.00<' in html
    assert "No invoices yet." in html and "No payments yet." in html


def test_the_figures_count_only_this_clients_rows(tenant, other_tenant, biller, ana):
    bruno = ClientFactory(practice=tenant.practice, first_name="Bruno", last_name="Lee")
    for _ in range(3):
        issued_invoice(tenant.practice, ana, tenant.owner, "40.00")
    issued_invoice(tenant.practice, bruno, tenant.owner, "99.00")
    give_credit(tenant.practice, ana, tenant.owner, "15.00")
    figures = client_billing_figures(tenant.practice, ana)
    # three invoices and a credit invoice; three issues and a credit issued in the ledger
    assert (figures.balance, figures.credit_balance) == (D("120.00"), D("15.00"))
    assert (figures.invoices, figures.payments, figures.entries) == (4, 0, 4)
    # another practice asking about ana sees nothing of hers
    other = client_billing_figures(other_tenant.practice, ana)
    assert (other.invoices, other.entries, other.balance) == (0, 0, D("0"))


def test_the_header_and_the_tiles_show_the_account_read_once(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "80.00")
    give_credit(tenant.practice, ana, tenant.owner, "25.00")
    services.credit_apply(invoice=invoice, actor=tenant.biller, amount=D("10.00"))
    with CaptureQueriesContext(connection) as queries:
        html = tab(biller, tenant, ana).content.decode()
    assert 'data-testid="header-balance">$70.00<' in html
    assert 'data-testid="client-balance">$70.00<' in html
    assert 'data-testid="header-credit">$15.00<' in html
    assert 'data-testid="client-credit">$15.00<' in html
    account_reads = [q for q in queries.captured_queries if "billing_clientaccount" in q["sql"]]
    assert len(account_reads) == 1


def test_other_tabs_still_show_the_header_balances(tenant, biller, ana):
    issued_invoice(tenant.practice, ana, tenant.owner, "55.00")
    html = biller.get(url(tenant, "clients:detail", client_id=ana.pk)).content.decode()
    assert 'data-testid="header-balance">$55.00<' in html


def test_list_pages_are_counted_from_the_figures(tenant, biller, ana):
    for _ in range(27):
        issued_invoice(tenant.practice, ana, tenant.owner, "10.00")
    html = tab(biller, tenant, ana).content.decode()
    assert "Page 1 of 2" in html  # invoices: 27 at 25 a page
    assert "Page 2 of 2" in html  # history: the newest page first
    last = tab(biller, tenant, ana, invoices_page=2).content.decode()
    assert len(re.findall('data-testid="client-invoice-row"', last)) == 2


def test_item_rows_escape_what_people_typed_and_total_to_the_panel(tenant, biller, ana):
    make_item(tenant.practice, ana, "120.00", description='Session <b>"one"</b> & more')
    make_item(tenant.practice, ana, "30.50", units="2", description="Workbook")
    html = tab(biller, tenant, ana).content.decode()
    rows = re.findall(r'<tr data-testid="uninvoiced-row">(.*?)</tr>', html, re.S)
    assert len(rows) == 2
    assert "<b>" not in rows[0] and "Session &lt;b&gt;&quot;one&quot;&lt;/b&gt; &amp; more" in rows[0]
    assert 'aria-label="Include Session &lt;b&gt;&quot;one&quot;&lt;/b&gt; &amp; more on ' in rows[0]
    assert 'name="units_' in rows[1] and 'value="2"' in rows[1] and 'value="30.5"' in rows[1]
    assert ">$61.00</td>" in rows[1]
    assert re.search(r"Uninvoiced amount</th><td class=\"num\"><strong>\$181.00</strong>", html)


def test_a_bad_amount_is_marked_on_its_row_and_keeps_what_was_typed(tenant, biller, ana):
    item = make_item(tenant.practice, ana, "120.00")
    page = tab(biller, tenant, ana).content.decode()
    key = re.search(rf'name="{FIELD}" value="([^"]+)"', page)
    data = {"item": [str(item.pk)], f"units_{item.pk}": "1", f"price_{item.pk}": "-5<", f"tax_{item.pk}": "0"}
    data[FIELD] = key.group(1)
    response = biller.post(url(tenant, "billing:client_create_invoice", client_id=ana.pk), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Correct the amounts marked below." in html
    row = re.search(r'<tr data-testid="uninvoiced-row">(.*?)</tr>', html, re.S).group(1)
    assert 'class="num has-error"' in row and 'role="alert"' in row
    assert 'value="-5&lt;"' in row
    assert not ana.invoices.exists()
