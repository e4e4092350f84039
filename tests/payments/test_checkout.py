"""Issue 14, part 4: a client pays an invoice from its payment link through Stripe Checkout
(the fake, over real HTTP). The payment is recorded from Stripe's own state, once, whether
the return page or the webhook sees it first; nothing is charged for an invoice that takes
no payment, or where the practice's account cannot take charges."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client as Browser
from django.urls import reverse

from billing.models import Invoice, Payment
from billing.payment_links import payment_link_path, payment_link_token
from billing.services import invoice_void
from payments.checkout import INVOICE_CHANGED, INVOICE_PAID, INVOICE_VOID, attempt_token
from payments.models import CheckoutAttempt, StripeAccount
from tests.factories import ClientFactory, issued_invoice, pay

from .conftest import CONNECT_SECRET
from .helpers import CARD_DECLINED, connected_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")


@pytest.fixture
def invoice(tenant, ana):
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def start(invoice, balance=None):
    url = reverse("checkout_start", kwargs={"token": payment_link_token(invoice)})
    return Browser().post(url, {"balance": str(invoice.balance if balance is None else balance)})


def return_page(attempt):
    url = reverse("checkout_return", kwargs={"token": attempt_token(attempt)})
    return Browser().get(url, {"session_id": attempt.stripe_checkout_session_id})


def sessions_made(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]


def test_pay_online_records_one_payment_and_the_invoice_is_paid(app_on_fake, account, invoice):
    page = Browser().get(payment_link_path(invoice)).content.decode()
    assert "Pay online" in page

    response = start(invoice)
    assert response.status_code == 303
    assert response["Location"].startswith(app_on_fake.url)
    attempt = CheckoutAttempt.objects.get()
    assert attempt.amount == Decimal("230.00") and attempt.status == CheckoutAttempt.Status.OPEN
    (request,) = sessions_made(app_on_fake)
    assert request["stripe_account"] == account.stripe_account_id
    assert request["idempotency_key"] == f"checkout:{attempt.pk}:session"

    # Back before paying (or a forged redirect): Processing, nothing recorded.
    assert "Processing" in return_page(attempt).content.decode()
    assert not Payment.objects.exists()

    assert app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)["outcome"] == "complete"
    page = return_page(attempt).content.decode()
    assert 'data-testid="checkout-paid"' in page
    assert "Paid" in return_page(attempt).content.decode()

    payment = Payment.objects.get()
    assert payment.amount == Decimal("230.00") and payment.method == Payment.Method.CARD_ONLINE
    assert payment.external_id.startswith("pi_")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.balance == 0
    assert 'data-testid="pay-paid"' in Browser().get(payment_link_path(invoice)).content.decode()


def test_a_double_click_makes_one_session(app_on_fake, account, invoice):
    first, second = start(invoice), start(invoice)
    assert first["Location"] == second["Location"]
    assert CheckoutAttempt.objects.count() == 1
    assert len({r["idempotency_key"] for r in sessions_made(app_on_fake)}) == 1


def test_webhook_and_return_page_record_one_payment(
    app_on_fake, account, invoice, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    start(invoice)
    attempt = CheckoutAttempt.objects.get()
    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)
    assert app_on_fake.control.wait_for_webhooks(timeout=10)
    with app_on_fake.webhooks.lock:
        items = [
            i
            for i in app_on_fake.webhooks.received
            if i.path == "/connect" and json.loads(i.body)["type"] == "checkout.session.completed"
        ]
    assert items
    with django_capture_on_commit_callbacks(execute=True):
        for item in items * 2:
            response = Browser().post(
                reverse("stripe_webhook"),
                item.body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=item.signature,
            )
            assert response.status_code == 200
    assert Payment.objects.count() == 1
    assert 'data-testid="checkout-paid"' in return_page(attempt).content.decode()
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_a_paid_or_void_invoice_gets_no_session(app_on_fake, account, tenant, ana, invoice):
    other = issued_invoice(tenant.practice, ana, tenant.biller, "40.00")
    pay(tenant.practice, ana, tenant.biller, "230.00", allocations={invoice.pk: Decimal("230.00")})
    invoice_void(invoice=other, actor=tenant.owner, reason="Entered twice")
    invoice.refresh_from_db()

    for target, message in ((invoice, INVOICE_PAID), (other, INVOICE_VOID)):
        response = start(target, balance="230.00")
        assert response.status_code == 409
        assert message in response.content.decode()
        assert "Pay online" not in Browser().get(payment_link_path(target)).content.decode()
    assert not sessions_made(app_on_fake)
    assert not CheckoutAttempt.objects.exists()


def test_an_invoice_changed_since_the_page_gets_no_session(app_on_fake, account, invoice):
    response = start(invoice, balance="150.00")
    assert response.status_code == 409
    assert INVOICE_CHANGED in response.content.decode()
    assert not sessions_made(app_on_fake)


def test_a_practice_that_cannot_take_charges_explains(app_on_fake, account, invoice):
    StripeAccount.objects.filter(pk=account.pk).update(charges_enabled=False)
    page = Browser().get(payment_link_path(invoice)).content.decode()
    assert "Pay online" not in page
    assert "cannot take card payments online" in page

    response = start(invoice)
    assert response.status_code == 409
    assert "cannot take card payments online" in response.content.decode()
    assert not sessions_made(app_on_fake)


def test_a_practice_without_stripe_shows_no_pay_online(app_on_fake, invoice):
    page = Browser().get(payment_link_path(invoice)).content.decode()
    assert "Pay online" not in page and "cannot take card payments" not in page


def test_a_declined_card_leaves_the_invoice_open(app_on_fake, account, invoice):
    start(invoice)
    attempt = CheckoutAttempt.objects.get()
    outcome = app_on_fake.control.pay_session(attempt.stripe_checkout_session_id, card=CARD_DECLINED.replace(" ", ""))
    assert outcome["outcome"] == "declined"

    assert 'data-testid="checkout-processing"' in return_page(attempt).content.decode()
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and invoice.balance == Decimal("230.00")


def test_the_return_page_refuses_a_forged_attempt(app_on_fake):
    assert Browser().get(reverse("checkout_return", kwargs={"token": "12:forged"})).status_code == 404


def test_cancel_goes_back_to_the_payment_link(app_on_fake, account, invoice):
    start(invoice)
    attempt = CheckoutAttempt.objects.get()
    response = Browser().get(reverse("checkout_cancel", kwargs={"token": attempt_token(attempt)}))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path.startswith("/pay/")


def test_nothing_clinical_or_personal_goes_to_stripe(app_on_fake, account, tenant, invoice):
    start(invoice)
    (request,) = sessions_made(app_on_fake)
    sent = json.dumps(request["params"])
    assert f"Invoice {invoice.number}" in sent
    for secret in ("therapy", "Therapy", "Ana", "Lima", tenant.practice.name):
        assert secret not in sent, secret


def test_an_invoice_settled_meanwhile_keeps_the_card_money_as_credit(app_on_fake, account, tenant, ana, invoice):
    start(invoice)
    attempt = CheckoutAttempt.objects.get()
    # Staff take cash for it while the client is on Stripe's page, then the card is charged too.
    pay(tenant.practice, ana, tenant.biller, "230.00", allocations={invoice.pk: Decimal("230.00")})
    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)

    assert 'data-testid="checkout-paid"' in return_page(attempt).content.decode()
    card = Payment.objects.get(method=Payment.Method.CARD_ONLINE)
    assert card.amount == Decimal("230.00") and not card.allocations.exists()
    ana.account.refresh_from_db()
    assert ana.account.credit_balance == Decimal("230.00")


def test_an_expired_session_says_nothing_was_charged_and_a_new_one_is_made(app_on_fake, account, invoice):
    start(invoice)
    attempt = CheckoutAttempt.objects.get()
    app_on_fake.control.advance_clock(25 * 3600)

    page = return_page(attempt).content.decode()
    assert 'data-testid="checkout-expired"' in page and "nothing was charged" in page
    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.EXPIRED

    assert start(invoice).status_code == 303
    assert CheckoutAttempt.objects.count() == 2
    assert not Payment.objects.exists()
