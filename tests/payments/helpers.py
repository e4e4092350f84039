"""Small steps the fake Stripe tests share."""

from __future__ import annotations

import json
import time
from typing import Any

import requests
import stripe

from .conftest import CONNECT_SECRET, FakeStripeHandle

CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_3DS = "4000 0025 0000 3155"
CARD_3DS_ALWAYS = "4000 0027 6000 3184"


def connected_account(fake: FakeStripeHandle, **body: Any) -> str:
    return str(fake.control.create_account(onboarding="complete", **body)["id"])


def payment_session(client: stripe.StripeClient, account: str, amount: int = 12000, **extra: Any) -> Any:
    params: Any = {
        "mode": "payment",
        "success_url": "http://app.test/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://app.test/invoice",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {"currency": "usd", "unit_amount": amount, "product_data": {"name": "Invoice INV-0001"}},
            }
        ],
        "metadata": {"invoice": "41"},
        **extra,
    }
    return client.v1.checkout.sessions.create(params, {"stripe_account": account})


def pay_on_page(fake: FakeStripeHandle, session_url: str, card: str, **form: str) -> requests.Response:
    path = session_url.replace(fake.url, "")
    data = {"email": "payer@example.test", "cardnumber": card, "exp": "12 / 39", "cvc": "123", "name": "A Payer"}
    data.update(form)
    return requests.post(fake.url + path, data=data, allow_redirects=False, timeout=10)


def received_events(
    fake: FakeStripeHandle, type_: str, secret: str = CONNECT_SECRET, path: str = "/connect"
) -> list[Any]:
    """Events of a type the receiver got, each verified with stripe.Webhook.construct_event."""
    assert fake.control.wait_for_webhooks(timeout=10)
    events = []
    with fake.webhooks.lock:
        received = list(fake.webhooks.received)
    for item in received:
        if item.path != path or json.loads(item.body)["type"] != type_:
            continue
        events.append(stripe.Webhook.construct_event(item.body.decode(), item.signature, secret))
    return events


def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def save_card(fake: FakeStripeHandle, client: Any, card: str = CARD_OK) -> Any:
    """A card saved through Save a card as a client would: the setup session started by the
    app, completed on the fake (authenticated when the card asks), and stored from the
    SetupIntent the return page re-reads. Needs the app pointed at the fake (app_on_fake)
    and the practice's StripeAccount."""
    from payments.cards import card_setup_refresh, card_setup_start
    from payments.models import CardSetup

    card_setup_start(client=client)
    setup = CardSetup.objects.filter(client=client).latest("pk")
    outcome = fake.control.pay_session(str(setup.stripe_checkout_session_id), card.replace(" ", ""))
    if outcome["outcome"] == "authenticate":
        fake.control.authenticate(outcome["intent"])
    return card_setup_refresh(setup).card
