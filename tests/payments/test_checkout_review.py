"""Issue 14, "Bad input and failure": an amount or currency from Stripe that does not match
what the payment page asked for is held for review and staff are told, never silently
applied. Staff record what Stripe actually took from the invoice page, once.

The mismatch is made as it would happen: the attempt's row is changed after Stripe made
the session for it (Stripe then charges the session's own amount)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils.html import escape

from billing.models import Invoice, Payment
from billing.payment_links import payment_link_path, payment_link_token
from payments.checkout import UNDER_REVIEW, attempt_token
from payments.models import CheckoutAttempt, StripeAccount
from payments.review import HELD_ALREADY, HELD_OTHER_CURRENCY, HELD_RECORDED, HELD_SUBJECT
from payments.take_payment_views import HELD_FIRST, PAYMENT_HELD
from practice.models import AuditLog, OutgoingEmail, Practice
from practice.money import practice_money
from tests.factories import ClientFactory, issued_invoice, pay
from tests.helpers import signed_in, url

from .conftest import CONNECT_SECRET
from .helpers import connected_account

pytestmark = pytest.mark.django_db


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


def paid_with_a_mismatch(fake, invoice, **changes):
    """A client pays the invoice from its link, and the attempt no longer says what Stripe charged."""
    path = reverse("checkout_start", kwargs={"token": payment_link_token(invoice)})
    assert Browser().post(path, {"balance": str(invoice.balance)}).status_code == 303
    attempt = CheckoutAttempt.objects.get()
    CheckoutAttempt.objects.filter(pk=attempt.pk).update(**(changes or {"amount": Decimal("200.00")}))
    assert fake.control.pay_session(attempt.stripe_checkout_session_id)["outcome"] == "complete"
    return attempt


def client_return(attempt):
    return Browser().get(reverse("checkout_return", kwargs={"token": attempt_token(attempt)}))


def invoice_page(user, invoice):
    return signed_in(user).get(url(invoice.practice, "billing:invoice", invoice_id=invoice.pk)).content.decode()


def record(user, invoice, attempt, *, follow=False):
    return signed_in(user).post(
        url(invoice.practice, "payments:held_record", invoice_id=invoice.pk), {"attempt": attempt.pk}, follow=follow
    )


def test_a_mismatch_is_held_nothing_is_recorded_and_staff_are_told(app_on_fake, account, tenant, invoice):
    attempt = paid_with_a_mismatch(app_on_fake, invoice)

    page = client_return(attempt).content.decode()
    # The payer is not told Paid, nor left on Processing.
    assert 'data-testid="checkout-held"' in page and "checking it" in page

    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.HELD
    assert (attempt.stripe_amount, attempt.stripe_currency) == (Decimal("230.00"), "USD")
    assert attempt.stripe_payment_intent_id.startswith("pi_")
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and invoice.balance == Decimal("230.00")
    assert AuditLog.objects.filter(action="checkout.held").count() == 1

    # The practice's billing staff are emailed, once each; clinicians are not.
    emails = OutgoingEmail.objects.filter(topic="checkout_held")
    assert sorted(e.to for e in emails) == ["admin@harbour.test", "biller@harbour.test", "owner@harbour.test"]
    assert {e.subject for e in emails} == {HELD_SUBJECT.format(number=invoice.number)}
    body = emails[0].text
    assert "Stripe took $230.00" in body and "asked for $200.00" in body
    assert invoice.get_absolute_url() in body
    client_return(attempt)
    assert OutgoingEmail.objects.filter(topic="checkout_held").count() == 3

    # A notice on the invoice (with what to do) and on the Billing page.
    html = invoice_page(tenant.biller, invoice)
    assert 'data-testid="held-payment"' in html and "Record $230.00 from Stripe" in html
    billing = signed_in(tenant.biller).get(url(tenant, "billing:home")).content.decode()
    assert 'data-testid="held-payments"' in billing and invoice.number in billing
    # Not for a clinician, who cannot act on it.
    assert 'data-testid="held-payment"' not in invoice_page(tenant.clinician, invoice)


def test_the_webhook_and_the_return_page_hold_it_once(
    app_on_fake, account, tenant, invoice, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    attempt = paid_with_a_mismatch(app_on_fake, invoice)
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
    client_return(attempt)

    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.HELD
    assert not Payment.objects.exists()
    assert AuditLog.objects.filter(action="checkout.held").count() == 1
    assert OutgoingEmail.objects.filter(topic="checkout_held").count() == 3


def test_staff_record_what_stripe_took_once(app_on_fake, account, tenant, ana, invoice):
    attempt = paid_with_a_mismatch(app_on_fake, invoice)
    client_return(attempt)

    response = record(tenant.biller, invoice, attempt, follow=True)

    assert response.redirect_chain == [(invoice.get_absolute_url(), 302)]
    page = response.content.decode()
    assert HELD_RECORDED.format(amount="$230.00", number=invoice.number) in page
    payment = Payment.objects.get()
    assert payment.amount == Decimal("230.00") and payment.method == Payment.Method.CARD_ONLINE
    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.PAID and attempt.payment_id == payment.pk
    assert attempt.resolved_by == tenant.biller and attempt.resolved_at is not None
    assert payment.external_id == attempt.stripe_payment_intent_id
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert 'data-testid="held-payment"' not in invoice_page(tenant.biller, invoice)
    assert (
        'data-testid="held-payments"' not in signed_in(tenant.biller).get(url(tenant, "billing:home")).content.decode()
    )
    assert OutgoingEmail.objects.filter(topic="payment_receipt", to="ana@mail.test").count() == 1

    # Another tab's form, a repeat: nothing more.
    again = record(tenant.owner, invoice, attempt, follow=True)
    assert HELD_ALREADY in again.content.decode()
    assert Payment.objects.count() == 1
    assert OutgoingEmail.objects.filter(topic="payment_receipt").count() == 1
    # Nor does a late webhook or return page change anything.
    client_return(attempt)
    assert Payment.objects.count() == 1


def test_what_the_invoice_does_not_owe_becomes_credit(app_on_fake, account, tenant, ana, invoice):
    # The page asked for 230.00 but the attempt was made to say 250.00: Stripe took 230.00.
    attempt = paid_with_a_mismatch(app_on_fake, invoice, amount=Decimal("250.00"))
    client_return(attempt)
    # Meanwhile the client paid 30.00 in cash.
    pay(tenant.practice, ana, tenant.biller, "30.00", allocations={invoice.pk: Decimal("30.00")})

    record(tenant.owner, invoice, attempt)

    card = Payment.objects.get(method=Payment.Method.CARD_ONLINE)
    assert card.amount == Decimal("230.00") and card.allocated == Decimal("200.00")
    assert card.credited == Decimal("30.00")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID


def test_another_currency_cannot_be_recorded_here(app_on_fake, account, tenant, invoice):
    # The practice's currency changed after the session was made in USD.
    attempt = paid_with_a_mismatch(app_on_fake, invoice, currency="EUR")
    Practice.objects.filter(pk=tenant.practice.pk).update(currency="EUR")
    client_return(attempt)
    attempt.refresh_from_db()
    assert attempt.status == CheckoutAttempt.Status.HELD and attempt.stripe_currency == "USD"

    practice = Practice.objects.get(pk=tenant.practice.pk)
    message = escape(
        HELD_OTHER_CURRENCY.format(amount=practice_money(practice, Decimal("230"), currency="USD"), currency="EUR")
    )
    html = invoice_page(tenant.owner, invoice)
    notice = html.split('data-testid="held-payment"')[1].split("</section>")[0]
    assert message in notice and "Record " not in notice

    assert message in record(tenant.owner, invoice, attempt, follow=True).content.decode()
    assert not Payment.objects.exists()


def test_staff_see_the_hold_after_take_payment(app_on_fake, account, tenant, invoice):
    biller = signed_in(tenant.biller)
    biller.post(url(tenant, "payments:take_payment", invoice_id=invoice.pk), {"balance": "230.00"})
    attempt = CheckoutAttempt.objects.get()
    CheckoutAttempt.objects.filter(pk=attempt.pk).update(amount=Decimal("200.00"))
    app_on_fake.control.pay_session(attempt.stripe_checkout_session_id)

    response = biller.get(
        url(tenant, "payments:take_payment_return", invoice_id=invoice.pk), {"attempt": attempt.pk}, follow=True
    )

    html = response.content.decode()
    assert escape(PAYMENT_HELD) in html and 'data-testid="held-payment"' in html
    assert not Payment.objects.exists()


def test_another_practice_cannot_record_the_hold(app_on_fake, account, tenant, other_tenant, invoice):
    attempt = paid_with_a_mismatch(app_on_fake, invoice)
    client_return(attempt)
    theirs = issued_invoice(other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.owner)

    # Their owner, with our attempt on their own invoice: no such payment.
    response = record(other_tenant.owner, theirs, attempt)
    assert response.status_code == 404
    # Our biller, with our attempt on another of our invoices: no such payment either.
    other = issued_invoice(tenant.practice, invoice.client, tenant.biller, "10.00")
    assert record(tenant.biller, other, attempt).status_code == 404
    assert record(tenant.clinician, invoice, attempt).status_code == 403
    assert not Payment.objects.exists()


def test_while_held_nothing_more_is_taken_online(app_on_fake, account, tenant, invoice):
    attempt = paid_with_a_mismatch(app_on_fake, invoice)
    client_return(attempt)
    message = escape(UNDER_REVIEW.format(practice=tenant.practice.name))

    # The payer, back on the link, is not offered to pay again.
    page = Browser().get(payment_link_path(invoice)).content.decode()
    assert 'data-testid="pay-online-unavailable"' in page and message in page
    path = reverse("checkout_start", kwargs={"token": payment_link_token(invoice)})
    refused = Browser().post(path, {"balance": "230.00"})
    assert refused.status_code == 409 and message in refused.content.decode()
    # Nor are staff, until they have decided.
    assert escape(HELD_FIRST) in invoice_page(tenant.biller, invoice)
    biller = signed_in(tenant.biller)
    page = biller.post(
        url(tenant, "payments:take_payment", invoice_id=invoice.pk), {"balance": "230.00"}, follow=True
    ).content.decode()
    assert message in page
    assert CheckoutAttempt.objects.count() == 1
