"""Demo data for online payments: with the fake Stripe (``make run`` without keys), Harbour
Street is connected to an already onboarded fake account; Kowhai is not, so its owner can
click through onboarding."""

from __future__ import annotations

from django.conf import settings

from practice.models import Practice

from .fakestripe import ControlClient
from .gateway import fake_in_use
from .models import StripeAccount
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
    return "1 Stripe account (fake)"
