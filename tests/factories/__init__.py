"""Factories and row builders, one module per app; import them from here."""

from .appointments import ServiceFactory, future_start, make_appointment, past_start
from .billing import (
    completed_session_items,
    draft_invoice,
    give_credit,
    invoice_for,
    issued_invoice,
    make_item,
    make_items,
    paid_package,
    pay,
)
from .clients import ClientFactory, PayerFactory
from .payments import online_payment
from .practice import MembershipFactory, PracticeFactory, TaxRateFactory, UserFactory

__all__ = [
    "ClientFactory",
    "MembershipFactory",
    "PayerFactory",
    "PracticeFactory",
    "ServiceFactory",
    "TaxRateFactory",
    "UserFactory",
    "completed_session_items",
    "draft_invoice",
    "future_start",
    "give_credit",
    "invoice_for",
    "issued_invoice",
    "make_appointment",
    "make_item",
    "make_items",
    "online_payment",
    "paid_package",
    "past_start",
    "pay",
]
