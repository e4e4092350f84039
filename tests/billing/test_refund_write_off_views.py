"""Record refund on the payment page and Write off on the invoice page, as a biller uses
them: the button only for those who may, the refund's words before saving, the invoice
reopening or closing, and a wrong method, another practice's ids and a clinician refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing import services
from billing.models import Invoice, Payment, Refund
from billing.services import REFUND_PLAN_CHANGED, REFUND_TOO_MUCH, invoice_write_off
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant, other_tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])


@pytest.fixture
def paid(tenant, ana):
    """INV of 100.00 paid in full by cash, the payment."""
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "100.00")
    payment = services.invoice_mark_paid(invoice=invoice, actor=tenant.owner, method="cash").payment
    return invoice, payment


def refund_post(client, tenant, payment, **data):
    post = {
        "amount": "40.00",
        "refunded_on": tenant.practice.local_today().isoformat(),
        "method": "cash",
        "reason": "Session cancelled",
        **data,
    }
    return client.post(url(tenant, "billing:payment_refund", payment_id=payment.pk), post)


# --- Record refund ---------------------------------------------------------------------------


def test_the_payment_page_offers_record_refund_to_billers_only(tenant, biller, ana, paid):
    _, payment = paid
    html = biller.get(url(tenant, "billing:payment", payment_id=payment.pk)).content.decode()
    assert "Record refund" in html
    clinician_html = signed_in(tenant.clinician).get(url(tenant, "billing:payment", payment_id=payment.pk))
    assert "Record refund" not in clinician_html.content.decode()
    assert (
        signed_in(tenant.clinician).get(url(tenant, "billing:payment_refund", payment_id=payment.pk)).status_code == 403
    )


def test_a_refund_says_what_it_will_do_then_reopens_the_invoice(tenant, biller, ana, paid):
    invoice, payment = paid
    # The form opens with what is left of the payment
    page = biller.get(url(tenant, "billing:payment_refund", payment_id=payment.pk))
    assert 'data-testid="refund-left">$100.00<' in page.content.decode()
    # When the biller previews a refund of 40.00
    preview = refund_post(biller, tenant, payment)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert f"{invoice.number} will owe $40.00 again" in html
    assert Refund.objects.count() == 0, "a preview records nothing"
    # and confirms it
    token = preview.context["plan"].token()
    done = refund_post(biller, tenant, payment, confirm="1", expected=token)
    assert done.status_code == 302
    # Then the invoice is open again for 40.00 and the payment shows the refund
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid, invoice.balance) == ("open", D("60.000"), D("40.000"))
    page = biller.get(url(tenant, "billing:payment", payment_id=payment.pk)).content.decode()
    assert "Refund of $40.00 recorded." in page
    assert 'data-testid="payment-refunded">$40.00<' in page
    assert "Partially refunded" in page
    assert "($40.00 refunded)" in biller.get(invoice.get_absolute_url()).content.decode()
    assert services.ledger_verify(tenant.practice) == []


def test_a_refund_over_what_is_left_is_a_field_error(tenant, biller, ana, paid):
    _, payment = paid
    response = refund_post(biller, tenant, payment, amount="100.01")
    assert response.status_code == 400
    assert REFUND_TOO_MUCH.format(left="$100.00") in response.content.decode()


def test_a_confirm_whose_plan_changed_shows_the_new_plan(tenant, biller, ana, paid):
    _, payment = paid
    response = refund_post(biller, tenant, payment, confirm="1", expected="credit:40")
    assert response.status_code == 400
    assert REFUND_PLAN_CHANGED in response.content.decode()
    assert Refund.objects.count() == 0


def test_a_fully_refunded_payment_has_no_refund_or_delete_button(tenant, biller, ana, paid):
    _, payment = paid
    first = refund_post(biller, tenant, payment, amount="100.00")
    refund_post(biller, tenant, payment, amount="100.00", confirm="1", expected=first.context["plan"].token())
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REFUNDED
    html = signed_in(tenant.owner).get(url(tenant, "billing:payment", payment_id=payment.pk)).content.decode()
    assert "Record refund</a>" not in html
    assert "Delete payment</button>" not in html


def test_record_refund_refuses_a_wrong_method_and_another_practices_payment(tenant, other_tenant, biller, paid):
    _, payment = paid
    assert biller.put(url(tenant, "billing:payment_refund", payment_id=payment.pk)).status_code == 405
    other_client = ClientFactory(practice=other_tenant.practice)
    other_invoice = issued_invoice(other_tenant.practice, other_client, other_tenant.owner)
    other_payment = services.invoice_mark_paid(invoice=other_invoice, actor=other_tenant.owner).payment
    assert biller.get(url(tenant, "billing:payment_refund", payment_id=other_payment.pk)).status_code == 404
    assert refund_post(biller, tenant, other_payment).status_code == 404


# --- Write off -------------------------------------------------------------------------------


def test_write_off_closes_the_invoice_and_lists_show_written_off(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "75.00")
    page = biller.get(invoice.get_absolute_url()).content.decode()
    assert ">Write off</button>" in page
    response = biller.post(
        url(tenant, "billing:invoice_write_off", invoice_id=invoice.pk), {"write_off-reason": "Uncollectable"}
    )
    assert response.status_code == 302
    page = biller.get(invoice.get_absolute_url()).content.decode()
    assert "Invoice " + invoice.number + " written off: $75.00." in page
    assert 'data-testid="invoice-status">Written off<' in page
    assert 'data-testid="invoice-written-off">$75.00<' in page
    assert 'data-testid="invoice-balance"><strong>$0.00<' in page
    assert "Add payment</a>" not in page and ">Write off</button>" not in page
    # The lists say Written off too
    assert "Written off" in biller.get(url(tenant, "billing:invoices")).content.decode()
    tab = biller.get(reverse_client_billing(tenant, ana)).content.decode()
    assert "Written off" in tab
    filtered = biller.get(url(tenant, "billing:invoices"), {"status": "written_off"})
    assert [i.pk for i in filtered.context["page"]] == [invoice.pk]
    assert services.ledger_verify(tenant.practice) == []


def reverse_client_billing(tenant, client) -> str:
    return url(tenant, "clients:billing", client_id=client.pk)


def test_write_off_needs_a_reason(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "75.00")
    response = biller.post(url(tenant, "billing:invoice_write_off", invoice_id=invoice.pk), {"write_off-reason": " "})
    assert response.status_code == 400
    assert services.REASON_REQUIRED in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == "open"


def test_write_off_refuses_get_a_clinician_and_another_practices_invoice(tenant, other_tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner)
    target = url(tenant, "billing:invoice_write_off", invoice_id=invoice.pk)
    assert biller.get(target).status_code == 405
    assert signed_in(tenant.clinician).post(target, {"write_off-reason": "x"}).status_code == 403
    other_invoice = issued_invoice(
        other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.owner
    )
    foreign = url(tenant, "billing:invoice_write_off", invoice_id=other_invoice.pk)
    assert biller.post(foreign, {"write_off-reason": "x"}).status_code == 404
    assert Invoice.objects.get(pk=other_invoice.pk).status == "open"
    assert Invoice.objects.get(pk=invoice.pk).status == "open"


def test_voiding_a_written_off_invoice_says_the_write_off_is_reversed(tenant, biller, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "30.00")
    invoice_write_off(invoice=invoice, actor=tenant.biller, reason="Bad debt")
    page = biller.get(invoice.get_absolute_url()).content.decode()
    assert "the write-off is reversed" in page


# --- one-time submission keys -------------------------------------------------------------------


def test_a_repeated_refund_or_write_off_records_once(tenant, biller, ana, paid):
    from billing.submission import ALREADY_RECORDED

    _, payment = paid
    preview = refund_post(biller, tenant, payment)
    token = preview.context["plan"].token()
    key = "a" * 32
    for _ in range(2):
        last = refund_post(biller, tenant, payment, confirm="1", expected=token, submission_key=key)
    assert last.status_code == 302
    assert Refund.objects.count() == 1
    assert ALREADY_RECORDED in biller.get(last["Location"]).content.decode()
    invoice = issued_invoice(tenant.practice, ana, tenant.owner, "20.00")
    target = url(tenant, "billing:invoice_write_off", invoice_id=invoice.pk)
    for _ in range(2):
        biller.post(target, {"write_off-reason": "Bad debt", "submission_key": "b" * 32})
    assert Invoice.objects.get(pk=invoice.pk).written_off == D("20.000")
    assert services.ledger_verify(tenant.practice) == []


def test_a_refund_amount_is_read_in_the_practices_locale(tenant, biller, ana, paid):
    _, payment = paid
    tenant.practice.locale = "de_DE"
    tenant.practice.save(update_fields=["locale"])
    assert refund_post(biller, tenant, payment, amount="1,5").context["plan"].amount == D("1.5")
    assert refund_post(biller, tenant, payment, amount="1.5").status_code == 400
