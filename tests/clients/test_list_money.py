"""The clients list's Balance, Credit and Overdue columns (from billing, through
clients.hooks), sorting, and the record header's overdue flag and actions."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import Invoice
from billing.services import payment_record_manual
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def make_overdue(invoice: Invoice, days: int = 5) -> None:
    Invoice.objects.filter(pk=invoice.pk).update(due_date=invoice.practice.local_today() - timedelta(days=days))


def row_names(response) -> list[str]:
    return [c.display_name for c in response.context["page"].object_list]


@pytest.fixture
def three(tenant, other_tenant):
    """Ana owes 100 (overdue), Bruno owes 250 (not due), Caio has 30 credit and owes nothing."""
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Alves")
    make_overdue(issued_invoice(other_tenant.practice, twin, other_tenant.biller, "999.00"))
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Alves", clinicians=[tenant.clinician])
    bruno = ClientFactory(practice=tenant.practice, first_name="Bruno", last_name="Braga")
    caio = ClientFactory(practice=tenant.practice, first_name="Caio", last_name="Cruz")
    make_overdue(issued_invoice(tenant.practice, ana, tenant.biller, "100.00"))
    issued_invoice(tenant.practice, bruno, tenant.biller, "250.00")
    payment_record_manual(
        practice=tenant.practice,
        client=caio,
        actor=tenant.biller,
        amount=Decimal("30.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        allocations={},
        overpayment_to_credit=True,
    )
    return ana, bruno, caio


def cells(html: str, key: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(rf'data-testid="client-{key}">(.*?)</td>', html)]


def test_list_shows_balance_credit_and_overdue(tenant, three):
    html = signed_in(tenant.owner).get(url(tenant, "clients:list")).content.decode()
    assert cells(html, "account_balance") == ["$100.00", "$250.00", "$0.00"]
    assert cells(html, "account_credit") == ["$0.00", "$0.00", "$30.00"]
    assert cells(html, "overdue_amount") == ["$100.00", "—", "—"]


def test_sorting_by_balance_overdue_and_name(tenant, three):
    owner = signed_in(tenant.owner)
    list_url = url(tenant, "clients:list")
    assert row_names(owner.get(list_url, {"sort": "-account_balance"})) == ["Bruno Braga", "Ana Alves", "Caio Cruz"]
    assert row_names(owner.get(list_url, {"sort": "account_balance"})) == ["Caio Cruz", "Ana Alves", "Bruno Braga"]
    assert row_names(owner.get(list_url, {"sort": "-overdue_amount"}))[0] == "Ana Alves"
    assert row_names(owner.get(list_url, {"sort": "-name"})) == ["Caio Cruz", "Bruno Braga", "Ana Alves"]
    # An unknown sort is the default, not an error
    response = owner.get(list_url, {"sort": "password"})
    assert response.status_code == 200 and row_names(response) == ["Ana Alves", "Bruno Braga", "Caio Cruz"]


def test_sort_links_keep_filters_drop_the_page_and_toggle(tenant, three):
    owner = signed_in(tenant.owner)
    html = owner.get(url(tenant, "clients:list"), {"q": "a", "page": "1", "sort": "-account_balance"}).content.decode()
    assert 'aria-sort="descending"' in html
    links = [h.replace("&amp;", "&") for h in re.findall(r'class="sort-link" href="([^"]*)"', html)]
    balance = next(h for h in links if "account_balance" in h)
    assert balance == "?q=a&sort=account_balance"  # the other way; filters kept, page dropped
    assert "??" not in html


@pytest.mark.parametrize("role", ["owner", "clinician"])
def test_query_count_is_the_same_at_5_and_50_clients(tenant, role):
    user = tenant.member(role)
    client = signed_in(user)

    def add(n):
        for c in ClientFactory.create_batch(n, practice=tenant.practice, clinicians=[tenant.clinician]):
            make_overdue(issued_invoice(tenant.practice, c, tenant.biller, "40.00"))

    def count(**params) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url(tenant, "clients:list"), params)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    client.get(url(tenant, "clients:list"))  # warm the session
    add(5)
    at_5 = count(), count(sort="-overdue_amount")
    add(45)
    assert (count(), count(sort="-overdue_amount")) == at_5


def test_record_header_flags_overdue_and_offers_actions(tenant, three):
    ana, bruno, _ = three
    biller = signed_in(tenant.biller)
    html = biller.get(url(tenant, "clients:detail", client_id=ana.pk)).content.decode()
    assert 'data-testid="header-overdue"' in html and "$100.00 past due" in html
    assert f'href="{url(tenant, "billing:invoice_new")}?client={ana.pk}">New invoice<' in html
    assert f'href="{url(tenant, "billing:payment_new")}?client={ana.pk}">Add payment<' in html
    assert f'href="{url(tenant, "appointments:new")}?client={ana.pk}">Book<' in html
    statement = url(tenant, "billing:client_statement", client_id=ana.pk)
    assert f'href="{statement}">Download statement<' in html
    assert f'href="{url(tenant, "billing:client_statement_send", client_id=ana.pk)}">Send statement<' in html
    # The Billing tab shows the same flag from its own figures
    billing_tab = biller.get(url(tenant, "clients:billing", client_id=ana.pk)).content.decode()
    assert "$100.00 past due" in billing_tab
    # Bruno owes, but nothing is past due
    brunos = biller.get(url(tenant, "clients:detail", client_id=bruno.pk)).content.decode()
    assert 'data-testid="header-overdue"' not in brunos


def test_a_clinician_gets_book_but_no_billing_actions(tenant, three):
    ana, _, _ = three
    html = signed_in(tenant.clinician).get(url(tenant, "clients:detail", client_id=ana.pk)).content.decode()
    assert ">Book<" in html
    assert ">New invoice<" not in html and ">Add payment<" not in html and "Send statement" not in html
