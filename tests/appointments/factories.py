"""Factories and helpers for clients, services and appointments (tests/appointments, tests/billing)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import factory

from appointments.models import Appointment, Service
from appointments.services import appointment_create
from billing.models import Invoice
from clients.models import Client
from practice.models import Practice, TaxRate, User


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"client{n}@example.test")


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    name = factory.Sequence(lambda n: f"Tax {n}")
    percent = Decimal("0")


class ServiceFactory(factory.django.DjangoModelFactory):
    """A self-pay service by default; pass ``payment_type`` and the co-pay fields for others."""

    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Session {n}")
    code = factory.Sequence(lambda n: f"S{n}")
    default_duration_minutes = 50
    price = Decimal("150.00")
    payment_type = Service.PaymentType.SELF_PAY


def invoice_for(item) -> Invoice:  # type: ignore[no-untyped-def]
    """Put ``item`` on a fresh draft invoice, as the invoicing work will."""
    invoice = Invoice.objects.create(practice=item.practice, client=item.client, currency=item.currency)
    item.invoice = invoice
    item.save(update_fields=["invoice"])
    return invoice


def past_start(practice: Practice, days: int = 2, hour: int = 10) -> datetime:
    """An aware start ``days`` ago at ``hour`` o'clock practice time."""
    local = practice.local_now() - timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def future_start(practice: Practice, days: int = 2, hour: int = 10) -> datetime:
    local = practice.local_now() + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def make_appointment(
    practice: Practice,
    actor: User,
    clinician: User,
    clients: list[Client],
    services: list[Service],
    start: datetime | None = None,
    duration_minutes: int = 50,
) -> Appointment:
    (appointment,) = appointment_create(
        practice=practice,
        actor=actor,
        clinician=clinician,
        clients=clients,
        services=services,
        start=start or past_start(practice),
        duration_minutes=duration_minutes,
    )
    return appointment


__all__ = [
    "ClientFactory",
    "ServiceFactory",
    "TaxRateFactory",
    "future_start",
    "invoice_for",
    "make_appointment",
    "past_start",
]
