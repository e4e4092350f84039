"""Part-payments (Settings > Online payments): whether a payer may pay part of an invoice
online, the least they may pay then, and the check of an amount typed on the payment link
page or on Take payment.

A payer may pay any amount from the practice's minimum (or the whole balance when less is
owed) up to the balance; without part-payments, the balance only. The check runs in
payments.checkout under the invoice's lock, so the balance it compares with is the one
the session is made for.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.forms.numbers import plain
from billing.inputs import AMOUNT_POSITIVE, ENTER_AMOUNT, MAX_AMOUNT, money_problem, parse_amount
from practice.actor import Actor
from practice.audit import audit_write, diff_fields, snapshot
from practice.models import Practice, User
from practice.money import practice_money

from .models import OnlinePaymentSettings

MINIMUM_REQUIRED = "Enter the least amount a payer may pay, more than 0, or turn part-payments off."
MINIMUM_TOO_LARGE = "Enter a minimum less than 1,000,000,000."
MINIMUM_BELOW_STRIPE = "Enter at least {least}: Stripe takes no smaller card payment in {currency}."
SETTINGS_SAVED = "Online payment settings saved."

AMOUNT_FULL_ONLY = "This invoice can only be paid in full online: {balance}. Nothing has been charged."
AMOUNT_BELOW_MINIMUM = "Enter at least {least}: {practice} takes part-payments from {least}. Nothing has been charged."
AMOUNT_ABOVE_BALANCE = "Enter no more than the balance, {balance}. Nothing has been charged."
AMOUNT_NOT_POSITIVE = AMOUNT_POSITIVE + " Nothing has been charged."
AMOUNT_UNREADABLE = ENTER_AMOUNT + " Nothing has been charged."
AMOUNT_HELP = "Pay the balance, {balance}, or part of it: at least {least}."

# The smallest charge Stripe accepts in a currency (docs.stripe.com/currencies#minimum-and-
# maximum-charge-amounts). A minimum below it would let a payer start a payment that Stripe
# then refuses; currencies not listed here are not checked.
STRIPE_LEAST_CHARGE = {
    "AUD": Decimal("0.50"),
    "CAD": Decimal("0.50"),
    "CHF": Decimal("0.50"),
    "EUR": Decimal("0.50"),
    "GBP": Decimal("0.30"),
    "NZD": Decimal("0.50"),
    "SGD": Decimal("0.50"),
    "USD": Decimal("0.50"),
}


@dataclass(frozen=True)
class PartPayments:
    allowed: bool
    minimum: Decimal


def part_payments_for(practice_id: int) -> PartPayments:
    row = OnlinePaymentSettings.objects.filter(practice_id=practice_id).first()
    if row is None or not row.part_payments_allowed:
        return PartPayments(allowed=False, minimum=Decimal("0"))
    return PartPayments(allowed=True, minimum=row.part_payment_minimum)


def least_payment(rules: PartPayments, balance: Decimal) -> Decimal:
    """The least a payer may pay towards ``balance``: the minimum, or the balance when less
    is owed (or when part-payments are off)."""
    return min(rules.minimum, balance) if rules.allowed else balance


@dataclass(frozen=True)
class AmountChoice:
    """What a pay form offers: an amount to type (from ``initial``, as the input shows it)
    with ``help`` saying the range, or the balance only (``choose`` False)."""

    choose: bool
    initial: str = ""
    help: str = ""


def amount_choice(practice: Practice, balance: Decimal) -> AmountChoice:
    rules = part_payments_for(practice.pk)
    least = least_payment(rules, balance)
    if not rules.allowed or least >= balance:
        return AmountChoice(choose=False)
    return AmountChoice(
        choose=True,
        initial=plain(balance, practice.locale),
        help=AMOUNT_HELP.format(balance=practice_money(practice, balance), least=practice_money(practice, least)),
    )


def read_amount(raw: str, practice: Practice) -> Decimal:
    """The amount a payer typed, read in the practice's locale; ValueError with the message
    to show when it is not a number."""
    try:
        return parse_amount(raw.strip(), "amount", locale=practice.locale)
    except ValidationError:
        raise ValueError(AMOUNT_UNREADABLE) from None


def amount_problem(*, practice: Practice, rules: PartPayments, balance: Decimal, amount: Decimal) -> str | None:
    """Why a payer may not pay ``amount`` towards ``balance`` online (None when they may)."""

    def money(value: Decimal) -> str:
        return practice_money(practice, value)

    if not amount.is_finite() or amount <= 0:
        return AMOUNT_NOT_POSITIVE
    if problem := money_problem(amount, practice.currency):
        return problem
    if amount == balance:
        return None
    if not rules.allowed:
        return AMOUNT_FULL_ONLY.format(balance=money(balance))
    if amount > balance:
        return AMOUNT_ABOVE_BALANCE.format(balance=money(balance))
    if amount < (least := least_payment(rules, balance)):
        return AMOUNT_BELOW_MINIMUM.format(least=money(least), practice=practice.name)
    return None


def online_payment_settings_update(
    *, practice: Practice, actor: Actor | User, allowed: bool, minimum: Decimal | None
) -> OnlinePaymentSettings:
    """Save the part-payment rules; ValidationError (by field) with a message the owner reads.
    With part-payments off the minimum is kept as typed (if valid) for next time."""
    errors: dict[str, str] = {}
    if minimum is None or not minimum.is_finite() or minimum <= 0:
        if allowed:
            errors["part_payment_minimum"] = MINIMUM_REQUIRED
        minimum = None
    elif minimum >= MAX_AMOUNT:
        errors["part_payment_minimum"] = MINIMUM_TOO_LARGE
    elif problem := money_problem(minimum, practice.currency):
        errors["part_payment_minimum"] = problem
    elif (least := STRIPE_LEAST_CHARGE.get(practice.currency)) is not None and minimum < least:
        errors["part_payment_minimum"] = MINIMUM_BELOW_STRIPE.format(
            least=practice_money(practice, least), currency=practice.currency
        )
    if errors:
        raise ValidationError(errors)
    fields = ("part_payments_allowed", "part_payment_minimum")
    with transaction.atomic():
        Practice.objects.select_for_update().get(pk=practice.pk)
        row, _ = OnlinePaymentSettings.objects.get_or_create(practice=practice)
        before = snapshot(row, fields)
        row.part_payments_allowed = allowed
        if minimum is not None:
            row.part_payment_minimum = minimum
        row.save()
        if changes := diff_fields(before, snapshot(row, fields)):
            audit_write(practice=practice, action="payments.settings_changed", actor=actor, obj=row, changes=changes)
    return row
