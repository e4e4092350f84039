"""Demo data for online payments: with the fake Stripe (``make run`` without keys), Harbour
Street is connected to an already onboarded fake account; Kowhai is not, so its owner can
click through onboarding. One Harbour Street client with an open invoice has a card saved
(4242, through the same setup session a client completes), so the invoice offers Pay now."""

from __future__ import annotations

from django.conf import settings

from practice.models import Practice

from .cards import card_setup_refresh, card_setup_start
from .fakestripe import ControlClient
from .gateway import fake_in_use
from .models import CardSetup, SavedCard, StripeAccount
from .services import stripe_account_sync

HARBOUR_ACCOUNT = "acct_1DemoHarbourStreet"


def load(*, harbour: Practice, kowhai: Practice) -> str:
    if not fake_in_use():
        return ""
    try:
        ControlClient(settings.STRIPE_API_BASE).create_account(
            id=HARBOUR_ACCOUNT, country="US", business_name=harbour.name, onboarding="complete"
        )
    except OSError as exc:
        return f"fake Stripe not reachable ({exc}), so no payment account"
    StripeAccount.objects.get_or_create(practice=harbour, defaults={"stripe_account_id": HARBOUR_ACCOUNT})
    stripe_account_sync(account_id=HARBOUR_ACCOUNT)
    return ", ".join(filter(None, ["1 Stripe account (fake)", _saved_card(harbour)]))


def _saved_card(harbour: Practice) -> str:
    """4242 saved for the first Harbour Street client (by name) who owes on an open invoice."""
    from billing.models import Invoice

    if SavedCard.objects.filter(practice=harbour, removed_at__isnull=True).exists():
        return "1 saved card"
    invoice = (
        Invoice.objects.filter(practice=harbour, kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN, balance__gt=0)
        .select_related("client__payer", "practice")
        .order_by("client__last_name", "client__first_name", "pk")
        .first()
    )
    if invoice is None:
        return ""
    client = invoice.client
    card_setup_start(client=client)
    setup = CardSetup.objects.filter(client=client).latest("pk")
    ControlClient(settings.STRIPE_API_BASE).pay_session(
        str(setup.stripe_checkout_session_id), "4242424242424242", name=client.full_name, email=client.billing_email
    )
    card = card_setup_refresh(setup).card
    return f"1 saved card ({card.label} for {client.full_name})" if card else ""
