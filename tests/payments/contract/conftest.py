"""The contract suite's Stripe: the fake always, and real Stripe in test mode as well when
STRIPE_TEST_SECRET_KEY is set (each test then runs once against each).

The real run is for test mode only: a key that is not a test-mode secret key (``sk_test_``)
is refused, so no contract test can touch live money. Its idempotency keys name rows no
earlier run used (Stripe keeps a key for 24 hours), and the accounts it creates are deleted.
Charges need a connected account that can take them, which a fresh Express account cannot
until someone completes its onboarding: STRIPE_TEST_CONNECTED_ACCOUNT names one (else
PaymentIntents go to the platform itself and Checkout is skipped, with the reason printed).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from payments import gateway
from tests.payments.conftest import FakeStripeHandle
from tests.payments.helpers import connected_account

KEY_VARIABLE = "STRIPE_TEST_SECRET_KEY"
ACCOUNT_VARIABLE = "STRIPE_TEST_CONNECTED_ACCOUNT"
NOT_SET = f"{KEY_VARIABLE} is not set: the contract suite ran against the fake Stripe only."
NOT_A_TEST_KEY = f"{KEY_VARIABLE} must be a test-mode secret key (sk_test_...): the contract suite never runs live."


@dataclass
class Backend:
    """One Stripe the contract runs against."""

    name: str
    # A connected account that can take charges (None: charge the platform itself).
    charge_account: str | None
    fake: FakeStripeHandle | None = None
    made_accounts: list[str] = field(default_factory=list)

    @property
    def real(self) -> bool:
        return self.fake is None

    def row(self) -> int:
        """A local row id no other run used, so its idempotency keys are new to Stripe."""
        return 10**9 + secrets.randbelow(10**9)


def stripe_test_key() -> str | None:
    """The test-mode key to run against real Stripe, None when unset; a live key fails."""
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        return None
    if not key.startswith("sk_test_"):
        pytest.fail(NOT_A_TEST_KEY, pytrace=False)
    return key


@pytest.fixture(params=["fake", "stripe"])
def stripe_backend(request: pytest.FixtureRequest, settings) -> Iterator[Backend]:  # type: ignore[no-untyped-def]
    if request.param == "fake":
        fake: FakeStripeHandle = request.getfixturevalue("app_on_fake")
        yield Backend("fake", connected_account(fake), fake=fake)
        return
    key = stripe_test_key()
    if key is None:
        pytest.skip(NOT_SET)
    settings.STRIPE_SECRET_KEY = key
    settings.STRIPE_API_BASE = ""  # stripe-python's own: api.stripe.com
    settings.STRIPE_TIMEOUT_SECONDS = 30.0
    assert not gateway.fake_in_use()
    backend = Backend("stripe", os.environ.get(ACCOUNT_VARIABLE, "").strip() or None)
    yield backend
    for account in backend.made_accounts:
        # Test-mode accounts can be deleted; keep the platform's test data from piling up.
        gateway.client().v1.accounts.delete(account)
