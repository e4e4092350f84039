"""Issue 9 part 6: Invoice all uninvoiced applies each client's credit balance to the new
invoice unless told not to (a checkbox on the page, a keyword on the service, passed on to
the Celery task)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest

from billing.models import ClientAccount, Invoice
from billing.services import LineInput, credit_invoice_create, invoice_all_uninvoiced, invoice_issue, ledger_verify
from billing.views import home as views_home
from tests.factories import ClientFactory, make_item
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db
D = Decimal
JANUARY = {"date_from": "2025-01-01", "date_to": "2025-01-31"}


@pytest.fixture
def ana(tenant):
    """Ana has 150.00 uninvoiced in January and 50.00 credit."""
    client = ClientFactory(practice=tenant.practice, first_name="Ana")
    make_item(tenant.practice, client, "150.00", on=date(2025, 1, 6))
    credit_invoice_create(
        practice=tenant.practice,
        client=client,
        actor=tenant.biller,
        reason="Goodwill",
        lines=[LineInput(description="Goodwill", unit_price=D("50.00"))],
    )
    return client


def figures(client) -> tuple[Decimal, Decimal, Decimal]:
    invoice = Invoice.objects.get(client=client, kind="invoice")
    return invoice.total, invoice.credit_applied, invoice.balance


def test_the_service_applies_the_credit_by_default(tenant, ana):
    invoice_all_uninvoiced(
        practice=tenant.practice, actor=tenant.biller, date_from=date(2025, 1, 1), date_to=date(2025, 1, 31)
    )

    assert figures(ana) == (D("150.00"), D("50.00"), D("100.00"))
    assert ClientAccount.objects.get(client=ana).credit_balance == 0
    assert ledger_verify(tenant.practice) == []


def test_the_service_leaves_the_credit_when_told_not_to(tenant, ana):
    invoice_all_uninvoiced(
        practice=tenant.practice,
        actor=tenant.biller,
        date_from=date(2025, 1, 1),
        date_to=date(2025, 1, 31),
        apply_credit=False,
    )

    assert figures(ana) == (D("150.00"), D("0"), D("150.00"))
    assert ClientAccount.objects.get(client=ana).credit_balance == D("50.00")
    assert ledger_verify(tenant.practice) == []


def test_drafts_get_the_credit_when_issued(tenant, ana):
    (draft,) = invoice_all_uninvoiced(
        practice=tenant.practice,
        actor=tenant.biller,
        date_from=date(2025, 1, 1),
        date_to=date(2025, 1, 31),
        issue=False,
    )
    invoice_issue(invoice=draft, actor=tenant.biller)

    assert figures(ana) == (D("150.00"), D("50.00"), D("100.00"))
    assert ledger_verify(tenant.practice) == []


def test_the_preview_shows_the_checkbox_ticked(tenant, ana):
    page = signed_in(tenant.biller).get(url(tenant, "billing:invoice_all"), JANUARY).content.decode()

    assert "Apply each client&#x27;s credit balance" in page
    assert re.search(r'<input type="checkbox" name="apply_credit"[^>]* checked>', page)


def test_the_page_applies_the_credit_when_ticked(tenant, ana):
    response = signed_in(tenant.biller).post(
        url(tenant, "billing:invoice_all"), {**JANUARY, "mode": "issue", "apply_credit": "on"}
    )

    assert response.status_code == 200
    assert figures(ana) == (D("150.00"), D("50.00"), D("100.00"))
    html = response.content.decode()
    assert 'data-testid="credit-applied">$50.00<' in html and 'data-testid="due">$100.00<' in html
    assert ledger_verify(tenant.practice) == []


def test_the_page_leaves_the_credit_when_unticked(tenant, ana):
    signed_in(tenant.biller).post(url(tenant, "billing:invoice_all"), {**JANUARY, "mode": "issue"})

    assert figures(ana) == (D("150.00"), D("0"), D("150.00"))
    assert ClientAccount.objects.get(client=ana).credit_balance == D("50.00")
    assert ledger_verify(tenant.practice) == []


@pytest.mark.parametrize(("posted", "applied"), [({"apply_credit": "on"}, D("50.00")), ({}, D("0"))])
def test_the_background_run_passes_the_choice_on(tenant, ana, posted, applied, django_capture_on_commit_callbacks):
    with (
        mock.patch.object(views_home, "INVOICE_ALL_INLINE_LIMIT", 0),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = signed_in(tenant.biller).post(
            url(tenant, "billing:invoice_all"), {**JANUARY, "mode": "issue", **posted}
        )

    assert views_home.INVOICES_IN_BACKGROUND in response.content.decode()
    assert figures(ana)[1] == applied
    assert ledger_verify(tenant.practice) == []
