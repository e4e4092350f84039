"""Issue 14, part 9: online payments show their Stripe ids, Stripe status, the fee Stripe took
(from the charge's balance transaction) and a link to the Dashboard, on the Billing page's
Payments tab, the client's Billing tab and the payment's page. The details come from Stripe's
charge and payment_intent events, each re-reading the PaymentIntent, however often and in
whatever order they arrive."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
import requests
from django.test import Client as Browser
from django.urls import reverse

from billing.models import Payment
from billing.payment_links import payment_link_token
from payments import gateway, webhooks
from payments.checkout import checkout_refresh
from payments.models import CheckoutAttempt, StripeAccount, StripePayment, WebhookEvent
from payments.stripe_payments import STATUS_UNKNOWN, stripe_payment_sync
from tests.factories import ClientFactory, issued_invoice, online_payment, pay
from tests.helpers import signed_in, url

from .conftest import CONNECT_SECRET
from .helpers import connected_account

pytestmark = pytest.mark.django_db

DETAIL_EVENTS = ("charge.succeeded", "payment_intent.succeeded")


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", clinicians=[tenant.clinician])


@pytest.fixture
def account(app_on_fake, tenant, settings):
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET
    return StripeAccount.objects.create(
        practice=tenant.practice, stripe_account_id=connected_account(app_on_fake), charges_enabled=True
    )


def paid_online(fake, invoice) -> Payment:
    """The client pays the invoice's balance through Checkout on the fake; the return page
    records the payment (as in part 4)."""
    start = reverse("checkout_start", kwargs={"token": payment_link_token(invoice)})
    assert Browser().post(start, {"balance": str(invoice.balance)}).status_code == 303
    attempt = CheckoutAttempt.objects.get(invoice_id=invoice.pk)
    fake.control.pay_session(attempt.stripe_checkout_session_id)
    checkout_refresh(attempt)
    return Payment.objects.get(external_id__startswith="pi_", allocations__invoice=invoice)


def events(fake, *types: str) -> list:
    """The Connect events the fake delivered so far, of these types, as Stripe signed them."""
    assert fake.control.wait_for_webhooks(timeout=10)
    with fake.webhooks.lock:
        received = list(fake.webhooks.received)
    return [i for i in received if i.path == "/connect" and json.loads(i.body)["type"] in types]


def deliver(items, capture) -> None:
    with capture(execute=True):
        for item in items:
            response = Browser().post(
                reverse("stripe_webhook"),
                item.body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=item.signature,
            )
            assert response.status_code == 200


def test_the_fee_and_ids_come_from_stripe_and_show_on_every_payment_list(
    app_on_fake, account, tenant, ana, django_capture_on_commit_callbacks
):
    # Given Ana paid her 230.00 invoice online, and Bella took 20.00 cash from her
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00", "80.00")
    payment = paid_online(app_on_fake, invoice)
    pay(tenant.practice, ana, tenant.biller, "20.00", to_credit=True)

    # When Stripe's events about the charge reach the app
    deliver(events(app_on_fake, *DETAIL_EVENTS), django_capture_on_commit_callbacks)

    # Then the payment's Stripe row holds the fee of the charge's balance transaction
    row = StripePayment.objects.get()
    intent = app_on_fake.client().v1.payment_intents.retrieve(
        payment.external_id,
        {"expand": ["latest_charge.balance_transaction"]},
        {"stripe_account": account.stripe_account_id},
    )
    txn = intent.latest_charge.balance_transaction
    assert (row.payment_intent_id, row.charge_id, row.status) == (intent.id, intent.latest_charge.id, "succeeded")
    assert (
        (row.fee, row.net) == (Decimal(txn.fee) / 100, Decimal(txn.net) / 100) == (Decimal("6.97"), Decimal("223.03"))
    )
    assert WebhookEvent.objects.filter(status="processed", type__in=DETAIL_EVENTS).count() == 2

    # and the biller sees it on the Payments tab, the client's Billing tab and the payment page
    bella = signed_in(tenant.biller)
    dashboard = f"{app_on_fake.url}/dashboard/{account.stripe_account_id}/test/payments/{intent.id}"
    for page in (
        bella.get(url(tenant, "billing:payments")),
        bella.get(url(tenant, "clients:billing", client_id=ana.pk)),
        bella.get(url(tenant, "billing:payment", payment_id=payment.pk)),
    ):
        html = page.content.decode()
        assert page.status_code == 200
        assert intent.id in html and intent.latest_charge.id in html
        assert "$6.97" in html and "Succeeded" in html
        assert f'href="{dashboard}"' in html
    assert "$223.03" in bella.get(url(tenant, "billing:payment", payment_id=payment.pk)).content.decode()
    # The cash payment has no online details
    cash = Payment.objects.get(method="cash")
    assert (
        'data-testid="stripe-payment-panel"'
        not in bella.get(url(tenant, "billing:payment", payment_id=cash.pk)).content.decode()
    )
    tab = bella.get(url(tenant, "billing:payments")).content.decode()
    assert tab.count('data-testid="online-fee"') == 1 and tab.count('data-testid="payment-row"') == 2

    # and the link opens the payment in the (fake) Dashboard, with the same fee
    opened = requests.get(dashboard, timeout=10)
    assert opened.status_code == 200
    assert intent.id in opened.text and "6.97 USD" in opened.text


def test_each_event_three_times_shuffled_leaves_one_row_as_stripe_has_it(
    app_on_fake, account, tenant, ana, django_capture_on_commit_callbacks
):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "80.00")
    paid_online(app_on_fake, invoice)
    items = events(app_on_fake, *DETAIL_EVENTS)
    deliver(items, django_capture_on_commit_callbacks)
    once = list(StripePayment.objects.values_list("payment_intent_id", "charge_id", "status", "fee", "net", "currency"))

    StripePayment.objects.all().delete()
    WebhookEvent.objects.all().delete()
    shuffled = items * 3
    random.Random(14).shuffle(shuffled)
    deliver(shuffled, django_capture_on_commit_callbacks)

    again = list(
        StripePayment.objects.values_list("payment_intent_id", "charge_id", "status", "fee", "net", "currency")
    )
    assert again == once
    assert len(once) == 1 and once[0][3] == Decimal("2.62")  # 2.9% + 0.30 of 80.00
    assert WebhookEvent.objects.count() == len(items)


def test_a_late_read_without_the_balance_transaction_keeps_the_known_fee(tenant):
    charge = gateway.Charge(
        id="ch_1", status="succeeded", balance_transaction="txn_1", fee=320, net=9680, settlement_currency="USD"
    )
    intent = gateway.PaymentIntent(
        id="pi_1", status="succeeded", amount=10000, currency="USD", livemode=False, metadata={}, charge=charge
    )
    stale = gateway.PaymentIntent(
        id="pi_1",
        status="succeeded",
        amount=10000,
        currency="USD",
        livemode=False,
        metadata={},
        charge=gateway.Charge(
            id="ch_1", status="succeeded", balance_transaction=None, fee=None, net=None, settlement_currency=None
        ),
    )
    stripe_payment_sync(practice_id=tenant.practice.pk, account_id="acct_1", intent=intent)
    stripe_payment_sync(practice_id=tenant.practice.pk, account_id="acct_1", intent=stale)

    row = StripePayment.objects.get()
    assert (row.charge_id, row.fee, row.net, row.currency) == ("ch_1", Decimal("3.20"), Decimal("96.80"), "USD")


def test_an_event_about_an_unknown_account_or_a_charge_without_intent_changes_nothing(
    app_on_fake, account, tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pk = webhooks.webhook_event_receive(
            event=webhooks.ParsedEvent(
                "evt_no_intent",
                "charge.succeeded",
                account.stripe_account_id,
                False,
                json.dumps(
                    {
                        "id": "evt_no_intent",
                        "object": "event",
                        "type": "charge.succeeded",
                        "account": account.stripe_account_id,
                        "data": {"object": {"id": "ch_legacy", "object": "charge", "payment_intent": None}},
                    }
                ),
            )
        )
    assert WebhookEvent.objects.get(pk=pk).status == "ignored"
    assert not StripePayment.objects.exists()


def test_a_payment_whose_event_has_not_come_yet_shows_its_intent_and_says_so(tenant, ana):
    payment, details = online_payment(tenant.practice, ana, "40.00")
    details.delete()

    html = signed_in(tenant.biller).get(url(tenant, "billing:payments")).content.decode()

    assert payment.external_id in html and STATUS_UNKNOWN in html


def test_a_payment_without_its_fee_yet_shows_a_dash(tenant, ana):
    payment, _ = online_payment(tenant.practice, ana, "40.00", fee=None)

    html = signed_in(tenant.biller).get(url(tenant, "billing:payment", payment_id=payment.pk)).content.decode()

    assert 'data-testid="stripe-fee">—<' in html


def test_another_practices_stripe_row_never_shows(tenant, other_tenant, ana):
    payment, _ = online_payment(tenant.practice, ana, "40.00", fee="1.46")
    # The other practice's row for the same PaymentIntent id (a forged or mistaken row)
    StripePayment.objects.create(
        practice=other_tenant.practice,
        stripe_account_id="acct_other",
        payment_intent_id=payment.external_id,
        charge_id="ch_theirs",
        status="succeeded",
        fee=Decimal("9.99"),
        net=Decimal("30.01"),
        currency="USD",
    )

    html = signed_in(tenant.biller).get(url(tenant, "billing:payments")).content.decode()

    assert "$1.46" in html and "$9.99" not in html and "ch_theirs" not in html


@pytest.mark.parametrize(
    ("livemode", "expected"),
    [
        (True, "https://dashboard.stripe.com/acct_1Live/payments/pi_3Abc"),
        (False, "https://dashboard.stripe.com/acct_1Live/test/payments/pi_3Abc"),
    ],
)
def test_with_real_stripe_the_link_is_the_platforms_dashboard_view(settings, livemode, expected):
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_SECRET_KEY = "sk_test_not_used"
    assert gateway.dashboard_payment_url(account_id="acct_1Live", intent_id="pi_3Abc", livemode=livemode) == expected
