"""Payouts of a connected account to its bank, and the balance transactions each one paid
out (charges, refunds, disputes and their fees), as Stripe has them. Reads only: nothing
here asks Stripe to move money."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe
from stripe.params import BalanceTransactionListParams, PayoutListParams

from .client import client, request_options

PAGE = 100


@dataclass(frozen=True)
class Payout:
    """What the app reads of a payout: ``amount`` in minor units; ``status`` is Stripe's
    (pending, in_transit, paid, failed or canceled); ``created`` and ``arrival_date`` are
    Unix times."""

    id: str
    amount: int
    currency: str
    status: str
    created: int
    arrival_date: int | None
    automatic: bool
    failure_message: str


@dataclass(frozen=True)
class BalanceTransaction:
    """One movement of money in a payout. ``amount``, ``fee`` and ``net`` are in minor units
    of ``currency`` (``net = amount - fee``); ``type`` and ``reporting_category`` are
    Stripe's (charge, refund, adjustment / dispute, dispute_reversal, ...). ``source`` is
    the id of what moved the money (ch_, re_, dp_, po_); ``charge`` and
    ``payment_intent`` are the payment it belongs to, read from the source."""

    id: str
    type: str
    reporting_category: str
    amount: int
    fee: int
    net: int
    currency: str
    created: int
    description: str
    source: str
    charge: str | None
    payment_intent: str | None


def _payout(obj: stripe.Payout) -> Payout:
    failure: object = getattr(obj, "failure_message", None)
    return Payout(
        id=str(obj.id),
        amount=int(obj.amount),
        currency=str(obj.currency).upper(),
        status=str(obj.status),
        created=int(obj.created),
        arrival_date=int(obj.arrival_date) if obj.arrival_date else None,
        automatic=bool(obj.automatic),
        failure_message=str(failure) if failure else "",
    )


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _transaction(raw: dict[str, Any]) -> BalanceTransaction:
    source = raw.get("source")
    # Expanded, the source says which payment it belongs to: a charge is one (its
    # PaymentIntent), a refund or a dispute names its charge and PaymentIntent.
    details: dict[str, Any] = source if isinstance(source, dict) else {}
    kind = details.get("object")
    charge = _id(details.get("id")) if kind == "charge" else _id(details.get("charge"))
    return BalanceTransaction(
        id=str(raw["id"]),
        type=str(raw.get("type") or ""),
        reporting_category=str(raw.get("reporting_category") or ""),
        amount=int(raw["amount"]),
        fee=int(raw.get("fee") or 0),
        net=int(raw["net"]),
        currency=str(raw["currency"]).upper(),
        created=int(raw["created"]),
        description=str(raw.get("description") or ""),
        source=_id(source) or "",
        charge=charge,
        payment_intent=_id(details.get("payment_intent")),
    )


def payouts_list(account_id: str, *, created_from: int | None = None) -> list[Payout]:
    """The account's payouts made since ``created_from`` (a Unix time; all when None),
    newest first, every page of them."""
    params: PayoutListParams = {"limit": PAGE}
    if created_from is not None:
        params["created"] = {"gte": created_from}
    page = client().v1.payouts.list(params, request_options(account_id))
    return [_payout(p) for p in page.auto_paging_iter()]


def payout_retrieve(payout_id: str, account_id: str) -> Payout:
    return _payout(client().v1.payouts.retrieve(payout_id, None, request_options(account_id)))


def payout_read(data: dict[str, object]) -> Payout:
    """A payout from its plain-dict form (a webhook's re-read)."""
    return _payout(stripe.Payout.construct_from(data, ""))


def payout_transactions(payout_id: str, account_id: str) -> list[BalanceTransaction]:
    """Every balance transaction the payout paid out, its own withdrawal included (type
    payout), each with its source expanded so it names its payment."""
    params: BalanceTransactionListParams = {"payout": payout_id, "limit": PAGE, "expand": ["data.source"]}
    page = client().v1.balance_transactions.list(params, request_options(account_id))
    return [_transaction(txn.to_dict()) for txn in page.auto_paging_iter()]
