"""Issue 14, part 4: after an online payment settles, the payer gets a receipt email with
the receipt's PDF, once, even when the webhook and the return page both settle it."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client as Browser
from django.urls import reverse
from pypdf import PdfReader

from billing.payment_links import payment_link_token
from payments.checkout import attempt_token
from payments.models import CheckoutAttempt, StripeAccount
from practice.models import OutgoingEmail
from tests.factories import ClientFactory, PayerFactory, issued_invoice
from tests.helpers import signed_in, url

from .conftest import CONNECT_SECRET
from .helpers import connected_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pay_online(fake, invoice):
    path = reverse("checkout_start", kwargs={"token": payment_link_token(invoice)})
    assert Browser().post(path, {"balance": str(invoice.balance)}).status_code == 303
    attempt = CheckoutAttempt.objects.get(invoice_id=invoice.pk)
    assert fake.control.pay_session(attempt.stripe_checkout_session_id)["outcome"] == "complete"
    return attempt


def completed_events(fake):
    assert fake.control.wait_for_webhooks(timeout=10)
    with fake.webhooks.lock:
        return [
            i
            for i in fake.webhooks.received
            if i.path == "/connect" and json.loads(i.body)["type"] == "checkout.session.completed"
        ]


def test_one_receipt_when_the_webhook_and_the_return_page_both_settle(
    app_on_fake, account, tenant, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")
    attempt = pay_online(app_on_fake, invoice)

    with django_capture_on_commit_callbacks(execute=True):
        for item in completed_events(app_on_fake) * 2:
            response = Browser().post(
                reverse("stripe_webhook"),
                item.body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=item.signature,
            )
            assert response.status_code == 200
        page = Browser().get(reverse("checkout_return", kwargs={"token": attempt_token(attempt)}))
    assert 'data-testid="checkout-paid"' in page.content.decode()

    receipts = [m for m in mail.outbox if m.subject.startswith("Receipt")]
    assert len(receipts) == 1
    (message,) = receipts
    assert message.to == ["ana@mail.test"]
    assert message.subject == "Receipt for your payment to Harbour Street Therapy"
    assert "has received your payment of $230.00" in message.body
    assert f"Invoice {invoice.number}" in message.body and "Nothing more is owed" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"receipt-{invoice.number}.pdf", "application/pdf")
    text = pdf_text(content)
    assert "Receipt" in text and "PAID" in text and invoice.number in text
    assert OutgoingEmail.objects.get(topic="payment_receipt").status == OutgoingEmail.Status.SENT
    # The invoice's emails list it, as sent by Practica (not by a person).
    staff = signed_in(tenant.biller).get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert '<td data-label="What">Receipt</td>' in staff


def test_the_receipt_goes_to_the_payer(app_on_fake, account, tenant):
    payer = PayerFactory(practice=tenant.practice, email="mum@mail.test")
    client = ClientFactory(practice=tenant.practice, payer=payer, email="teen@mail.test")
    invoice = issued_invoice(tenant.practice, client, tenant.biller, "60.00")
    attempt = pay_online(app_on_fake, invoice)
    Browser().get(reverse("checkout_return", kwargs={"token": attempt_token(attempt)}))

    (receipt,) = OutgoingEmail.objects.filter(topic="payment_receipt")
    assert receipt.to == "mum@mail.test"
    assert "$60.00" in receipt.text


def test_no_address_no_receipt_and_the_payment_still_settles(app_on_fake, account, tenant):
    client = ClientFactory(practice=tenant.practice, email="")
    invoice = issued_invoice(tenant.practice, client, tenant.biller, "60.00")
    attempt = pay_online(app_on_fake, invoice)
    Browser().get(reverse("checkout_return", kwargs={"token": attempt_token(attempt)}))

    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.PAID
    invoice.refresh_from_db()
    assert invoice.balance == Decimal("0")
    assert not OutgoingEmail.objects.filter(topic="payment_receipt").exists()
