"""Factories for the appointments app: services, and appointments booked through the service
that the calendar uses, at a start relative to the practice's local now."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import factory

from appointments.models import Appointment, Service
from appointments.services import appointment_create
from clients.models import Client
from practice.models import Practice, User


class ServiceFactory(factory.django.DjangoModelFactory):
    """A self-pay service by default; pass ``payment_type`` and the co-pay fields for others."""

    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Session {n}")
    code = factory.Sequence(lambda n: f"S{n}")
    default_duration_minutes = 50
    price = Decimal("150.00")
    payment_type = Service.PaymentType.SELF_PAY


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
