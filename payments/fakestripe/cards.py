"""Stripe's test cards and test PaymentMethod tokens, and what each does.

Behaviour follows Stripe's testing guide: 4000 0025 0000 3155 asks for authentication when it is
used on-session or set up, but once set up for off-session use it charges without a challenge;
4000 0027 6000 3184 asks every time, so an off-session charge fails with authentication_required.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str
    funding: str = "credit"
    country: str = "US"
    # What a charge does: "succeed", "decline", or "authenticate".
    charge: str = "succeed"
    decline_code: str | None = None
    # Whether a set-up card still needs authentication off-session.
    auth_off_session: str = "never"  # never | unless_setup | always
    # Attaching (saving) fails too, as Stripe's "charge_declined" cards do.
    attach_declines: bool = True

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def fingerprint(self) -> str:
        return "fp" + self.number[-8:] + self.brand[:4]


CARDS: dict[str, TestCard] = {
    card.number: card
    for card in (
        TestCard("4242424242424242", "visa"),
        TestCard("4000056655665556", "visa", funding="debit"),
        TestCard("5555555555554444", "mastercard"),
        TestCard("378282246310005", "amex"),
        TestCard("4000000000000002", "visa", charge="decline", decline_code="generic_decline"),
        TestCard("4000000000009995", "visa", charge="decline", decline_code="insufficient_funds"),
        TestCard("4000000000009987", "visa", charge="decline", decline_code="lost_card"),
        TestCard("4000000000000069", "visa", charge="decline", decline_code="expired_card"),
        TestCard("4000000000000127", "visa", charge="decline", decline_code="incorrect_cvc"),
        # Attaches fine; every charge is declined (Stripe's card for a failing saved card).
        TestCard("4000000000000341", "visa", charge="decline", decline_code="generic_decline", attach_declines=False),
        TestCard("4000002500003155", "visa", charge="authenticate", auth_off_session="unless_setup"),
        TestCard("4000002760003184", "visa", charge="authenticate", auth_off_session="always"),
    )
}

# Stripe's test PaymentMethod ids: each use creates a fresh PaymentMethod with that card.
TOKENS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
}

DECLINE_MESSAGES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "lost_card": ("card_declined", "Your card was declined."),
    "expired_card": ("expired_card", "Your card has expired."),
    "incorrect_cvc": ("incorrect_cvc", "Your card's security code is incorrect."),
}

AUTHENTICATION_REQUIRED_MESSAGE = "Your card was declined. This transaction requires authentication."
AUTHENTICATION_FAILED_MESSAGE = (
    "We are unable to authenticate your payment method. Please choose a different payment method and try again."
)


def card_for(number: str) -> TestCard | None:
    return CARDS.get("".join(ch for ch in number if ch.isdigit()))
