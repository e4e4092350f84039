"""A stale page gets a message, not a blank page (issue 9, part 2): an action sent from a
page older than the invoice (a second Mark as paid, a Void after the invoice was paid in
another tab, an Issue of a draft deleted meanwhile) answers with the invoice as it is now
and what happened at the top. Each POST here is a fresh page (its own submission key)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing import services
from billing.models import Invoice, LedgerEntry, Payment
from billing.views.invoices import (
    DRAFT_ALREADY_DELETED,
    INVOICE_ALREADY_ISSUED,
    INVOICE_ALREADY_PAID,
    INVOICE_ALREADY_VOIDED,
)
from tests.factories import ClientFactory, draft_invoice, give_credit, issued_invoice
from tests.helpers import signed_in, url

D = Decimal


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


def flash(message: str) -> str:
    return f'class="flash flash-warning">{message}<'.replace("'", "&#x27;")


def status_badge(label: str) -> str:
    return f'data-testid="invoice-status">{label}<'


def mark_paid(biller, tenant, invoice):
    data = {"method": "cash", "received_on": tenant.practice.local_today().isoformat()}
    return biller.post(url(tenant, "billing:invoice_mark_paid", invoice_id=invoice.pk), data)


def void(biller, tenant, invoice):
    return biller.post(url(tenant, "billing:invoice_void", invoice_id=invoice.pk), {"reason": "Entered twice"})


@pytest.mark.django_db
def test_a_second_mark_as_paid_shows_the_paid_invoice_with_a_message(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    assert mark_paid(biller, tenant, invoice).status_code == 302

    second = mark_paid(biller, tenant, invoice)

    assert second.status_code == 409
    page = second.content.decode()
    assert flash(INVOICE_ALREADY_PAID) in page
    assert status_badge("Paid") in page and invoice.client.display_name in page
    assert Payment.objects.filter(client=ana).count() == 1


@pytest.mark.django_db
def test_a_second_void_shows_the_void_invoice_with_a_message(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    assert void(biller, tenant, invoice).status_code == 302

    second = void(biller, tenant, invoice)

    assert second.status_code == 409
    page = second.content.decode()
    assert flash(INVOICE_ALREADY_VOIDED) in page and status_badge("Void") in page
    assert LedgerEntry.objects.filter(client=ana, kind=LedgerEntry.Kind.INVOICE_VOIDED).count() == 1


@pytest.mark.django_db
def test_mark_as_paid_on_an_invoice_voided_in_another_tab(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    services.invoice_void(invoice=invoice, actor=tenant.owner, reason="Wrong client")

    response = mark_paid(biller, tenant, invoice)

    assert response.status_code == 409
    page = response.content.decode()
    assert flash(INVOICE_ALREADY_VOIDED) in page and status_badge("Void") in page
    assert not Payment.objects.filter(client=ana).exists()


@pytest.mark.django_db
def test_void_on_an_invoice_paid_in_another_tab_says_it_was_paid_and_what_to_do(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    services.invoice_mark_paid(invoice=invoice, actor=tenant.owner, method="cash")

    response = void(biller, tenant, invoice)

    assert response.status_code == 409
    page = response.content.decode()
    assert flash(INVOICE_ALREADY_PAID) in page and status_badge("Paid") in page
    assert services.VOID_PAID.replace("'", "&#x27;") in page
    invoice.refresh_from_db()
    assert invoice.status == "paid"


@pytest.mark.django_db
def test_a_second_issue_shows_the_issued_invoice_with_a_message(tenant, biller, ana):
    invoice = draft_invoice(tenant.practice, ana, tenant.owner)
    assert biller.post(url(tenant, "billing:invoice_issue", invoice_id=invoice.pk)).status_code == 302

    second = biller.post(url(tenant, "billing:invoice_issue", invoice_id=invoice.pk))

    assert second.status_code == 409
    page = second.content.decode()
    invoice.refresh_from_db()
    assert flash(INVOICE_ALREADY_ISSUED) in page and invoice.number in page
    assert LedgerEntry.objects.filter(client=ana, kind=LedgerEntry.Kind.INVOICE_ISSUED).count() == 1


@pytest.mark.django_db
def test_delete_draft_of_an_invoice_issued_in_another_tab_keeps_it(tenant, biller, ana):
    invoice = draft_invoice(tenant.practice, ana, tenant.owner)
    services.invoice_issue(invoice=invoice, actor=tenant.owner)

    response = biller.post(url(tenant, "billing:invoice_delete", invoice_id=invoice.pk))

    assert response.status_code == 409
    assert flash(INVOICE_ALREADY_ISSUED) in response.content.decode()
    assert Invoice.objects.filter(pk=invoice.pk, status="open").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["billing:invoice_delete", "billing:invoice_issue", "billing:invoice_edit"])
def test_an_action_on_a_draft_deleted_in_another_tab_goes_to_the_client_with_a_message(tenant, biller, ana, action):
    invoice = draft_invoice(tenant.practice, ana, tenant.owner)
    services.invoice_delete_draft(invoice=invoice, actor=tenant.owner)

    response = biller.post(url(tenant, action, invoice_id=invoice.pk), {}, follow=True)

    assert response.redirect_chain == [(url(tenant, "clients:billing", client_id=ana.pk), 302)]
    assert flash(DRAFT_ALREADY_DELETED) in response.content.decode()
    assert not Invoice.objects.filter(client=ana).exists()


@pytest.mark.django_db
def test_a_missing_or_foreign_invoice_is_still_a_404(tenant, other_tenant, biller):
    theirs = draft_invoice(other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.owner)
    services.invoice_delete_draft(invoice=theirs, actor=other_tenant.owner)

    assert biller.post(url(tenant, "billing:invoice_issue", invoice_id=theirs.pk)).status_code == 404
    assert biller.post(url(tenant, "billing:invoice_delete", invoice_id=999999)).status_code == 404


@pytest.mark.django_db
def test_issuing_a_draft_deleted_while_waiting_is_refused_not_a_crash(tenant, ana):
    invoice = draft_invoice(tenant.practice, ana, tenant.owner)
    stale = Invoice.objects.get(pk=invoice.pk)  # what a request read before the delete
    services.invoice_delete_draft(invoice=invoice, actor=tenant.owner)

    with pytest.raises(ValidationError) as exc:
        services.invoice_issue(invoice=stale, actor=tenant.owner)

    assert exc.value.messages == [services.DRAFT_GONE]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "move, message, badge",
    [("paid", INVOICE_ALREADY_PAID, "Paid"), ("void", INVOICE_ALREADY_VOIDED, "Void")],
)
def test_apply_credit_on_an_invoice_paid_or_voided_in_another_tab(tenant, biller, ana, move, message, badge):
    give_credit(tenant.practice, ana, tenant.owner, "30.00")
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    if move == "paid":
        services.invoice_mark_paid(invoice=invoice, actor=tenant.owner, method="cash")
    else:
        services.invoice_void(invoice=invoice, actor=tenant.owner, reason="Wrong client")

    response = biller.post(url(tenant, "billing:invoice_apply_credit", invoice_id=invoice.pk))

    assert response.status_code == 409
    page = response.content.decode()
    assert flash(message) in page and status_badge(badge) in page
    assert not LedgerEntry.objects.filter(client=ana, kind=LedgerEntry.Kind.CREDIT_APPLIED).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "move, message, not_editable",
    [("paid", INVOICE_ALREADY_PAID, True), ("void", INVOICE_ALREADY_VOIDED, False)],
)
def test_saving_an_edit_of_an_invoice_paid_or_voided_in_another_tab(tenant, biller, ana, move, message, not_editable):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    line = invoice.lines.get()
    page = biller.get(url(tenant, "billing:invoice_edit", invoice_id=invoice.pk))
    assert page.status_code == 200
    if move == "paid":
        services.invoice_mark_paid(invoice=invoice, actor=tenant.owner, method="cash")
    else:
        services.invoice_void(invoice=invoice, actor=tenant.owner, reason="Wrong client")

    response = biller.post(
        url(tenant, "billing:invoice_edit", invoice_id=invoice.pk),
        {
            f"units_{line.pk}": "1",
            f"price_{line.pk}": "120",
            f"tax_{line.pk}": "0",
            "line-TOTAL_FORMS": "0",
            "line-INITIAL_FORMS": "0",
        },
        follow=True,
    )

    assert response.redirect_chain == [(invoice.get_absolute_url(), 302)]
    html = response.content.decode()
    assert flash(message) in html
    assert (services.NOT_EDITABLE in html) is not_editable
    invoice.refresh_from_db()
    assert invoice.total == D("100.00")


@pytest.mark.django_db
def test_a_second_delete_payment_shows_the_deleted_payment_with_a_message(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    payment = services.invoice_mark_paid(invoice=invoice, actor=tenant.owner, method="cash").payment
    owner = signed_in(tenant.owner)
    path = url(tenant, "billing:payment_delete", payment_id=payment.pk)
    assert owner.post(path, {"reason": "Cheque bounced"}).status_code == 302

    second = owner.post(path, {"reason": "Cheque bounced"})

    assert second.status_code == 409
    assert flash(services.PAYMENT_ALREADY_REVERSED) in second.content.decode()
    assert LedgerEntry.objects.filter(client=ana, kind=LedgerEntry.Kind.PAYMENT_REVERSED).count() == 1
