"""Issue 9 part 7: documents of 0.00. A credit invoice of 0.00 is refused; an invoice of
0.00 is allowed only when it carries billing items (a free session on record) and is then
Paid on issue with no payment; free lines alone that make 0.00 are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import ClientAccount, Invoice, LedgerEntry, Payment
from billing.services import CREDIT_ZERO, ZERO_NEEDS_ITEMS, LineInput, ledger_verify
from tests.factories import ClientFactory, make_item
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db
D = Decimal


def esc(text: str) -> str:
    return text.replace("'", "&#x27;")


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")


def free_line() -> LineInput:
    return LineInput(description="Courtesy call", unit_price=D("0"))


def test_a_credit_invoice_of_zero_is_refused_by_the_service(tenant, ana):
    with pytest.raises(ValidationError) as exc:
        services.credit_invoice_create(
            practice=tenant.practice, client=ana, actor=tenant.biller, reason="Nothing", lines=[free_line()]
        )
    assert exc.value.messages == [CREDIT_ZERO]
    assert not Invoice.objects.filter(client=ana).exists()
    assert ledger_verify(tenant.practice) == []


def test_a_credit_invoice_of_zero_is_a_form_error_on_the_page(tenant, ana):
    response = signed_in(tenant.biller).post(
        url(tenant, "billing:credit_new", client_id=ana.pk),
        {
            "reason": "Nothing",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "Nothing",
            "line-0-unit_price": "0.00",
        },
    )
    assert response.status_code == 400
    assert esc(CREDIT_ZERO) in response.content.decode()
    assert not Invoice.objects.filter(client=ana).exists()


def test_a_free_line_of_zero_alone_is_refused(tenant, ana):
    with pytest.raises(ValidationError) as exc:
        services.invoice_create(
            practice=tenant.practice, client=ana, actor=tenant.biller, lines=[free_line()], issue=True
        )
    assert exc.value.messages == [ZERO_NEEDS_ITEMS]
    assert not Invoice.objects.filter(client=ana).exists()

    response = signed_in(tenant.biller).post(
        url(tenant, "billing:invoice_new"),
        {
            "client": ana.pk,
            "action": "issue",
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-description": "Courtesy call",
            "line-0-unit_price": "0",
        },
    )
    assert response.status_code == 400
    assert esc(ZERO_NEEDS_ITEMS) in response.content.decode()
    assert not Invoice.objects.filter(client=ana).exists()


def test_an_invoice_of_a_free_session_is_paid_on_issue_with_no_payment(tenant, ana):
    # Given a free session on record (a billing item of 0.00)
    item = make_item(tenant.practice, ana, "0")

    # When the biller creates and issues an invoice for it from the Billing tab
    response = signed_in(tenant.biller).post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [item.pk], f"units_{item.pk}": "1", f"price_{item.pk}": "0", f"tax_{item.pk}": "0", "action": "issue"},
        follow=True,
    )

    # Then it is issued with a number, Paid, and no payment exists
    invoice = Invoice.objects.get(client=ana)
    assert (invoice.status, invoice.total, invoice.balance, invoice.amount_paid) == ("paid", 0, 0, 0)
    assert invoice.number
    assert 'data-testid="invoice-status">Paid<' in response.content.decode()
    assert not Payment.objects.filter(client=ana).exists()
    assert ClientAccount.objects.get(client=ana).balance == 0
    assert not LedgerEntry.objects.filter(client=ana).exclude(balance_delta=0, credit_delta=0).exists()
    assert ledger_verify(tenant.practice) == []


def test_a_draft_of_a_free_session_is_paid_when_issued(tenant, ana):
    item = make_item(tenant.practice, ana, "0")
    draft = services.invoice_create(practice=tenant.practice, client=ana, actor=tenant.biller, item_ids=[item.pk])

    signed_in(tenant.biller).post(url(tenant, "billing:invoice_issue", invoice_id=draft.pk))

    draft.refresh_from_db()
    assert draft.status == "paid" and draft.number
    assert ledger_verify(tenant.practice) == []


def test_a_draft_of_free_lines_edited_to_zero_cannot_be_issued(tenant, ana):
    # A draft whose lines were made 0.00 in the database meanwhile (an old draft, say)
    draft = services.invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        lines=[LineInput(description="Report", unit_price=D("80.00"))],
    )
    draft.lines.update(unit_price=0, net=0, tax=0, amount=0)

    response = signed_in(tenant.biller).post(url(tenant, "billing:invoice_issue", invoice_id=draft.pk), follow=True)

    draft.refresh_from_db()
    assert draft.status == "draft" and draft.number is None
    assert esc(ZERO_NEEDS_ITEMS) in response.content.decode()


def test_an_open_invoice_of_free_lines_edited_to_zero_is_refused(tenant, ana):
    invoice = services.invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        lines=[LineInput(description="Report", unit_price=D("80.00"))],
        issue=True,
    )
    line = invoice.lines.get()

    response = signed_in(tenant.biller).post(
        url(tenant, "billing:invoice_edit", invoice_id=invoice.pk),
        {
            f"units_{line.pk}": "1",
            f"price_{line.pk}": "0",
            f"tax_{line.pk}": "0",
            "line-TOTAL_FORMS": "0",
            "line-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 400
    assert esc(ZERO_NEEDS_ITEMS) in response.content.decode()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total) == ("open", D("80.00"))
    assert ledger_verify(tenant.practice) == []


def test_an_open_invoice_of_a_session_edited_to_zero_becomes_paid(tenant, ana):
    # Given an open invoice of one session at 100.00
    item = make_item(tenant.practice, ana, "100.00")
    invoice = services.invoice_create(
        practice=tenant.practice, client=ana, actor=tenant.biller, item_ids=[item.pk], issue=True
    )
    line = invoice.lines.get()

    # When the biller makes the session free
    services.invoice_update(
        invoice=invoice,
        actor=tenant.biller,
        line_changes={line.pk: services.ItemAdjustment(units=D("1"), unit_price=D("0"), tax_percent=D("0"))},
    )

    # Then the invoice is Paid at 0.00 with nothing owed and no payment
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total, invoice.balance) == ("paid", 0, 0)
    assert ClientAccount.objects.get(client=ana).balance == 0
    assert not Payment.objects.filter(client=ana).exists()
    assert ledger_verify(tenant.practice) == []


def test_a_draft_credit_invoice_edited_to_zero_is_refused(tenant, ana):
    credit = services.credit_invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        reason="Goodwill",
        lines=[LineInput(description="Goodwill", unit_price=D("25.00"))],
        issue=False,
    )
    line = credit.lines.get()

    with pytest.raises(ValidationError) as exc:
        services.invoice_update(
            invoice=credit,
            actor=tenant.biller,
            line_changes={line.pk: services.ItemAdjustment(units=D("1"), unit_price=D("0"), tax_percent=D("0"))},
        )

    assert exc.value.messages == [CREDIT_ZERO]
    credit.refresh_from_db()
    assert credit.total == D("-25.00")
    assert ledger_verify(tenant.practice) == []
