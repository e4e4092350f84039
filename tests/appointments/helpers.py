"""Helpers the appointments page tests share: times, the POST data of the calendar's
appointment form and of the settings' service and billing-details forms, and the URL of the
Edit billing details page."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.urls import reverse

from appointments.models import Appointment, BillingDetail
from practice.models import Practice

NY = ZoneInfo("America/New_York")


# A Wednesday after the spring DST change: 09:00 in New York is 13:00 UTC.
WEDNESDAY = date(2026, 3, 11)


def edit_url(appointment: Appointment, detail: BillingDetail | None = None) -> str:
    """The Edit billing details page of ``detail`` (by default the appointment's only one)."""
    detail = detail or BillingDetail.objects.get(appointment=appointment)
    return reverse(
        "billing:billing_detail_edit",
        kwargs={"practice_slug": appointment.practice.slug, "appointment_id": appointment.pk, "detail_id": detail.pk},
    )


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def form_post(tenant, clients, services, **overrides):
    data = {
        "clinician": str(tenant.clinician.pk),
        "clients": [str(c.pk) for c in clients],
        "services": [str(s.pk) for s in services],
        "date": "2026-03-11",
        "start_time": "09:00",
        "duration_minutes": "",
        "location": "in_person",
        "note": "",
        "repeat": "none",
        "interval": "1",
        "until": "",
        "count": "",
    }
    data.update(overrides)
    return data


def service_post(**overrides):
    data = {
        "name": "Individual therapy",
        "code": "90837",
        "default_duration_minutes": "50",
        "price": "150.00",
        "tax_rate": "",
        "payment_type": "self_pay",
        "copay_kind": "",
        "copay_amount": "",
        "copay_percent": "",
    }
    data.update(overrides)
    return data


def details_post(practice: Practice, **overrides):
    data = {
        "currency": practice.currency,
        "billing_address": "1 Harbour Street",
        "tax_id": "12-345-678",
        "timezone": practice.timezone,
        "no_show_policy": "none",
        "no_show_fee": "0",
        "late_cancel_policy": "none",
        "late_cancel_fee": "0",
        "late_cancel_window_hours": "24",
    }
    data.update(overrides)
    return data
