"""Issue 14, part 6: Pay now with a saved card. The attempt row comes first and keys an
off-session PaymentIntent on the practice's connected account (the fake Stripe, over real
HTTP). A card is charged at most once: Stripe's faults are retried with the same key, a
double submit joins the first attempt, and webhooks converge on Stripe's state. A decline
is a failed attempt with the reason for staff and a kind email to the client;
authentication_required is Needs client action with a link to finish paying."""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as Browser
from django.urls import reverse

from billing.models import Invoice, Payment
from billing.submission import submission_key_new
from payments import card_charges, gateway
from payments.card_charges import (
    CHARGE_CARD_GONE,
    CHARGE_IN_PROGRESS,
    CHARGE_NEEDS_ACTION,
    STRIPE_NO_ANSWER,
)
from payments.checkout import INVOICE_PAID
from payments.models import CardChargeAttempt, SavedCard, StripeAccount, StripeCustomer
from practice.models import OutgoingEmail
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

from .conftest import CONNECT_SECRET
from .helpers import CARD_3DS, CARD_OK, connected_account, save_card

pytestmark = pytest.mark.django_db

CARD_CHARGE_FAILS = "4000 0000 0000 0341"  # saves fine, every charge is declined
CARD_3DS_ALWAYS = "4000 0027 6000 3184"


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


@pytest.fixture
def invoice(tenant, ana):
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def pay_now(tenant, invoice, card, *, key=None, balance=None, user=None):
    data = {"card": card.pk, "balance": str(invoice.balance if balance is None else balance)}
    if key:
        data["submission_key"] = key
    return signed_in(user or tenant.biller).post(
        url(tenant, "payments:pay_now", invoice_id=invoice.pk), data, follow=True
    )


def intents_made(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/payment_intents"]


def fake_intents(fake, account):
    state = fake.control.call("GET", "state")
    return [o for o in state.values() if o["object"] == "payment_intent"]


def test_pay_now_charges_the_default_card_once_and_the_invoice_is_paid(
    app_on_fake, account, tenant, ana, invoice, settings
):
    settings.STRIPE_PLATFORM_FEE_PERCENT = "1"
    card = save_card(app_on_fake, ana, CARD_OK)

    page = signed_in(tenant.biller).get(invoice.get_absolute_url()).content.decode()
    assert "Pay now with Visa •••• 4242" in page

    response = pay_now(tenant, invoice, card)

    assert "Payment of $230.00 taken from Visa •••• 4242." in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.balance == 0
    attempt = CardChargeAttempt.objects.get()
    payment = Payment.objects.get()
    assert (payment.amount, payment.method) == (Decimal("230.00"), Payment.Method.CARD_ON_FILE)
    assert payment.external_id == attempt.stripe_payment_intent_id
    assert (attempt.status, attempt.payment, attempt.created_by) == ("succeeded", payment, tenant.biller)
    (request,) = intents_made(app_on_fake)
    assert request["idempotency_key"] == f"cardcharge:{attempt.pk}:intent"
    assert request["stripe_account"] == account.stripe_account_id
    params = request["params"]
    assert (params["amount"], params["currency"], params["confirm"], params["off_session"]) == (
        "23000",
        "usd",
        "true",
        "true",
    )
    assert params["customer"] == card.customer.stripe_customer_id
    assert params["payment_method"] == card.stripe_payment_method_id
    assert params["application_fee_amount"] == "230"
    assert params["metadata"] == {"invoice": str(invoice.pk), "card_charge": str(attempt.pk)}
    (intent,) = fake_intents(app_on_fake, account)
    assert intent["status"] == "succeeded" and intent["id"] == attempt.stripe_payment_intent_id
    # Paid: Pay now is gone, the succeeded charge is listed
    assert "Pay now with" not in signed_in(tenant.biller).get(invoice.get_absolute_url()).content.decode()
    # the payer gets one receipt, even when the webhook settles the same charge again
    card_charges.card_charge_settle(
        attempt_id=attempt.pk, intent=gateway.card_intent_retrieve(intent["id"], account.stripe_account_id)
    )
    (receipt,) = OutgoingEmail.objects.filter(topic="payment_receipt")
    assert receipt.to == ana.email


def test_a_declined_card_fails_the_attempt_with_the_reason_and_tells_the_client(
    app_on_fake, account, tenant, ana, invoice, django_capture_on_commit_callbacks
):
    card = save_card(app_on_fake, ana, CARD_CHARGE_FAILS)

    with django_capture_on_commit_callbacks(execute=True):
        response = pay_now(tenant, invoice, card)

    text = response.content.decode()
    assert "Visa •••• 0341 was declined: Your card was declined. Nothing was charged." in text
    attempt = CardChargeAttempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("failed", "generic_decline")
    assert attempt.failure_reason == "Your card was declined."
    assert attempt.stripe_payment_intent_id.startswith("pi_")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and not Payment.objects.exists()
    # Staff see the reason on the invoice page; Pay now is offered again
    page = signed_in(tenant.biller).get(invoice.get_absolute_url()).content.decode()
    assert "Failed" in page and "Your card was declined." in page and "(generic_decline)" in page
    assert "Pay now with Visa •••• 0341" in page
    # The client gets a kind email with the payment link, not the bank's code
    (message,) = mail.outbox
    assert message.to == ["ana@mail.test"]
    assert "did not go through" in message.subject
    assert "/pay/" in message.body and "generic_decline" not in message.body


def test_authentication_required_needs_the_client_and_emails_a_link_to_finish(
    app_on_fake, account, tenant, ana, invoice, django_capture_on_commit_callbacks
):
    card = save_card(app_on_fake, ana, CARD_3DS_ALWAYS)

    with django_capture_on_commit_callbacks(execute=True):
        response = pay_now(tenant, invoice, card)

    assert CHARGE_NEEDS_ACTION.format(card="Visa •••• 3184") in response.content.decode()
    attempt = CardChargeAttempt.objects.get()
    assert attempt.status == CardChargeAttempt.Status.REQUIRES_ACTION
    assert attempt.decline_code == "authentication_required"
    page = signed_in(tenant.biller).get(invoice.get_absolute_url()).content.decode()
    assert "Needs client action" in page
    (message,) = mail.outbox
    assert message.subject == f"Please confirm your payment to {tenant.practice.name}"
    link = next(word for word in message.body.split() if "/pay/" in word)
    # The link is the invoice's payment link: the client can pay it on-session
    pay_page = Browser().get(link.replace("http://127.0.0.1:8000", "")).content.decode()
    assert "Pay online" in pay_page
    assert not Payment.objects.exists()


def test_a_card_attached_without_setup_needs_authentication_off_session(app_on_fake, account, tenant, ana, invoice):
    # 4000 0025 0000 3155 seeded at the fake (attached, never set up for off-session use)
    stripe = app_on_fake.client()
    opts = {"stripe_account": account.stripe_account_id}
    cus = stripe.v1.customers.create({"name": "Ana Lima"}, {**opts, "idempotency_key": "test:seed:customer"})
    pm = stripe.v1.payment_methods.attach(
        "pm_card_authenticationRequiredOnSetup", {"customer": cus.id}, {**opts, "idempotency_key": "test:seed:attach"}
    )
    customer = StripeCustomer.objects.create(
        practice=tenant.practice, client=ana, stripe_account_id=account.stripe_account_id, stripe_customer_id=cus.id
    )
    card = SavedCard.objects.create(
        practice=tenant.practice,
        client=ana,
        customer=customer,
        stripe_payment_method_id=pm.id,
        brand="visa",
        last4="3155",
        exp_month=12,
        exp_year=2030,
        is_default=True,
    )
    pay_now(tenant, invoice, card)
    assert CardChargeAttempt.objects.get().status == CardChargeAttempt.Status.REQUIRES_ACTION


def test_a_3155_card_saved_through_setup_charges_without_the_client(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_3DS)
    pay_now(tenant, invoice, card)
    assert CardChargeAttempt.objects.get().status == CardChargeAttempt.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("fault", "count", "performed"),
    [("500", 2, False), ("429", 1, False), ("timeout", 1, True), ("timeout", 2, False)],
)
def test_stripe_faults_are_retried_with_the_same_key_and_charge_once(
    app_on_fake, account, tenant, ana, invoice, settings, fault, count, performed
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    card = save_card(app_on_fake, ana, CARD_OK)
    app_on_fake.control.fail_next(
        fault, count=count, delay=1.0, perform=performed, path="/v1/payment_intents", method="POST"
    )

    pay_now(tenant, invoice, card)

    attempt = CardChargeAttempt.objects.get()
    assert attempt.status == CardChargeAttempt.Status.SUCCEEDED
    made = intents_made(app_on_fake)
    assert len(made) == count + 1
    assert {r["idempotency_key"] for r in made} == {f"cardcharge:{attempt.pk}:intent"}
    assert len(fake_intents(app_on_fake, account)) == 1
    assert Payment.objects.count() == 1


def test_stripe_never_answering_leaves_processing_and_the_webhook_settles_it(
    app_on_fake, account, tenant, ana, invoice, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    card = save_card(app_on_fake, ana, CARD_OK)
    # The charge is made, but every answer is lost.
    app_on_fake.control.fail_next(
        "timeout", count=gateway.cards.CHARGE_TRIES, delay=1.0, perform=True, path="/v1/payment_intents", method="POST"
    )

    response = pay_now(tenant, invoice, card)

    assert STRIPE_NO_ANSWER in response.content.decode()
    attempt = CardChargeAttempt.objects.get()
    assert attempt.status == CardChargeAttempt.Status.PROCESSING and attempt.stripe_payment_intent_id is None
    page = signed_in(tenant.biller).get(invoice.get_absolute_url()).content.decode()
    assert "Processing" in page and "Check again" in page and "Pay now with" not in page
    # A second Pay now is refused while it is under way
    assert card_charges.CardChargeAttempt.objects.filter(status="processing").count() == 1

    # Stripe's payment_intent.succeeded arrives (found by the attempt id in its metadata)
    assert app_on_fake.control.wait_for_webhooks(timeout=10)
    with app_on_fake.webhooks.lock:
        events = [
            i
            for i in app_on_fake.webhooks.received
            if i.path == "/connect" and json.loads(i.body)["type"] == "payment_intent.succeeded"
        ]
    assert len(events) == 1
    with django_capture_on_commit_callbacks(execute=True):
        for item in events * 3:
            answer = Browser().post(
                reverse("stripe_webhook"),
                item.body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=item.signature,
            )
            assert answer.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == CardChargeAttempt.Status.SUCCEEDED and attempt.stripe_payment_intent_id
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID

    # Check again afterwards asks Stripe, and charges nothing more
    signed_in(tenant.biller).post(url(tenant, "payments:pay_now_check", invoice_id=invoice.pk), {"attempt": attempt.pk})
    assert len(fake_intents(app_on_fake, account)) == 1 and Payment.objects.count() == 1


def test_check_again_finds_the_charge_stripe_made(app_on_fake, account, tenant, ana, invoice, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    card = save_card(app_on_fake, ana, CARD_OK)
    app_on_fake.control.fail_next(
        "timeout", count=gateway.cards.CHARGE_TRIES, delay=1.0, perform=True, path="/v1/payment_intents", method="POST"
    )
    pay_now(tenant, invoice, card)
    attempt = CardChargeAttempt.objects.get()
    assert attempt.status == CardChargeAttempt.Status.PROCESSING

    response = signed_in(tenant.biller).post(
        url(tenant, "payments:pay_now_check", invoice_id=invoice.pk), {"attempt": attempt.pk}, follow=True
    )

    assert "Payment of $230.00 taken" in response.content.decode()
    assert len(fake_intents(app_on_fake, account)) == 1 and Payment.objects.count() == 1


def test_the_same_form_submitted_twice_charges_once(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_OK)
    key = submission_key_new()
    first = pay_now(tenant, invoice, card, key=key)
    second = pay_now(tenant, invoice, card, key=key, balance="230.00")
    assert "Payment of $230.00 taken" in first.content.decode()
    assert "Payment of $230.00 taken" in second.content.decode()
    # A fresh form for the paid invoice is refused
    third = pay_now(tenant, invoice, card, balance="230.00")
    assert INVOICE_PAID in third.content.decode()
    assert CardChargeAttempt.objects.count() == 1
    assert len(fake_intents(app_on_fake, account)) == 1 and Payment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_click_racing_the_first_charge_joins_it(app_on_fake, tenant):
    account = StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )
    ana = ClientFactory(practice=tenant.practice, email="ana@mail.test")
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "230.00")
    card = save_card(app_on_fake, ana, CARD_OK)
    # The first charge is slow at Stripe, so the second click arrives while it is in flight.
    app_on_fake.control.fail_next("slow", delay=1.0, path="/v1/payment_intents", method="POST")
    key = submission_key_new()
    answers: list[str] = []

    def click() -> None:
        try:
            answers.append(pay_now(tenant, invoice, card, key=key).content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(answers) == 2 and all("Payment of $230.00 taken" in a for a in answers)
    assert CardChargeAttempt.objects.count() == 1
    assert len(fake_intents(app_on_fake, account)) == 1 and Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_one_attempt_in_flight_per_invoice(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_OK)
    card_charges.card_charge_create(invoice=invoice, card=card, actor=tenant.biller)
    response = pay_now(tenant, invoice, card)
    assert CHARGE_IN_PROGRESS in response.content.decode()
    assert not intents_made(app_on_fake)


def test_a_card_removed_since_the_page_charges_nothing(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_OK)
    SavedCard.objects.filter(pk=card.pk).update(is_default=False, removed_at="2026-01-01T00:00:00Z")
    response = pay_now(tenant, invoice, card)
    assert CHARGE_CARD_GONE in response.content.decode()
    assert not CardChargeAttempt.objects.exists() and not intents_made(app_on_fake)


def test_another_practices_invoice_or_card_is_not_charged(app_on_fake, account, tenant, other_tenant, ana, invoice):
    mine = save_card(app_on_fake, ana, CARD_OK)
    theirs = ClientFactory(practice=other_tenant.practice)
    their_invoice = issued_invoice(other_tenant.practice, theirs, other_tenant.biller, "50.00")
    # My biller, their invoice: 404
    assert (
        signed_in(tenant.biller)
        .post(url(tenant, "payments:pay_now", invoice_id=their_invoice.pk), {"card": mine.pk})
        .status_code
        == 404
    )
    # Their biller, their invoice, my client's card: refused
    response = pay_now(other_tenant, their_invoice, mine)
    assert CHARGE_CARD_GONE in response.content.decode()
    # Their biller checking my invoice's attempt: 404
    attempt = card_charges.card_charge_create(invoice=invoice, card=mine, actor=tenant.biller)
    response = signed_in(other_tenant.biller).post(
        url(other_tenant, "payments:pay_now_check", invoice_id=invoice.pk), {"attempt": attempt.pk}
    )
    assert response.status_code == 404
    assert not intents_made(app_on_fake)


def test_a_clinician_cannot_pay_now(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_OK)
    ana.clinicians.add(tenant.clinician)
    assert "Pay now with" not in signed_in(tenant.clinician).get(invoice.get_absolute_url()).content.decode()
    assert pay_now(tenant, invoice, card, user=tenant.clinician).status_code == 403
    assert not intents_made(app_on_fake)


def test_gateway_off_session_answers(app_on_fake, account, tenant, ana):
    """The gateway against the fake: 4242 succeeds, 4000 0000 0000 0002 is declined, an
    attached 3155 needs authentication; a decline is an answer, not an exception."""
    stripe = app_on_fake.client()
    opts = {"stripe_account": account.stripe_account_id}
    cus = stripe.v1.customers.create({"name": "Ana Lima"}, {**opts, "idempotency_key": "test:gw:customer"})

    def attach(token: str) -> str:
        return stripe.v1.payment_methods.attach(
            token, {"customer": cus.id}, {**opts, "idempotency_key": f"test:gw:{token}"}
        ).id

    def charge(pm: str, attempt_id: int) -> gateway.OffSessionCharge:
        return gateway.payment_intent_off_session(
            attempt_id=attempt_id,
            account_id=account.stripe_account_id,
            customer_id=cus.id,
            payment_method_id=pm,
            amount=2300,
            currency="USD",
            metadata={"card_charge": str(attempt_id)},
            application_fee_amount=None,
        )

    ok = charge(attach("pm_card_visa"), 901)
    assert ok.intent is not None and ok.intent.status == "succeeded" and ok.error_code is None
    assert (ok.intent.amount_received, ok.intent.currency) == (2300, "USD")

    declined = charge("pm_card_chargeDeclined", 902)
    assert (declined.error_code, declined.decline_code) == ("card_declined", "generic_decline")
    assert declined.message == "Your card was declined."
    assert declined.intent is not None and declined.intent.status == "requires_payment_method"

    auth = charge(attach("pm_card_authenticationRequiredOnSetup"), 903)
    assert (auth.error_code, auth.decline_code) == ("authentication_required", "authentication_required")

    # The same attempt again: Stripe's first answer, no new PaymentIntent
    again = charge("pm_card_chargeDeclined", 902)
    assert again.intent is not None and declined.intent.id == again.intent.id
