"""Issue 15, part 3: in the client portal, Pay with Visa •••• 4242 confirmed by one click.

The client is present, so the saved card is charged on-session (a PaymentIntent with the
saved payment method, confirm=true, never off_session), keyed by the attempt row like
staff's Pay now, against the fake Stripe over real HTTP. A decline says why in plain
words and leaves the invoice open; a bank that asks for 3D Secure sends the client to
its page and back; a double submit charges once."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
from django.core import mail

from billing.models import Invoice, Payment
from billing.submission import submission_key_new
from payments.models import CardChargeAllocation, CardChargeAttempt, StripeAccount
from tests.factories import ClientFactory, issued_invoice
from tests.portal import grant_portal, portal_signed_in

from .helpers import CARD_OK, connected_account, save_card

pytestmark = pytest.mark.django_db

CARD_CHARGE_FAILS = "4000 0000 0000 0341"  # saves fine, every charge is declined
CARD_3DS_ALWAYS = "4000 0027 6000 3184"  # asks the bank every time, on-session too


@pytest.fixture
def ana(tenant):
    client = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    grant_portal(client)
    return client


@pytest.fixture
def invoice(tenant, ana):
    return issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")


@pytest.fixture
def account(app_on_fake, tenant):
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def intents_made(fake):
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/payment_intents"]


def fake_objects(fake, kind):
    return [o for o in fake.control.call("GET", "state").values() if o["object"] == kind]


def pay(browser, invoice, card, *, key=None, amount=None, follow=True):
    data = {"card": card.pk, "amount": str(invoice.balance if amount is None else amount)}
    data["submission_key"] = key or submission_key_new()
    return browser.post(f"/portal/invoices/{invoice.pk}/pay/card/", data, follow=follow)


def test_pay_with_the_saved_card_charges_it_on_session_once_and_the_invoice_shows_paid(
    app_on_fake, account, tenant, ana, invoice
):
    card = save_card(app_on_fake, ana, CARD_OK)
    browser = portal_signed_in(ana)

    page = browser.get(f"/portal/invoices/{invoice.pk}/").content.decode()
    assert "Pay with Visa •••• 4242" in page and "Charges $230.00 to your saved card now." in page

    response = pay(browser, invoice, card)

    text = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/portal/invoices/{invoice.pk}/"
    assert "Thank you: $230.00 paid with Visa •••• 4242." in text
    assert 'data-testid="portal-details-status">Paid' in text
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and invoice.balance == 0
    attempt = CardChargeAttempt.objects.get()
    assert attempt.on_session and attempt.created_by is None and attempt.status == "succeeded"
    payment = Payment.objects.get()
    assert (payment.amount, payment.method, payment.external_id) == (
        Decimal("230.00"),
        Payment.Method.CARD_ON_FILE,
        attempt.stripe_payment_intent_id,
    )
    (request,) = intents_made(app_on_fake)
    assert request["idempotency_key"] == f"cardcharge:{attempt.pk}:intent"
    assert request["stripe_account"] == account.stripe_account_id
    params = request["params"]
    # The client is present: confirmed on-session, with where the bank sends them back.
    assert params["confirm"] == "true" and "off_session" not in params
    assert params["payment_method"] == card.stripe_payment_method_id
    assert params["return_url"].endswith(f"/portal/card-charges/{attempt.pk}/return/")
    assert params["metadata"] == {"invoice": str(invoice.pk), "card_charge": str(attempt.pk)}
    # Nothing in flight any more: the invoice can be charged again (it has nothing to charge).
    assert not CardChargeAllocation.objects.filter(in_flight=True).exists()


def test_the_same_form_submitted_twice_charges_once(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_OK)
    browser = portal_signed_in(ana)
    key = submission_key_new()

    first = pay(browser, invoice, card, key=key)
    second = pay(browser, invoice, card, key=key, amount="230.00")

    assert "$230.00 paid with Visa •••• 4242" in first.content.decode()
    assert "$230.00 paid with Visa •••• 4242" in second.content.decode()
    assert CardChargeAttempt.objects.count() == 1
    assert len(fake_objects(app_on_fake, "payment_intent")) == 1 and Payment.objects.count() == 1
    # A fresh form for the paid invoice charges nothing.
    third = pay(browser, invoice, card, amount="230.00")
    assert "This invoice is already paid." in third.content.decode()
    assert len(intents_made(app_on_fake)) == 1


def test_a_declined_card_says_why_in_plain_words_and_the_invoice_stays_open(
    app_on_fake, account, tenant, ana, invoice, django_capture_on_commit_callbacks
):
    card = save_card(app_on_fake, ana, CARD_CHARGE_FAILS)
    browser = portal_signed_in(ana)

    with django_capture_on_commit_callbacks(execute=True):
        response = pay(browser, invoice, card)

    text = response.content.decode()
    assert (
        f"Visa •••• 0341 was declined: Your card was declined. Nothing was charged, and invoice {invoice.number} "
        "is still open." in text
    )
    assert 'data-testid="portal-details-status">Unpaid' in text and "Pay with Visa •••• 0341" in text
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and invoice.balance == Decimal("230.00")
    assert not Payment.objects.exists()
    attempt = CardChargeAttempt.objects.get()
    assert (attempt.status, attempt.decline_code) == ("failed", "generic_decline")
    # The client read it on the screen: no "did not go through" email as for staff's Pay now.
    assert mail.outbox == []


def test_a_bank_asking_for_3d_secure_sends_the_client_to_it_and_back(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_3DS_ALWAYS)
    browser = portal_signed_in(ana)

    response = pay(browser, invoice, card, follow=False)

    attempt = CardChargeAttempt.objects.get()
    assert attempt.status == "requires_action" and attempt.in_flight
    assert response.status_code == 303
    bank = response["Location"]
    assert bank == f"{app_on_fake.url}/c/authenticate/{attempt.stripe_payment_intent_id}"
    assert not Payment.objects.exists()
    # A second click while the bank waits sends the client back to the same page: no second PaymentIntent.
    again = pay(browser, invoice, card, follow=False)
    assert again["Location"] == bank and len(intents_made(app_on_fake)) == 1
    # The payment page says what is waiting, and offers to finish or pay another way.
    page = browser.get(f"/portal/invoices/{invoice.pk}/").content.decode()
    assert "Confirm with your bank" in page and "Pay another way" in page and "Pay with Visa" not in page

    # The client completes authentication on the bank's page, which sends them back.
    done = requests.post(bank, data={"action": "complete"}, allow_redirects=False, timeout=10)
    back = urlsplit(done.headers["Location"])
    assert back.path == f"/portal/card-charges/{attempt.pk}/return/"
    response = browser.get(f"{back.path}?{back.query}", follow=True)

    assert "Thank you: $230.00 paid with Visa •••• 3184." in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID and Payment.objects.count() == 1
    assert len(fake_objects(app_on_fake, "payment_intent")) == 1


def test_a_failed_3d_secure_leaves_the_invoice_open_and_says_so(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_3DS_ALWAYS)
    browser = portal_signed_in(ana)
    bank = pay(browser, invoice, card, follow=False)["Location"]

    done = requests.post(bank, data={"action": "fail"}, allow_redirects=False, timeout=10)
    back = urlsplit(done.headers["Location"])
    response = browser.get(f"{back.path}?{back.query}", follow=True)

    text = response.content.decode()
    assert "Your bank did not confirm the payment:" in text and "is still open." in text
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and not Payment.objects.exists()
    assert CardChargeAttempt.objects.get().status == "failed"
    # Free to try again (or pay another way).
    assert "Pay with Visa •••• 3184" in browser.get(f"/portal/invoices/{invoice.pk}/").content.decode()


def test_pay_another_way_stops_the_waiting_payment_at_stripe(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_3DS_ALWAYS)
    browser = portal_signed_in(ana)
    pay(browser, invoice, card, follow=False)
    attempt = CardChargeAttempt.objects.get()

    response = browser.post(f"/portal/card-charges/{attempt.pk}/stop/", follow=True)

    assert "The card payment was stopped. Nothing was charged" in response.content.decode()
    (intent,) = fake_objects(app_on_fake, "payment_intent")
    assert intent["status"] == "canceled"
    attempt.refresh_from_db()
    assert attempt.status == "failed" and not attempt.in_flight
    cancel = [r for r in app_on_fake.control.requests() if r["path"].endswith("/cancel")]
    assert cancel[0]["idempotency_key"] == f"cardcharge:{attempt.pk}:cancel"
    # The bank's page can no longer take the money.
    late = requests.post(
        f"{app_on_fake.url}/c/authenticate/{intent['id']}", data={"action": "complete"}, allow_redirects=False
    )
    assert late.status_code == 409 and not Payment.objects.exists()


def test_pay_full_balance_with_the_card_pays_every_open_invoice_oldest_first(app_on_fake, account, tenant, ana):
    older = issued_invoice(tenant.practice, ana, tenant.biller, "100.00")
    newer = issued_invoice(tenant.practice, ana, tenant.biller, "40.00", "10.00")
    card = save_card(app_on_fake, ana, CARD_OK)
    browser = portal_signed_in(ana)

    page = browser.get("/portal/").content.decode()
    assert "Pay full balance with Visa •••• 4242" in page
    assert "Charges $150.00 to your saved card now, paying each invoice oldest first." in page
    data = {"client": ana.pk, "card": card.pk, "amount": "150.000"}
    response = browser.post("/portal/pay-balance/card/", data, follow=True)

    assert "Thank you: $150.00 paid with Visa •••• 4242." in response.content.decode()
    (request,) = intents_made(app_on_fake)
    assert request["params"]["amount"] == "15000" and "off_session" not in request["params"]
    payment = Payment.objects.get()
    assert [(a.invoice_id, a.amount) for a in payment.allocations.order_by("pk")] == [
        (older.pk, Decimal("100.00")),
        (newer.pk, Decimal("50.00")),
    ]
    for invoice in (older, newer):
        invoice.refresh_from_db()
        assert invoice.status == Invoice.Status.PAID
    assert "Pay with Visa" not in browser.get("/portal/").content.decode()


def test_a_balance_changed_since_the_page_charges_nothing(app_on_fake, account, tenant, ana, invoice):
    card = save_card(app_on_fake, ana, CARD_OK)
    issued_invoice(tenant.practice, ana, tenant.biller, "20.00")
    browser = portal_signed_in(ana)

    data = {"client": ana.pk, "card": card.pk, "amount": "230.00"}
    response = browser.post("/portal/pay-balance/card/", data, follow=True)

    assert "Your balance has changed since the page was opened." in response.content.decode()
    assert not intents_made(app_on_fake) and not CardChargeAttempt.objects.exists()


def test_another_clients_invoice_card_or_charge_is_not_found(app_on_fake, account, tenant, other_tenant, ana, invoice):
    mine = save_card(app_on_fake, ana, CARD_OK)
    ben = ClientFactory(practice=tenant.practice, email="ben@mail.test")
    grant_portal(ben)
    bens_invoice = issued_invoice(tenant.practice, ben, tenant.biller, "60.00")
    bens_card = save_card(app_on_fake, ben, CARD_OK)
    far = ClientFactory(practice=other_tenant.practice, email="far@mail.test")
    fars_invoice = issued_invoice(other_tenant.practice, far, other_tenant.biller, "60.00")
    browser = portal_signed_in(ana)

    # Ben's (same practice) and Far's (another practice) invoices, with Ana's card or Ben's.
    assert browser.get(f"/portal/invoices/{bens_invoice.pk}/").status_code == 404
    assert browser.get(f"/portal/invoices/{fars_invoice.pk}/").status_code == 404
    assert pay(browser, bens_invoice, mine, follow=False).status_code == 404
    assert pay(browser, fars_invoice, mine, follow=False).status_code == 404
    assert pay(browser, invoice, bens_card, follow=False).status_code == 404
    # Ben's balance, with his card.
    balance = {"client": ben.pk, "card": bens_card.pk, "amount": "60.000"}
    assert browser.post("/portal/pay-balance/card/", balance).status_code == 404
    # Ben's charge: its return, check and stop pages.
    pay(portal_signed_in(ben), bens_invoice, bens_card)
    bens_charge = CardChargeAttempt.objects.get(client=ben)
    assert browser.get(f"/portal/card-charges/{bens_charge.pk}/return/").status_code == 404
    assert browser.post(f"/portal/card-charges/{bens_charge.pk}/check/").status_code == 404
    assert browser.post(f"/portal/card-charges/{bens_charge.pk}/stop/").status_code == 404
    assert CardChargeAttempt.objects.filter(client=ana).count() == 0


def test_staff_pay_now_still_charges_off_session(app_on_fake, account, tenant, ana, invoice):
    from tests.helpers import signed_in, url

    card = save_card(app_on_fake, ana, CARD_OK)
    signed_in(tenant.biller).post(
        url(tenant, "payments:pay_now", invoice_id=invoice.pk), {"card": card.pk, "balance": "230.000"}
    )
    (request,) = intents_made(app_on_fake)
    assert request["params"]["off_session"] == "true" and "return_url" not in request["params"]
    attempt = CardChargeAttempt.objects.get()
    assert not attempt.on_session and [a.invoice_id for a in attempt.allocations.all()] == [invoice.pk]
