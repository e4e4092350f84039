"""Issue 14, part 7: disputes. charge.dispute.created marks the online payment disputed and
emails the practice's owner; closed converges on Stripe's outcome: won leaves the books as
they were, lost takes the money back (the invoice it paid reopens). The fake opens and
closes disputes through its control calls; its events reach the app as it signed them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from django.utils.html import escape

from billing.models import LedgerEntry, Payment, Refund
from billing.services import DISPUTE_LOST_REASON
from payments import refunds
from payments.disputes import DISPUTE_EMAIL_SUBJECT, dispute_status
from practice.models import OutgoingEmail
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import signed_in, url

from .conftest import CONNECT_SECRET, PLATFORM_SECRET
from .online import deliver, event_types, money_rows, paid_online, stripe_events, three_times_shuffled

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _secrets(settings):
    settings.STRIPE_WEBHOOK_SECRET = PLATFORM_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = CONNECT_SECRET


@pytest.fixture
def paid(app_on_fake, tenant):
    return paid_online(app_on_fake, tenant, "150.00", "80.00")


def dispute_events(fake) -> list:
    return stripe_events(fake, "charge.dispute.")


def ledger(payment) -> list:
    return list(LedgerEntry.objects.filter(client_id=payment.client_id).values_list("kind", "balance_delta"))


def test_a_dispute_marks_the_payment_disputed_and_tells_the_owner(
    app_on_fake, tenant, paid, django_capture_on_commit_callbacks
):
    before = ledger(paid.payment)
    second_owner = UserFactory(email="co-owner@harbour.test")
    MembershipFactory(user=second_owner, practice=tenant.practice, role="owner")

    app_on_fake.control.open_dispute(paid.charge)
    items = dispute_events(app_on_fake)
    assert event_types(items) == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    deliver(items * 2, django_capture_on_commit_callbacks)

    paid.payment.refresh_from_db()
    assert paid.payment.dispute_status == Payment.DisputeStatus.OPEN
    assert ledger(paid.payment) == before
    # Each owner is told once, however often Stripe reports it; nobody else is
    emails = OutgoingEmail.objects.filter(topic="payment_disputed").order_by("to")
    assert [e.to for e in emails] == ["co-owner@harbour.test", tenant.owner.email]
    email = emails[0]
    assert email.subject == DISPUTE_EMAIL_SUBJECT.format(amount="$230.00")
    assert "Ana Lima" in email.text and "did not make this payment" in email.text
    assert url(tenant, "billing:payment", payment_id=paid.payment.pk) in email.text
    # The payment page says so, and offers no refund while the bank decides
    page = signed_in(tenant.biller).get(url(tenant, "billing:payment", payment_id=paid.payment.pk)).content.decode()
    assert 'data-testid="payment-dispute">Disputed</span>' in page
    assert escape(refunds.REFUND_DISPUTED) in page and 'id="stripe_refund_amount"' not in page


def test_a_won_dispute_leaves_the_books_as_they_were(app_on_fake, tenant, paid, django_capture_on_commit_callbacks):
    before = ledger(paid.payment)
    dispute = app_on_fake.control.open_dispute(paid.charge)
    app_on_fake.control.close_dispute(dispute["id"], "won")

    deliver(three_times_shuffled(dispute_events(app_on_fake)), django_capture_on_commit_callbacks)

    paid.payment.refresh_from_db()
    assert paid.payment.dispute_status == Payment.DisputeStatus.WON and not paid.payment.is_disputed
    assert paid.payment.status == Payment.Status.SUCCEEDED
    assert ledger(paid.payment) == before and not Refund.objects.exists()
    paid.invoice.refresh_from_db()
    assert paid.invoice.display_status == "Paid"


def test_a_lost_dispute_in_any_order_takes_the_money_back_once(
    app_on_fake, tenant, paid, django_capture_on_commit_callbacks
):
    dispute = app_on_fake.control.open_dispute(paid.charge)
    app_on_fake.control.close_dispute(dispute["id"], "lost")
    items = dispute_events(app_on_fake)
    assert event_types(items) == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
    ]
    # One ordered delivery (rolled back), then each event three times, shuffled
    start = transaction.savepoint()
    deliver(items, django_capture_on_commit_callbacks)
    once = money_rows()
    transaction.savepoint_rollback(start)
    deliver(three_times_shuffled(items), django_capture_on_commit_callbacks)

    assert money_rows() == once
    refund = Refund.objects.get()
    assert (refund.external_id, refund.reason, refund.amount) == (dispute["id"], DISPUTE_LOST_REASON, D("230.000"))
    paid.payment.refresh_from_db()
    assert (paid.payment.dispute_status, paid.payment.status) == ("lost", Payment.Status.REFUNDED)
    paid.invoice.refresh_from_db()
    assert (paid.invoice.status, paid.invoice.balance) == ("open", D("230.000"))
    assert OutgoingEmail.objects.filter(topic="payment_disputed").count() == 1
    page = signed_in(tenant.biller).get(url(tenant, "billing:payments")).content.decode()
    assert 'data-testid="payment-row-dispute">Dispute lost</span>' in page


def test_a_dispute_accepted_in_the_dashboard_is_lost(app_on_fake, tenant, paid, django_capture_on_commit_callbacks):
    dispute = app_on_fake.control.open_dispute(paid.charge, amount=5000)
    app_on_fake.client().v1.disputes.close(dispute["id"], options=paid.options)

    deliver(dispute_events(app_on_fake), django_capture_on_commit_callbacks)

    assert Refund.objects.get().amount == D("50.000")
    paid.invoice.refresh_from_db()
    assert (paid.invoice.display_status, paid.invoice.balance) == ("Partially paid", D("50.000"))


def test_a_dispute_of_a_payment_of_another_practice_is_theirs_alone(
    app_on_fake, tenant, other_tenant, django_capture_on_commit_callbacks
):
    ours = paid_online(app_on_fake, tenant, "100.00")
    theirs = paid_online(app_on_fake, other_tenant, "100.00")

    app_on_fake.control.open_dispute(theirs.charge)
    deliver(dispute_events(app_on_fake), django_capture_on_commit_callbacks)

    theirs.payment.refresh_from_db()
    ours.payment.refresh_from_db()
    assert (theirs.payment.dispute_status, ours.payment.dispute_status) == ("open", "none")
    assert list(OutgoingEmail.objects.filter(topic="payment_disputed").values_list("to", flat=True)) == [
        other_tenant.owner.email
    ]


@pytest.mark.parametrize(
    ("stripe_status", "ours"),
    [
        ("warning_needs_response", "open"),
        ("needs_response", "open"),
        ("under_review", "open"),
        ("warning_closed", "none"),
        ("won", "won"),
        ("lost", "lost"),
    ],
)
def test_stripes_dispute_states_read_as_the_payments(stripe_status, ours):
    assert dispute_status(stripe_status) == ours
