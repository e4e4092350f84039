"""Demo services and three months of appointments. Called by practice.demo.load_demo_data
after clients.demo, so the Harbour clients exist.

Services and tax rates are get-or-create. Appointments are made only when Harbour has
none yet, so loading twice adds nothing. They go through the services
(``appointment_create``, ``appointment_mark_completed``...) so the billing items are the
ones a real practice would have. The random choices use a fixed seed; the dates are
relative to today, with eight weeks behind and five ahead.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from clients.models import Client
from practice.models import FeePolicy, Practice, TaxRate, User

from .models import Appointment, Service
from .services import (
    Recurrence,
    appointment_cancel,
    appointment_create,
    appointment_mark_completed,
    appointment_mark_no_show,
)

SEED = 20260401
WEEKS_BEHIND = 8
WEEKS_AHEAD = 5
CLINICIANS = ["clinician1@harbour.example", "clinician2@harbour.example", "clinician3@harbour.example"]
# Hours at which single sessions start. The recurring series sit at 8:00 and 17:00 and the
# group at 18:00, so a clinician is never double-booked.
SESSION_HOURS = [9, 10, 11, 13, 14, 15, 16]

# code: (name, minutes, price, payment type, co-pay kind, co-pay amount or percent)
HARBOUR_SERVICES = {
    "IND50": ("Individual therapy", 50, "150.00", Service.PaymentType.SELF_PAY, "", None),
    "IND80": ("Extended individual therapy", 80, "210.00", Service.PaymentType.SELF_PAY, "", None),
    "INTAKE": ("Intake assessment", 60, "200.00", Service.PaymentType.SELF_PAY, "", None),
    "COUPLE": ("Couples therapy", 60, "180.00", Service.PaymentType.SELF_PAY, "", None),
    "GROUP": ("Group therapy", 90, "60.00", Service.PaymentType.SELF_PAY, "", None),
    "INS50": ("Individual therapy (insurance)", 50, "160.00", Service.PaymentType.INSURANCE, "", None),
    "CPF50": ("Individual therapy (co-pay $30)", 50, "160.00", Service.PaymentType.COPAY, "fixed", "30.00"),
    "CPP60": ("Family therapy (co-pay 20%)", 60, "190.00", Service.PaymentType.COPAY, "percent", "20"),
}
# Weights for the service of a single session: mostly self-pay, some insured.
SINGLE_SESSION_MIX = [("IND50", 8), ("IND80", 1), ("CPF50", 3), ("INS50", 2), ("CPP60", 1)]
KOWHAI_SERVICES = {
    "COUNSEL": ("Counselling session", 60, "115.00"),
    "WHANAU": ("Whānau session", 90, "172.50"),
}


def _harbour_services(harbour: Practice) -> dict[str, Service]:
    made = {}
    for code, (name, minutes, price, payment_type, copay_kind, copay) in HARBOUR_SERVICES.items():
        copay_value = Decimal(copay) if copay is not None else None
        made[code], _ = Service.objects.get_or_create(
            practice=harbour,
            code=code,
            defaults={
                "name": name,
                "default_duration_minutes": minutes,
                "price": Decimal(price),
                "payment_type": payment_type,
                "copay_kind": copay_kind,
                "copay_amount": copay_value if copay_kind == "fixed" else None,
                "copay_percent": copay_value if copay_kind == "percent" else None,
            },
        )
    return made


def _kowhai_services(kowhai: Practice) -> None:
    # A GST practice: prices are entered with the 15% GST in them (115.00 = 100.00 + 15.00).
    gst, _ = TaxRate.objects.get_or_create(
        practice=kowhai, name="GST 15%", defaults={"percent": Decimal("15"), "is_default": True}
    )
    for code, (name, minutes, price) in KOWHAI_SERVICES.items():
        Service.objects.get_or_create(
            practice=kowhai,
            code=code,
            defaults={
                "name": name,
                "default_duration_minutes": minutes,
                "price": Decimal(price),
                "tax_rate": gst,
            },
        )


def _at(practice: Practice, day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=practice.tzinfo)


def _hold(appointment: Appointment, actor: User, rng: random.Random) -> None:
    """Settle a session that has ended: mostly completed, now and then a no-show or a late cancel."""
    roll = rng.random()
    if roll < 0.05:
        appointment_mark_no_show(appointment=appointment, actor=actor)
    elif roll < 0.07:
        appointment_cancel(appointment=appointment, actor=actor, late=True)
    else:
        appointment_mark_completed(appointment=appointment, actor=actor)


def _appointments(harbour: Practice, services: dict[str, Service]) -> None:
    rng = random.Random(SEED)  # noqa: S311  -- repeatable demo rows, nothing secret
    now = timezone.now()
    today = harbour.local_today()
    first_monday = today - timedelta(days=today.weekday(), weeks=WEEKS_BEHIND)
    days = [first_monday + timedelta(days=n) for n in range(7 * (WEEKS_BEHIND + WEEKS_AHEAD))]
    weekdays = [d for d in days if d.weekday() < 5]
    active = Client.objects.filter(practice=harbour, status=Client.Status.ACTIVE).order_by("pk")
    clinicians = [User.objects.get(email=email) for email in CLINICIANS]
    admin = User.objects.get(email="admin@harbour.example")
    codes = [code for code, _ in SINGLE_SESSION_MIX]
    weights = [weight for _, weight in SINGLE_SESSION_MIX]
    ended = []

    # Each clinician books only their own clients (clients.demo assigns them round-robin):
    # booking a client with a clinician assigns them (appointment_create), so picking
    # anyone would quietly hand clients to a second clinician.
    own_by_clinician = {c.pk: list(active.filter(clinicians=c)) for c in clinicians}
    for clinician in clinicians:
        own = own_by_clinician[clinician.pk]
        for day in weekdays:
            for hour in sorted(rng.sample(SESSION_HOURS, rng.randint(2, 3))):
                service = services[rng.choices(codes, weights)[0]]
                (appointment,) = appointment_create(
                    practice=harbour,
                    actor=admin,
                    clinician=clinician,
                    clients=[rng.choice(own)],
                    services=[service],
                    start=_at(harbour, day, hour),
                    duration_minutes=service.default_duration_minutes,
                    location=rng.choice(list(Appointment.Location.values)),
                )
                if appointment.end <= now:
                    ended.append((appointment, clinician))

    # Two weekly series: one that began six weeks ago, one that began three weeks ago.
    series = [
        (clinicians[0], today - timedelta(weeks=6), 8, 12, "IND50"),
        (clinicians[1], today - timedelta(weeks=3), 17, 10, "CPF50"),
    ]
    taken: set[int] = set()
    for clinician, start_day, hour, count, code in series:
        client = next(
            c for c in sorted(own_by_clinician[clinician.pk], key=lambda c: c.last_name) if c.payer_id is None
        )
        taken.add(client.pk)
        for appointment in appointment_create(
            practice=harbour,
            actor=admin,
            clinician=clinician,
            clients=[client],
            services=[services[code]],
            start=_at(harbour, start_day, hour),
            duration_minutes=services[code].default_duration_minutes,
            note="Weekly session",
            recurrence=Recurrence(freq="weekly", count=count),
        ):
            if appointment.end <= now:
                ended.append((appointment, clinician))

    # One group session of four, held last week.
    group_day = today - timedelta(days=today.weekday() + 5)  # Wednesday of last week
    group = sorted(
        (c for c in own_by_clinician[clinicians[2].pk] if c.pk not in taken), key=lambda c: c.last_name, reverse=True
    )[:4]
    (appointment,) = appointment_create(
        practice=harbour,
        actor=admin,
        clinician=clinicians[2],
        clients=group,
        services=[services["GROUP"]],
        start=_at(harbour, group_day, 18),
        duration_minutes=services["GROUP"].default_duration_minutes,
        note="Anxiety skills group",
    )
    appointment_mark_completed(appointment=appointment, actor=clinicians[2])

    for appointment, clinician in ended:
        _hold(appointment, clinician, rng)


def load(*, harbour: Practice, kowhai: Practice) -> str:
    services = _harbour_services(harbour)
    if not kowhai.prices_include_tax and not Service.objects.filter(practice=kowhai).exists():
        kowhai.prices_include_tax = True
        kowhai.save(update_fields=["prices_include_tax"])
    _kowhai_services(kowhai)
    if not Appointment.objects.filter(practice=harbour).exists():
        # First load: Harbour charges a no-show or a late cancel (within 24 hours) $50.
        harbour.no_show_policy = harbour.late_cancel_policy = FeePolicy.FLAT
        harbour.no_show_fee = harbour.late_cancel_fee = Decimal("50.00")
        harbour.late_cancel_window_hours = 24
        harbour.save(
            update_fields=[
                "no_show_policy",
                "no_show_fee",
                "late_cancel_policy",
                "late_cancel_fee",
                "late_cancel_window_hours",
            ]
        )
        _appointments(harbour, services)
    both = [harbour, kowhai]
    services_count = Service.objects.filter(practice__in=both).count()
    appointments = Appointment.objects.filter(practice__in=both).count()
    # billing.demo (loaded next) adds the count of the billing items these sessions made.
    return f"{services_count} services, {appointments} appointments"
