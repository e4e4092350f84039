"""An invoice paid online through the fake Stripe (Checkout, over real HTTP), and Stripe's
webhooks handed to the app as the fake signed them: what the refund and dispute tests share."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.test import Client as Browser
from django.urls import reverse

from billing.models import (
    Invoice,
    LedgerEntry,
    Payment,
    Refund,
    RefundAllocation,
)
from payments.checkout import checkout_refresh, checkout_start
from payments.models import CheckoutAttempt, RefundAttempt, StripeAccount, WebhookEvent
from practice.models import OutgoingEmail
from tests.factories import ClientFactory, issued_invoice

from .conftest import FakeStripeHandle, Received
from .helpers import connected_account


@dataclass
class PaidOnline:
    invoice: Invoice
    payment: Payment
    account: str
    intent: dict[str, Any]

    @property
    def charge(self) -> str:
        return str(self.intent["latest_charge"])

    @property
    def options(self) -> dict[str, str]:
        return {"stripe_account": self.account}


def paid_online(
    fake: FakeStripeHandle,
    tenant: Any,
    *prices: str,
    client: Any = None,
    meanwhile: Callable[[Invoice], object] | None = None,
) -> PaidOnline:
    """An invoice of ``prices`` for Ana, paid in full with 4242 on the fake's Checkout, the
    payment recorded from Stripe's state (as the return page records it). ``meanwhile`` is
    called while the client is on Stripe's page (what is paid then stays as credit)."""
    account = StripeAccount.objects.filter(practice=tenant.practice).first()
    if account is None:
        account = StripeAccount.objects.create(
            practice=tenant.practice, stripe_account_id=connected_account(fake), charges_enabled=True
        )
    client = client or ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima")
    invoice = issued_invoice(tenant.practice, client, tenant.biller, *(prices or ("100.00",)))
    checkout_start(invoice)
    if meanwhile is not None:
        meanwhile(invoice)
    attempt = CheckoutAttempt.objects.filter(invoice_id=invoice.pk).latest("pk")
    assert fake.control.pay_session(str(attempt.stripe_checkout_session_id))["outcome"] == "complete"
    assert checkout_refresh(attempt).status == CheckoutAttempt.Status.PAID
    payment = Payment.objects.get(
        practice=tenant.practice, allocations__invoice=invoice, method=Payment.Method.CARD_ONLINE
    )
    invoice.refresh_from_db()
    intent = fake.client().v1.payment_intents.retrieve(
        payment.external_id, options={"stripe_account": account.stripe_account_id}
    )
    return PaidOnline(invoice=invoice, payment=payment, account=account.stripe_account_id, intent=intent.to_dict())


def stripe_events(fake: FakeStripeHandle, *prefixes: str) -> list[Received]:
    """The Connect events the fake has delivered so far whose type starts with one of
    ``prefixes`` (all when none is given), in the order they came."""
    assert fake.control.wait_for_webhooks(timeout=10)
    with fake.webhooks.lock:
        received = list(fake.webhooks.received)
    return [
        item
        for item in received
        if item.path == "/connect" and (not prefixes or json.loads(item.body)["type"].startswith(prefixes))
    ]


def event_types(items: list[Received]) -> list[str]:
    return [json.loads(item.body)["type"] for item in items]


def deliver(items: list[Received], capture: Any) -> None:
    """POST each signed event to the app's webhook endpoint (handled inline, as after commit)."""
    browser = Browser()
    with capture(execute=True):
        for item in items:
            response = browser.post(
                reverse("stripe_webhook"),
                item.body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=item.signature,
            )
            assert response.status_code == 200, response.content


def three_times_shuffled(items: list[Received], seed: int = 14) -> list[Received]:
    tripled = items * 3
    random.Random(seed).shuffle(tripled)
    return tripled


def money_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row the refund and dispute handlers may write, as comparable tuples."""
    return {
        "refunds": sorted(
            Refund.objects.values_list("payment_id", "amount", "from_credit", "external_id", "reason", "method")
        ),
        "refund_allocations": sorted(
            RefundAllocation.objects.values_list("refund__external_id", "invoice_id", "amount")
        ),
        "ledger": sorted(LedgerEntry.objects.values_list("client_id", "kind", "balance_delta", "credit_delta", "memo")),
        "payments": sorted(Payment.objects.values_list("pk", "status", "refunded", "dispute_status")),
        "invoices": sorted(Invoice.objects.values_list("pk", "status", "amount_paid", "balance")),
        "attempts": sorted(RefundAttempt.objects.values_list("pk", "status", "stripe_refund_id", "problem")),
        "events": sorted(WebhookEvent.objects.values_list("stripe_id", "type", "status", "attempts", "last_error")),
        "emails": sorted(OutgoingEmail.objects.values_list("key", "to", "subject")),
    }
