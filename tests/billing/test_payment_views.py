"""Add payment as a biller uses it: amount, date, method, reference and the allocation
to open invoices (oldest first by default, editable); paying more than is owed is a
question ("Keep as credit"), not an error; deleting a payment is for owners and admins,
with a reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import services
from billing.models import Invoice, Payment
from tests.billing.helpers import account, post_payment
from tests.factories import ClientFactory, give_credit, issued_invoice, make_item
from tests.helpers import signed_in, url

D = Decimal


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith")


@pytest.mark.django_db
def test_payment_form_lists_open_invoices_oldest_first(tenant, biller, ana):
    older = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    newer = issued_invoice(tenant.practice, ana, tenant.owner, "50.00")

    response = biller.get(url(tenant, "billing:payment_new"), {"client": ana.pk})

    assert response.status_code == 200
    assert [i.pk for i in response.context["open_invoices"]] == [older.pk, newer.pk]
    html = response.content.decode()
    assert 'data-testid="owed">$150.00<' in html
    for label in ("Cash", "Cheque", "Bank transfer", "Card terminal", "Insurance", "Other"):
        assert f">{label}</option>" in html
    assert "Card online" not in html


@pytest.mark.django_db
def test_a_client_payment_without_allocations_pays_oldest_first(tenant, biller, ana):
    older = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    newer = issued_invoice(tenant.practice, ana, tenant.owner, "50.00")

    response = post_payment(biller, tenant, {"client": ana.pk}, amount="120.00", reference="Receipt 7")

    assert response.status_code == 302
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, older.balance) == ("paid", D("0"))
    assert (newer.status, newer.balance) == ("open", D("30.00"))
    assert account(ana).balance == D("30.00")
    page = biller.get(newer.get_absolute_url()).content.decode()
    assert 'data-testid="invoice-status">Partially paid<' in page


@pytest.mark.django_db
def test_allocations_can_be_changed(tenant, biller, ana):
    older = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    newer = issued_invoice(tenant.practice, ana, tenant.owner, "50.00")

    post_payment(
        biller, tenant, {"client": ana.pk}, amount="60", **{f"alloc_{older.pk}": "10", f"alloc_{newer.pk}": "50"}
    )

    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.balance == D("90.00") and newer.status == "paid"


@pytest.mark.django_db
def test_a_payment_from_the_invoice_returns_to_it_paid(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "80.00")
    form = biller.get(url(tenant, "billing:payment_new"), {"invoice": invoice.pk})
    assert form.context["form"].initial[f"alloc_{invoice.pk}"] == "80"

    response = post_payment(biller, tenant, {"invoice": invoice.pk}, amount="80", **{f"alloc_{invoice.pk}": "80"})

    assert response["Location"] == invoice.get_absolute_url()
    page = biller.get(invoice.get_absolute_url()).content.decode()
    assert 'data-testid="invoice-status">Paid<' in page
    assert 'data-testid="invoice-balance"><strong>$0.00<' in page


@pytest.mark.django_db
def test_overpaying_asks_to_keep_the_difference_as_credit(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "80.00")

    asked = post_payment(biller, tenant, {"invoice": invoice.pk}, amount="100", **{f"alloc_{invoice.pk}": "80"})

    assert asked.status_code == 200
    html = asked.content.decode()
    assert services.OVERPAYMENT_QUESTION in html and "Keep as credit" in html
    assert 'class="form-errors"' not in html  # a question, not an error
    assert not Payment.objects.exists()

    post_payment(
        biller,
        tenant,
        {"invoice": invoice.pk},
        amount="100",
        overpayment_to_credit="1",
        **{f"alloc_{invoice.pk}": "80"},
    )

    invoice.refresh_from_db()
    payment = Payment.objects.get()
    assert invoice.status == "paid" and payment.credited == D("20.00")
    assert account(ana).credit_balance == D("20.00") and account(ana).balance == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "message"),
    [("abc", "Enter an amount such as 120.00."), ("-5", services.AMOUNT_POSITIVE), ("0", services.AMOUNT_POSITIVE)],
)
def test_a_malformed_or_non_positive_amount_is_a_field_error(tenant, biller, ana, amount, message):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner)
    response = post_payment(biller, tenant, {"invoice": invoice.pk}, amount=amount)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_an_allocation_above_the_invoice_balance_is_refused(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "80.00")
    response = post_payment(biller, tenant, {"invoice": invoice.pk}, amount="100", **{f"alloc_{invoice.pk}": "100"})
    assert response.status_code == 400
    assert services.ALLOCATION_TOO_MUCH.replace("'", "&#x27;") in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_payment_with_no_open_invoice_all_becomes_credit_after_the_question(tenant, biller, ana):
    asked = post_payment(biller, tenant, {"client": ana.pk}, amount="50")
    assert services.OVERPAYMENT_QUESTION in asked.content.decode()
    post_payment(biller, tenant, {"client": ana.pk}, amount="50", overpayment_to_credit="1")
    assert account(ana).credit_balance == D("50.00")


@pytest.mark.django_db
def test_only_owner_or_admin_deletes_a_payment_and_a_reason_is_required(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "80.00")
    payment = services.invoice_mark_paid(invoice=invoice, actor=tenant.owner, method="cash").payment
    delete_url = url(tenant, "billing:payment_delete", payment_id=payment.pk)

    assert "Delete payment" not in biller.get(url(tenant, "billing:payment", payment_id=payment.pk)).content.decode()
    assert biller.post(delete_url, {"reason": "Bounced"}).status_code == 403

    owner = signed_in(tenant.owner)
    no_reason = owner.post(delete_url, {"reason": ""})
    assert no_reason.status_code == 400 and services.REASON_REQUIRED in no_reason.content.decode()
    payment.refresh_from_db()
    assert payment.status == "succeeded"

    response = owner.post(delete_url, {"reason": "Cheque bounced"}, follow=True)

    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == "reversed" and payment.reversal_reason == "Cheque bounced"
    assert invoice.status == "open" and invoice.balance == D("80.00")
    assert account(ana).balance == D("80.00")
    html = response.content.decode()
    assert 'data-testid="payment-status">Deleted<' in html and "Cheque bounced" in html


@pytest.mark.django_db
def test_clinicians_cannot_add_payments(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner)
    clara = signed_in(tenant.clinician)
    assert clara.get(url(tenant, "billing:payment_new"), {"invoice": invoice.pk}).status_code == 403


@pytest.mark.django_db
def test_another_practices_invoice_in_the_query_is_a_404(tenant, other_tenant, biller):
    foreign_client = ClientFactory(practice=other_tenant.practice)
    foreign = issued_invoice(other_tenant.practice, foreign_client, other_tenant.owner)
    assert biller.get(url(tenant, "billing:payment_new"), {"invoice": foreign.pk}).status_code == 404
    assert biller.get(url(tenant, "billing:payment_new"), {"client": foreign_client.pk}).status_code == 404
    assert Invoice.objects.filter(practice=tenant.practice).count() == 0


@pytest.mark.django_db
def test_paid_in_full_by_credit_skips_the_payment_form(tenant, biller, ana):
    give_credit(tenant.practice, ana, tenant.owner, "200.00")
    item = make_item(tenant.practice, ana, price="100.00")
    response = biller.post(
        url(tenant, "billing:client_create_invoice", client_id=ana.pk),
        {"item": [item.pk], "action": "pay", "apply_credit": "1"},
    )
    invoice = Invoice.objects.get(client=ana, kind="invoice")
    assert invoice.status == "paid"
    assert response["Location"] == invoice.get_absolute_url()
