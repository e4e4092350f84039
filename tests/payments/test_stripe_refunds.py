"""Issue 14, part 7: Refund through Stripe from an online payment's page, against the fake
Stripe over real HTTP. The form previews in words what the refund will do to the books, the
refund is made once at Stripe (whatever the retries), and the invoice it paid reopens."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils.html import escape

from billing.models import Invoice, Payment, Refund
from billing.services import REFUND_PLAN_CHANGED, REFUND_TOO_MUCH, credit_apply
from billing.submission import ALREADY_RECORDED
from payments import gateway, refund_views, refunds
from payments.models import RefundAttempt
from tests.factories import ClientFactory, issued_invoice, pay
from tests.helpers import signed_in, url

from .online import paid_online

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def paid(app_on_fake, tenant):
    return paid_online(app_on_fake, tenant, "150.00", "80.00")


def refund_url(tenant, payment) -> str:
    return url(tenant, "payments:stripe_refund", payment_id=payment.pk)


def payment_url(tenant, payment) -> str:
    return url(tenant, "billing:payment", payment_id=payment.pk)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} on the page"
    return match.group(1)


def preview(browser, tenant, payment, amount: str, reason: str = "Session cancelled"):
    return browser.post(refund_url(tenant, payment), {"amount": amount, "reason": reason})


def confirm(browser, tenant, payment, previewed, amount: str, reason: str = "Session cancelled"):
    page = previewed.content.decode()
    data = {
        "amount": amount,
        "reason": reason,
        "expected": hidden(page, "expected"),
        "submission_key": hidden(page, "submission_key"),
        "confirm": "1",
    }
    return browser.post(refund_url(tenant, payment), data), data


def refunds_at_stripe(fake, paid) -> list:
    return list(fake.client().v1.refunds.list({"payment_intent": paid.payment.external_id}, paid.options).data)


def refund_posts(fake) -> list[dict]:
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/refunds"]


def test_a_partial_refund_is_previewed_then_made_once_and_the_invoice_reopens(app_on_fake, tenant, paid):
    browser = signed_in(tenant.biller)
    # Given an invoice of 230.00 paid online, the payment page offers Refund through Stripe
    page = browser.get(payment_url(tenant, paid.payment)).content.decode()
    assert 'data-testid="stripe-refund-panel"' in page
    assert 'data-testid="stripe-refund-left">$230.00<' in page
    assert 'id="stripe_refund_amount"' in page and 'value="230"' in page

    # When the biller previews a refund of 50.00: the form says what it will do, nothing is refunded yet
    previewed = preview(browser, tenant, paid.payment, "50.00")
    assert previewed.status_code == 200
    assert f"{paid.invoice.number} will owe $50.00 again" in previewed.content.decode()
    assert not refund_posts(app_on_fake) and not RefundAttempt.objects.exists()

    # and confirms it
    response, data = confirm(browser, tenant, paid.payment, previewed, "50.00")

    # Then one refund of 50.00 exists at Stripe, keyed by the local attempt, with ids only
    assert response.status_code == 302 and response["Location"] == payment_url(tenant, paid.payment)
    attempt = RefundAttempt.objects.get()
    assert (attempt.status, attempt.amount, attempt.created_by) == ("succeeded", D("50.000"), tenant.biller)
    (made,) = refunds_at_stripe(app_on_fake, paid)
    assert (made.id, made.amount, made.status) == (attempt.stripe_refund_id, 5000, "succeeded")
    (post,) = refund_posts(app_on_fake)
    assert post["idempotency_key"] == f"refund:{attempt.pk}:refund"
    assert post["stripe_account"] == paid.account
    assert "Session cancelled" not in json.dumps(post["params"]) and "Ana" not in json.dumps(post["params"])
    # and it is in the books: the invoice owes 50.00 again
    refund = Refund.objects.get()
    assert (refund.external_id, refund.amount, refund.reason) == (made.id, D("50.000"), "Session cancelled")
    paid.invoice.refresh_from_db()
    assert (paid.invoice.display_status, paid.invoice.balance) == ("Partially paid", D("50.000"))
    paid.payment.refresh_from_db()
    assert (paid.payment.status, paid.payment.refunded) == (Payment.Status.PARTIALLY_REFUNDED, D("50.000"))
    page = browser.get(response["Location"]).content.decode()
    assert escape(refund_views.REFUND_DONE.format(amount="$50.00")) in page
    assert 'data-testid="stripe-refund-left">$180.00<' in page

    # And the same submission again (a double click, a retried POST) refunds nothing more
    again = browser.post(refund_url(tenant, paid.payment), data)
    assert again.status_code == 302
    assert ALREADY_RECORDED in browser.get(again["Location"]).content.decode()
    assert len(refunds_at_stripe(app_on_fake, paid)) == 1 and Refund.objects.count() == 1


def test_a_full_refund_by_default_reopens_every_invoice_it_paid(app_on_fake, tenant, paid):
    browser = signed_in(tenant.owner)
    form = browser.get(refund_url(tenant, paid.payment)).content.decode()
    amount = hidden(form, "amount")
    assert amount == "230"

    previewed = preview(browser, tenant, paid.payment, amount)
    response, _ = confirm(browser, tenant, paid.payment, previewed, amount)

    assert response.status_code == 302
    (made,) = refunds_at_stripe(app_on_fake, paid)
    assert made.amount == 23000
    paid.payment.refresh_from_db()
    assert paid.payment.status == Payment.Status.REFUNDED
    paid.invoice.refresh_from_db()
    assert (paid.invoice.status, paid.invoice.balance) == (Invoice.Status.OPEN, D("230.000"))
    # Nothing is left to refund: the panel says so instead of offering the form
    page = browser.get(payment_url(tenant, paid.payment)).content.decode()
    assert 'id="stripe_refund_amount"' not in page
    assert escape(refunds.REFUND_NOTHING_LEFT) in page


@pytest.fixture
def paid_with_credit(app_on_fake, tenant):
    """230.00 paid online while staff took 30.00 cash on the same invoice: 30.00 of the
    card payment is the client's credit."""

    def cash(invoice):
        pay(tenant.practice, invoice.client, tenant.biller, "30.00", allocations={invoice.pk: D("30.00")})

    paid = paid_online(app_on_fake, tenant, "150.00", "80.00", meanwhile=cash)
    assert (paid.payment.allocated, paid.payment.credited) == (D("200.000"), D("30.000"))
    return paid


def test_a_refund_takes_the_credit_the_payment_left_first(app_on_fake, tenant, paid_with_credit):
    paid = paid_with_credit
    browser = signed_in(tenant.biller)

    previewed = preview(browser, tenant, paid.payment, "50.00")
    assert (
        f"Refunding $50.00 to the card: {paid.invoice.number} will owe $20.00 again; "
        "the client&#x27;s credit goes down by $30.00." in previewed.content.decode()
    )
    confirm(browser, tenant, paid.payment, previewed, "50.00")

    refund = Refund.objects.get()
    assert (refund.amount, refund.from_credit) == (D("50.000"), D("30.000"))
    paid.invoice.refresh_from_db()
    assert paid.invoice.balance == D("20.000")
    assert paid.invoice.client.account.credit_balance == 0


def test_bad_amounts_are_refused_with_clear_messages_and_change_nothing(app_on_fake, tenant, paid):
    browser = signed_in(tenant.biller)

    zero = preview(browser, tenant, paid.payment, "0")
    too_much = preview(browser, tenant, paid.payment, "230.01")
    no_reason = preview(browser, tenant, paid.payment, "10.00", reason=" ")

    assert zero.status_code == too_much.status_code == no_reason.status_code == 400
    assert "Enter an amount greater than zero." in zero.content.decode()
    assert escape(REFUND_TOO_MUCH.format(left="$230.00")) in too_much.content.decode()
    assert "Give a reason." in no_reason.content.decode()
    # A forged confirm of too much is refused the same way
    forged = browser.post(
        refund_url(tenant, paid.payment),
        {"amount": "500", "reason": "x", "expected": "credit:0", "submission_key": "a" * 32, "confirm": "1"},
    )
    assert forged.status_code == 400
    assert not refund_posts(app_on_fake)
    assert not RefundAttempt.objects.exists() and not Refund.objects.exists()
    paid.invoice.refresh_from_db()
    assert paid.invoice.status == Invoice.Status.PAID


def test_a_plan_changed_since_the_preview_is_shown_again_not_refunded(app_on_fake, tenant, paid_with_credit):
    paid = paid_with_credit
    browser = signed_in(tenant.biller)
    previewed = preview(browser, tenant, paid.payment, "50.00")
    # Meanwhile the client's 30.00 credit is used on another invoice
    other = issued_invoice(tenant.practice, paid.invoice.client, tenant.biller, "40.00")
    credit_apply(invoice=other, actor=tenant.biller)

    response, _ = confirm(browser, tenant, paid.payment, previewed, "50.00")

    assert response.status_code == 400
    page = response.content.decode()
    assert escape(REFUND_PLAN_CHANGED) in page
    assert f"{paid.invoice.number} will owe $50.00 again" in page
    assert not refund_posts(app_on_fake)
    assert not RefundAttempt.objects.exists()
    # The new plan, confirmed, is refunded
    response, _ = confirm(browser, tenant, paid.payment, response, "50.00")
    assert response.status_code == 302
    assert Refund.objects.get().from_credit == 0


@pytest.mark.parametrize(
    ("kind", "count", "extra"),
    [("500", 2, {}), ("429", 2, {}), ("timeout", 1, {"perform": True, "delay": 1.0})],
    ids=["500", "429", "timed-out-but-refunded"],
)
def test_stripe_failing_is_retried_with_the_same_key_and_refunds_once(
    app_on_fake, tenant, paid, settings, kind, count, extra
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    browser = signed_in(tenant.biller)
    previewed = preview(browser, tenant, paid.payment, "40.00")
    app_on_fake.control.fail_next(kind, count=count, path="/v1/refunds", method="POST", **extra)

    response, _ = confirm(browser, tenant, paid.payment, previewed, "40.00")

    assert response.status_code == 302
    attempt = RefundAttempt.objects.get()
    assert attempt.status == RefundAttempt.Status.SUCCEEDED
    assert len(refunds_at_stripe(app_on_fake, paid)) == 1
    posts = refund_posts(app_on_fake)
    assert len(posts) == count + 1
    assert {p["idempotency_key"] for p in posts} == {f"refund:{attempt.pk}:refund"}
    assert Refund.objects.get().amount == D("40.000")


def test_no_answer_from_stripe_leaves_the_refund_to_check_not_to_repeat(app_on_fake, tenant, paid, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    browser = signed_in(tenant.biller)
    previewed = preview(browser, tenant, paid.payment, "40.00")
    # Stripe makes the refund but none of the three tries hears back
    app_on_fake.control.fail_next("timeout", count=3, perform=True, delay=0.6, path="/v1/refunds")

    response, _ = confirm(browser, tenant, paid.payment, previewed, "40.00")

    page = browser.get(response["Location"]).content.decode()
    assert escape(refund_views.REFUND_NO_ANSWER.format(amount="$40.00")) in page
    assert 'data-testid="stripe-refund-undecided"' in page and "Check with Stripe" in page
    assert not Refund.objects.exists()
    # A second refund cannot be started while this one is undecided
    assert 'id="stripe_refund_amount"' not in page
    again = preview(browser, tenant, paid.payment, "40.00")
    assert again.status_code == 302
    assert len(refunds_at_stripe(app_on_fake, paid)) == 1

    # When the biller checks with Stripe, the same request is answered with the refund it made
    checked = browser.post(url(tenant, "payments:stripe_refund_check", payment_id=paid.payment.pk))

    assert checked.status_code == 302
    assert escape(refund_views.REFUND_DONE.format(amount="$40.00")) in browser.get(checked["Location"]).content.decode()
    assert RefundAttempt.objects.get().status == RefundAttempt.Status.SUCCEEDED
    assert len(refunds_at_stripe(app_on_fake, paid)) == 1 and Refund.objects.count() == 1
    assert {p["idempotency_key"] for p in refund_posts(app_on_fake)} == {
        f"refund:{RefundAttempt.objects.get().pk}:refund"
    }


def test_a_refund_stripe_refuses_changes_nothing_and_says_why(app_on_fake, tenant, paid):
    browser = signed_in(tenant.biller)
    previewed = preview(browser, tenant, paid.payment, "40.00")
    # Refunded in full in the Stripe dashboard, not yet reported to the app
    app_on_fake.client().v1.refunds.create({"payment_intent": paid.payment.external_id}, paid.options)

    response, _ = confirm(browser, tenant, paid.payment, previewed, "40.00")

    page = browser.get(response["Location"]).content.decode()
    attempt = RefundAttempt.objects.get()
    assert attempt.status == RefundAttempt.Status.FAILED
    assert "has already been refunded" in attempt.problem
    assert "Nothing was refunded." in page and 'data-testid="stripe-refund-failed"' in page
    assert not Refund.objects.exists()


def test_only_staff_who_bill_refund_and_a_clinician_sees_no_form(app_on_fake, tenant):
    ana = ClientFactory(practice=tenant.practice, clinicians=[tenant.clinician])
    paid = paid_online(app_on_fake, tenant, "100.00", client=ana)
    clinician = signed_in(tenant.clinician)

    page = clinician.get(payment_url(tenant, paid.payment)).content.decode()
    assert 'data-testid="stripe-refund-panel"' in page and 'id="stripe_refund_amount"' not in page
    assert clinician.get(refund_url(tenant, paid.payment)).status_code == 403
    assert clinician.post(refund_url(tenant, paid.payment), {"amount": "10", "reason": "x"}).status_code == 403
    assert clinician.post(url(tenant, "payments:stripe_refund_check", payment_id=paid.payment.pk)).status_code == 403
    for role in (tenant.admin, tenant.owner, tenant.biller):
        assert signed_in(role).get(refund_url(tenant, paid.payment)).status_code == 200


def test_another_practices_payment_is_a_404(app_on_fake, tenant, other_tenant):
    theirs = paid_online(app_on_fake, other_tenant, "100.00")
    browser = signed_in(tenant.owner)

    assert browser.get(refund_url(tenant, theirs.payment)).status_code == 404
    assert browser.post(refund_url(tenant, theirs.payment), {"amount": "10", "reason": "x"}).status_code == 404
    assert browser.post(url(tenant, "payments:stripe_refund_check", payment_id=theirs.payment.pk)).status_code == 404
    assert not refund_posts(app_on_fake)


def test_a_hand_payment_gets_no_stripe_panel(app_on_fake, tenant):
    ana = ClientFactory(practice=tenant.practice)
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "100.00")
    cash = pay(tenant.practice, ana, tenant.biller, "100.00", allocations={invoice.pk: D("100.00")}).payment
    browser = signed_in(tenant.biller)

    assert 'data-testid="stripe-refund-panel"' not in browser.get(payment_url(tenant, cash)).content.decode()
    response = browser.get(refund_url(tenant, cash))
    assert response.status_code == 302
    assert escape(refunds.REFUND_NOT_ONLINE) in browser.get(response["Location"]).content.decode()


def test_a_refund_stripe_holds_pending_is_recorded_when_it_succeeds_or_fails(app_on_fake, tenant, paid):
    # Stripe sometimes answers a refund "pending" and finishes it later (refund.updated);
    # the fake refunds cards at once, so its later states are given here as Stripe sends them.
    def start(amount: str, key: str) -> RefundAttempt:
        return refunds.stripe_refund_start(
            payment=paid.payment,
            actor=tenant.biller,
            amount=D(amount),
            reason="Goodwill",
            expected=None,
            submission_key=key * 32,
            result_url="/",
        )

    attempt = start("40.00", "d")
    pending = gateway.Refund(
        id="re_pending",
        amount=4000,
        currency="USD",
        status="pending",
        charge=paid.charge,
        payment_intent=paid.payment.external_id,
        failure_reason=None,
        created=1,
        metadata={"refund_attempt": str(attempt.pk)},
    )

    refunds.refund_apply(payment=paid.payment, refund=pending)

    attempt.refresh_from_db()
    assert (attempt.status, attempt.stripe_refund_id) == (RefundAttempt.Status.PENDING, "re_pending")
    assert not Refund.objects.exists()
    page = signed_in(tenant.biller).get(payment_url(tenant, paid.payment)).content.decode()
    assert "being processed by Stripe" in page and 'id="stripe_refund_amount"' not in page

    refunds.refund_apply(payment=paid.payment, refund=replace(pending, status="succeeded"))

    attempt.refresh_from_db()
    assert attempt.status == RefundAttempt.Status.SUCCEEDED
    assert Refund.objects.get().external_id == "re_pending"

    second = start("10.00", "e")
    refunds.refund_apply(
        payment=paid.payment,
        refund=replace(
            pending,
            id="re_lost",
            amount=1000,
            status="failed",
            failure_reason="lost_or_stolen_card",
            metadata={"refund_attempt": str(second.pk)},
        ),
    )
    second.refresh_from_db()
    assert (second.status, second.problem) == (
        RefundAttempt.Status.FAILED,
        refunds.STRIPE_FAILED.format(reason="lost_or_stolen_card"),
    )
    assert Refund.objects.count() == 1
