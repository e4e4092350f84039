"""Steps the nightly AutoPay tests share: a practice that takes charges on the fake Stripe,
a client enrolled with a saved card, and what the fake says was charged."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from clients.models import AutoPayEnrolment, Client
from payments.autopay import autopay_turn_on
from payments.models import StripeAccount
from practice.actor import Actor
from practice.models import Practice
from tests.factories import ClientFactory

from .conftest import FakeStripeHandle
from .helpers import CARD_OK, connected_account, save_card

CARD_CHARGE_FAILS = "4000 0000 0000 0341"  # saves fine, every charge is declined
CARD_3DS_ALWAYS = "4000 0027 6000 3184"  # every off-session charge needs the client


def takes_charges(fake: FakeStripeHandle, practice: Practice) -> StripeAccount:
    return StripeAccount.objects.create(
        practice=practice, stripe_account_id=connected_account(fake), charges_enabled=True
    )


def enrolled_client(
    fake: FakeStripeHandle,
    practice: Practice,
    *,
    first: str = "Ana",
    last: str = "Lima",
    card: str = CARD_OK,
    include_balance: bool = True,
    cap: str | None = None,
) -> tuple[Client, AutoPayEnrolment]:
    """A client with a saved default card who turned AutoPay on in the portal."""
    client = ClientFactory(
        practice=practice, first_name=first, last_name=last, email=f"{first.lower()}.{last.lower()}@mail.test"
    )
    save_card(fake, client, card)
    enrolment = autopay_turn_on(
        client=client,
        actor=Actor.of_portal(client.email, address="127.0.0.1"),
        include_balance=include_balance,
        max_per_night=Decimal(cap) if cap else None,
        expected_balance=None,
    )
    return client, enrolment


def fake_intents(fake: FakeStripeHandle) -> list[dict]:
    state = fake.control.call("GET", "state")
    return [o for o in state.values() if o["object"] == "payment_intent"]


def succeeded_by_customer(fake: FakeStripeHandle) -> Counter[str]:
    """How many succeeded PaymentIntents (money taken) the fake holds for each Customer."""
    return Counter(str(i["customer"]) for i in fake_intents(fake) if i["status"] == "succeeded")


def intent_posts(fake: FakeStripeHandle) -> list[dict]:
    return [r for r in fake.control.requests() if r["method"] == "POST" and r["path"] == "/v1/payment_intents"]
