"""Issue 14, part 7: refunds Stripe reports flow back into the books. A refund made in the
Stripe dashboard (here: made directly at the fake, as the dashboard would) is recorded once
from charge.refunded / refund.created, however often and in whatever order they come; a
refund made through the app is not recorded a second time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import transaction

from billing.models import Payment, Refund
from payments import gateway, refunds
from payments.models import RefundAttempt, WebhookEvent

from .conftest import CONNECT_SECRET, PLATFORM_SECRET
from .online import deliver, event_types, money_rows, paid_online, stripe_events, three_times_shuffled

D = Decimal
URL = "/stripe/webhook/"


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = PLATFORM_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET


def refund_events(fake) -> list:
    return stripe_events(fake, "refund.", "charge.refunded")


def ordered_then_shuffled(items, capture) -> tuple[dict, dict]:
    """The rows after one ordered delivery (rolled back), then after each event three
    times, shuffled, from the same start."""
    start = transaction.savepoint()
    deliver(items, capture)
    once = money_rows()
    transaction.savepoint_rollback(start)
    deliver(three_times_shuffled(items), capture)
    return once, money_rows()


@pytest.mark.django_db
def test_a_dashboard_refund_is_recorded_once_and_the_invoice_reopens(
    app_on_fake, tenant, django_capture_on_commit_callbacks
):
    # Given an invoice of 230.00 paid online
    paid = paid_online(app_on_fake, tenant, "150.00", "80.00")
    # When 80.00 is refunded in the Stripe dashboard
    made = app_on_fake.client().v1.refunds.create(
        {"payment_intent": paid.payment.external_id, "amount": 8000}, paid.options
    )
    items = refund_events(app_on_fake)
    assert event_types(items) == ["refund.created", "charge.refunded"]

    # and Stripe's events reach the app once in order, or each three times shuffled
    once, shuffled = ordered_then_shuffled(items, django_capture_on_commit_callbacks)

    # Then the rows are the same, with one refund of 80.00 in the books
    assert shuffled == once
    refund = Refund.objects.get()
    assert (refund.external_id, refund.amount, refund.reason) == (made.id, D("80.000"), refunds.DASHBOARD_REASON)
    assert refund.created_by is None
    paid.invoice.refresh_from_db()
    assert (paid.invoice.display_status, paid.invoice.balance) == ("Partially paid", D("80.000"))
    paid.payment.refresh_from_db()
    assert paid.payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert WebhookEvent.objects.count() == len(items)


@pytest.mark.django_db
def test_a_refund_made_here_is_not_recorded_again_by_its_webhooks(
    app_on_fake, tenant, django_capture_on_commit_callbacks
):
    paid = paid_online(app_on_fake, tenant, "100.00")
    attempt = refunds.stripe_refund_start(
        payment=paid.payment,
        actor=tenant.biller,
        amount=D("40.00"),
        reason="Session cancelled",
        expected=None,
        submission_key="b" * 32,
        result_url="/",
    )
    assert refunds.stripe_refund_send(attempt).status == RefundAttempt.Status.SUCCEEDED
    items = refund_events(app_on_fake)

    once, shuffled = ordered_then_shuffled(items, django_capture_on_commit_callbacks)

    assert shuffled == once
    refund = Refund.objects.get()
    assert (refund.reason, refund.created_by, refund.amount) == ("Session cancelled", tenant.biller, D("40.000"))
    assert RefundAttempt.objects.get().status == RefundAttempt.Status.SUCCEEDED


@pytest.mark.django_db
def test_a_refund_whose_answer_was_lost_is_recorded_from_the_webhook_for_its_attempt(
    app_on_fake, tenant, django_capture_on_commit_callbacks
):
    paid = paid_online(app_on_fake, tenant, "100.00")
    attempt = refunds.stripe_refund_start(
        payment=paid.payment,
        actor=tenant.biller,
        amount=D("25.00"),
        reason="Overcharged",
        expected=None,
        submission_key="c" * 32,
        result_url="/",
    )
    # Stripe made the refund, but the app died before it heard the answer
    gateway.refund_create(
        attempt_id=attempt.pk,
        account_id=paid.account,
        payment_intent=paid.payment.external_id,
        amount=2500,
        metadata={"refund_attempt": str(attempt.pk), "payment": str(paid.payment.pk)},
    )

    deliver(three_times_shuffled(refund_events(app_on_fake)), django_capture_on_commit_callbacks)

    attempt.refresh_from_db()
    assert attempt.status == RefundAttempt.Status.SUCCEEDED and attempt.stripe_refund_id
    refund = Refund.objects.get()
    assert (refund.external_id, refund.reason, refund.created_by) == (
        attempt.stripe_refund_id,
        "Overcharged",
        tenant.biller,
    )
    # Sending it again asks Stripe nothing and records nothing more
    assert refunds.stripe_refund_send(attempt).status == RefundAttempt.Status.SUCCEEDED
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_a_refund_of_a_payment_not_recorded_here_fails_to_be_tried_again(
    app_on_fake, tenant, django_capture_on_commit_callbacks
):
    paid = paid_online(app_on_fake, tenant, "100.00")
    client = app_on_fake.client()
    stray = client.v1.payment_intents.create(
        {"amount": 5000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}, paid.options
    )
    client.v1.refunds.create({"payment_intent": stray.id}, paid.options)

    deliver(refund_events(app_on_fake), django_capture_on_commit_callbacks)

    events = WebhookEvent.objects.filter(type__in=["refund.created", "charge.refunded"])
    assert {e.status for e in events} == {WebhookEvent.Status.FAILED}
    assert all(f"No payment is recorded for {stray.id}" in e.last_error for e in events)
    assert not Refund.objects.exists()


# -- the fake delivering to the app over HTTP ------------------------------------------------


@pytest.fixture
def fake_to_app(app_on_fake, live_server) -> Iterator:
    """The fake delivers its webhooks to the app's endpoint (platform and Connect)."""
    dispatcher = app_on_fake.server.dispatcher
    saved = list(dispatcher.endpoints)
    app_on_fake.control.add_webhook_endpoint(live_server.url + URL, PLATFORM_SECRET)
    app_on_fake.control.add_webhook_endpoint(live_server.url + URL, CONNECT_SECRET, connect=True)
    try:
        yield app_on_fake
    finally:
        assert app_on_fake.control.wait_for_webhooks(timeout=20)
        dispatcher.endpoints[:] = saved


@pytest.mark.django_db(transaction=True)
def test_a_dashboard_refund_reaches_the_books_through_the_fakes_webhooks(fake_to_app, tenant):
    fake = fake_to_app
    paid = paid_online(fake, tenant, "150.00", "80.00")

    made = fake.client().v1.refunds.create({"payment_intent": paid.payment.external_id}, paid.options)
    assert fake.control.wait_for_webhooks(timeout=20)
    # Stripe delivers the same events again, three times each, shuffled
    fake.control.webhooks(hold=True)
    for item in refund_events(fake):
        fake.control.resend_event(json.loads(item.body)["id"])
    assert fake.control.flush_webhooks("shuffle", duplicate=3) > 0
    assert fake.control.wait_for_webhooks(timeout=20)

    assert all(d["ok"] for d in fake.control.deliveries())
    refund = Refund.objects.get()
    assert (refund.external_id, refund.amount) == (made.id, D("230.000"))
    paid.invoice.refresh_from_db()
    assert (paid.invoice.status, paid.invoice.balance) == ("open", D("230.000"))
