"""Appointments and the billing items they produce.

Lock order (practice -> client -> invoice -> payment attempt, see billing.locks): here an
appointment row is locked first, then its billing items; no code locks them the other way.
Completing, generating and cancelling all take the appointment's row lock, so two staff
pressing "Mark completed" at once produce one set of items; the partial unique indexes on
BillingItem are the last line behind that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Literal

from dateutil import rrule as du_rrule
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from clients.models import Client
from practice.audit import audit_write

# The billing detail's figures obey the columns' rules, in the words billing uses; the
# messages stay importable from here (``X as X``: re-exported).
from practice.inputs import LINE_TOO_LARGE as LINE_TOO_LARGE
from practice.inputs import PRICE_NEGATIVE as PRICE_NEGATIVE
from practice.inputs import PRICE_TOO_LARGE as PRICE_TOO_LARGE
from practice.inputs import PRICE_TOO_PRECISE as PRICE_TOO_PRECISE
from practice.inputs import TAX_RANGE as TAX_RANGE
from practice.inputs import TAX_TOO_FINE as TAX_TOO_FINE
from practice.inputs import UNITS_POSITIVE as UNITS_POSITIVE
from practice.inputs import UNITS_TOO_FINE as UNITS_TOO_FINE
from practice.inputs import UNITS_TOO_LARGE as UNITS_TOO_LARGE
from practice.inputs import billed_price_problem, line_problem, tax_problem, units_problem
from practice.models import Membership, Practice, User
from practice.money import quantize

from . import hooks
from .models import Appointment, AppointmentService, Attendee, BillingDetail, RecurringSeries, Service

# The frequencies dateutil's rrule() accepts (du_rrule.YEARLY .. du_rrule.SECONDLY).
RRuleFrequency = Literal[0, 1, 2, 3, 4, 5, 6]

MAX_OCCURRENCES = 200

NOT_STARTED = "This appointment has not started yet, so it cannot be completed or billed."
NOT_COMPLETABLE = "Only a scheduled or completed appointment can be marked completed."
CANCEL_INVOICED = "This appointment has invoiced items. Issue a credit invoice for them instead of cancelling."
ALREADY_CANCELLED = "This appointment is already cancelled."
RECURRENCE_NEEDS_END = "Choose an end date or a number of occurrences for a repeating appointment."
RECURRENCE_TOO_LONG = f"A repeating appointment can have at most {MAX_OCCURRENCES} occurrences."
DURATION_POSITIVE = "The duration must be at least 1 minute."
NEEDS_CLIENT = "Choose at least one client."
NEEDS_SERVICE = "Choose at least one service."
CLINICIAN_NOT_MEMBER = "Choose a clinician of this practice."
WRONG_PRACTICE = "That choice does not belong to this practice."
EDIT_ONLY_SCHEDULED = "Only a scheduled appointment can change its time, people or services."
DETAIL_INVOICED_NOTE = "The invoiced item keeps its amounts; change the invoice instead."
LATE_CANCEL_ONLY_SCHEDULED = "Only a scheduled appointment can be late-cancelled. A held session can only be cancelled."
PRICE_NOT_NEGATIVE = PRICE_NEGATIVE


def _utc(moment: datetime) -> datetime:
    """The same instant in UTC. Adding a duration to a zoneinfo datetime adds wall-clock
    time, so a session across a DST change would be an hour long or short; in UTC the
    duration is elapsed time. A local time in the spring-forward gap becomes the instant
    it names under the earlier offset, which is what zoneinfo's fold=0 means."""
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Recurrence:
    freq: str  # "weekly" | "monthly"
    interval: int = 1
    until: date | None = None
    count: int | None = None

    def rule_text(self) -> str:
        parts = [f"FREQ={self.freq.upper()}", f"INTERVAL={self.interval}"]
        if self.count:
            parts.append(f"COUNT={self.count}")
        if self.until:
            parts.append(f"UNTIL={self.until:%Y%m%d}T235959")
        return ";".join(parts)


def occurrence_starts(*, practice: Practice, first_start: datetime, recurrence: Recurrence) -> list[datetime]:
    """Aware starts of every occurrence, expanded in local wall time.

    The rule runs on naive local times and each is then placed in the practice's zone,
    so a weekly 9:00 session is at 9:00 on both sides of a DST change.
    """
    if recurrence.freq not in {"weekly", "monthly"}:
        raise ValidationError({"recurrence": "Choose weekly or monthly."})
    if recurrence.interval < 1:
        raise ValidationError({"recurrence": "The interval must be at least 1."})
    if not recurrence.until and not recurrence.count:
        raise ValidationError({"recurrence": RECURRENCE_NEEDS_END})
    tz = practice.tzinfo
    local_first = timezone.localtime(first_start, tz).replace(tzinfo=None)
    if recurrence.until and recurrence.until < local_first.date():
        raise ValidationError({"recurrence": "The end date is before the first appointment."})
    if recurrence.count and recurrence.count > MAX_OCCURRENCES:
        raise ValidationError({"recurrence": RECURRENCE_TOO_LONG})
    # rrule() takes the frequency as a Literal; the annotation keeps the constants' literal types.
    freq: RRuleFrequency = du_rrule.WEEKLY if recurrence.freq == "weekly" else du_rrule.MONTHLY
    until = datetime.combine(recurrence.until, time.max) if recurrence.until else None
    rule = du_rrule.rrule(freq, dtstart=local_first, interval=recurrence.interval, count=recurrence.count, until=until)
    starts: list[datetime] = []
    for local in rule:
        if len(starts) >= MAX_OCCURRENCES:
            raise ValidationError({"recurrence": RECURRENCE_TOO_LONG})
        starts.append(local.replace(tzinfo=tz))
    return starts


def _check_parts(
    *,
    practice: Practice,
    clinician: User,
    clients: list[Client],
    services: list[Service],
    duration_minutes: int,
) -> None:
    errors: dict[str, list[str]] = {}
    if duration_minutes is None or duration_minutes <= 0:
        errors.setdefault("duration_minutes", []).append(DURATION_POSITIVE)
    if not clients:
        errors.setdefault("clients", []).append(NEEDS_CLIENT)
    if not services:
        errors.setdefault("services", []).append(NEEDS_SERVICE)
    if any(c.practice_id != practice.pk for c in clients):
        errors.setdefault("clients", []).append(WRONG_PRACTICE)
    if any(s.practice_id != practice.pk for s in services):
        errors.setdefault("services", []).append(WRONG_PRACTICE)
    if not Membership.objects.filter(practice=practice, user=clinician, is_active=True).exists():
        errors.setdefault("clinician", []).append(CLINICIAN_NOT_MEMBER)
    if errors:
        raise ValidationError(errors)


def client_part_price(service: Service) -> Decimal:
    """What the client is billed per unit: the price, the co-pay, or nothing (insurance)."""
    if service.payment_type == Service.PaymentType.SELF_PAY:
        return service.price
    if service.payment_type == Service.PaymentType.COPAY:
        if service.copay_kind == Service.CopayKind.FIXED:
            return service.copay_amount or Decimal("0")
        percent = service.copay_percent or Decimal("0")
        return quantize(service.price * percent / Decimal("100"), service.practice.currency)
    return Decimal("0")


def _sync_billing_details(appointment: Appointment, *, new: bool = False) -> None:
    """One BillingDetail per attendee per client-billed service; missing ones are added
    from the service's price, removed people/services lose theirs. ``new``: the
    appointment was just created and has no details yet (saves the look-up)."""
    services = [
        link.service
        for link in AppointmentService.objects.filter(appointment=appointment).select_related(
            "service__tax_rate", "service__practice"
        )
    ]
    billable = [s for s in services if s.payment_type != Service.PaymentType.INSURANCE]
    client_ids = list(Attendee.objects.filter(appointment=appointment).values_list("client_id", flat=True))
    existing = (
        {} if new else {(d.client_id, d.service_id): d for d in BillingDetail.objects.filter(appointment=appointment)}
    )
    wanted = {(c, s.pk) for c in client_ids for s in billable}
    stale = [d.pk for key, d in existing.items() if key not in wanted]
    if stale:
        BillingDetail.objects.filter(pk__in=stale).delete()
    BillingDetail.objects.bulk_create(
        [
            BillingDetail(
                appointment=appointment,
                client_id=client_id,
                service=service,
                units=Decimal("1"),
                unit_price=client_part_price(service),
                tax_percent=service.tax_rate.percent if service.tax_rate else Decimal("0"),
            )
            for client_id in client_ids
            for service in billable
            if (client_id, service.pk) not in existing
        ]
    )


def _assign_clinician(*, practice: Practice, actor: User, clinician: User, clients: list[Client]) -> None:
    """Make ``clinician`` one of each attendee's clinicians. A clinician sees only the
    clients assigned to them, so booking someone with them must give them that client,
    or the appointment would name a client its own clinician cannot open."""
    through = Client.clinicians.through
    assigned = set(
        through.objects.filter(user_id=clinician.pk, client_id__in=[c.pk for c in clients]).values_list(
            "client_id", flat=True
        )
    )
    missing = [c for c in clients if c.pk not in assigned]
    if not missing:
        return
    through.objects.bulk_create([through(client_id=c.pk, user_id=clinician.pk) for c in missing], ignore_conflicts=True)
    for client in missing:
        audit_write(
            practice=practice,
            actor=actor,
            action="client.clinician_assigned",
            obj=client,
            changes={"clinician": clinician.email, "reason": "booked with this clinician"},
        )


def _set_people_and_services(
    appointment: Appointment, clients: list[Client], services: list[Service], *, new: bool = False
) -> None:
    if not new:
        Attendee.objects.filter(appointment=appointment).exclude(client__in=clients).delete()
        AppointmentService.objects.filter(appointment=appointment).exclude(service__in=services).delete()
    Attendee.objects.bulk_create([Attendee(appointment=appointment, client=c) for c in clients], ignore_conflicts=True)
    AppointmentService.objects.bulk_create(
        [AppointmentService(appointment=appointment, service=s) for s in services], ignore_conflicts=True
    )
    _sync_billing_details(appointment, new=new)


def appointment_create(
    *,
    practice: Practice,
    actor: User,
    clinician: User,
    clients: list[Client],
    services: list[Service],
    start: datetime,
    duration_minutes: int,
    location: str = Appointment.Location.IN_PERSON,
    note: str = "",
    recurrence: Recurrence | None = None,
) -> list[Appointment]:
    """Create one appointment, or every occurrence of a repeating one."""
    _check_parts(
        practice=practice,
        clinician=clinician,
        clients=clients,
        services=services,
        duration_minutes=duration_minutes,
    )
    if timezone.is_naive(start):
        raise ValueError("start must be timezone-aware")
    starts = [start]
    series = None
    if recurrence is not None:
        starts = occurrence_starts(practice=practice, first_start=start, recurrence=recurrence)
    with transaction.atomic():
        if recurrence is not None:
            series = RecurringSeries.objects.create(
                practice=practice,
                rrule=recurrence.rule_text(),
                # The local wall time, labelled UTC so the database stores it unchanged
                # whatever the server's zone (a naive value would be guessed at and warned about).
                local_start=timezone.localtime(start, practice.tzinfo).replace(tzinfo=UTC),
                timezone=practice.timezone,
            )
        created = []
        for occurrence in starts:
            appointment = Appointment.objects.create(
                practice=practice,
                clinician=clinician,
                start=_utc(occurrence),
                end=_utc(occurrence) + timedelta(minutes=duration_minutes),
                location=location,
                note=note,
                series=series,
            )
            _set_people_and_services(appointment, clients, services, new=True)
            created.append(appointment)
        _assign_clinician(practice=practice, actor=actor, clinician=clinician, clients=clients)
        audit_write(
            practice=practice,
            actor=actor,
            action="appointment.created",
            obj=created[0],
            changes={"occurrences": len(created), "clients": [c.pk for c in clients]},
        )
    return created


def _later_in_series(appointment: Appointment) -> QuerySet[Appointment]:
    """The scheduled occurrences of ``appointment``'s series after it: what a "this and
    following" edit changes along with it."""
    return Appointment.objects.filter(
        series_id=appointment.series_id, start__gt=appointment.start, status=Appointment.Status.SCHEDULED
    ).order_by("start", "pk")


def _moved_start(*, edited: Appointment, target: Appointment, start: datetime, tz: tzinfo) -> datetime:
    """Where ``target`` goes when ``edited`` moves to ``start``: the edited one to ``start``,
    a later one by the same number of local days, at the new local time of day."""
    if target.pk == edited.pk:
        return _utc(start)
    new_local = timezone.localtime(start, tz)
    shift_days = new_local.date() - timezone.localtime(edited.start, tz).date()
    local_day = timezone.localtime(target.start, tz).date() + shift_days
    return _utc(datetime.combine(local_day, new_local.time().replace(tzinfo=None), tzinfo=tz))


def appointment_update_times(
    *, appointment: Appointment, start: datetime, duration_minutes: int, scope: str = "this"
) -> list[tuple[int, datetime, datetime]]:
    """(id, new start, new end) of every appointment an edit would move, without writing:
    what the overlap warning checks before the edit is saved."""
    tz = appointment.practice.tzinfo
    targets = [appointment]
    if scope == "following" and appointment.series_id:
        targets += list(_later_in_series(appointment))
    moved = []
    for target in targets:
        new_start = _moved_start(edited=appointment, target=target, start=start, tz=tz)
        moved.append((target.pk, new_start, new_start + timedelta(minutes=duration_minutes)))
    return moved


def _rule_with(rule: str, **changes: str | None) -> str:
    """``rule`` with some parts replaced (a value) or dropped (None); order kept."""
    parts = [p.split("=", 1) for p in rule.split(";") if "=" in p]
    out = []
    for key, value in parts:
        if key in changes:
            if changes[key] is not None:
                out.append(f"{key}={changes[key]}")
        else:
            out.append(f"{key}={value}")
    return ";".join(out)


def _split_series(*, edited: Appointment, moved: list[Appointment], tz: tzinfo) -> RecurringSeries:
    """Give the edited occurrence and the later ones a series of their own, starting at the
    edited occurrence's new local start with the old rule; the old series keeps the earlier
    ones. A COUNT becomes the number of occurrences each series now holds, and the old
    series' UNTIL ends at its last occurrence, so neither rule claims the other's dates."""
    if edited.series_id is None:
        raise ValueError("Only an occurrence of a series can split it.")
    old = RecurringSeries.objects.select_for_update().get(pk=edited.series_id)
    rule_parts = dict(p.split("=", 1) for p in old.rrule.split(";") if "=" in p)
    new_rule = _rule_with(old.rrule, COUNT=str(len(moved))) if "COUNT" in rule_parts else old.rrule
    series = RecurringSeries.objects.create(
        practice=old.practice,
        rrule=new_rule,
        # The local wall time labelled UTC, as appointment_create stores it.
        local_start=timezone.localtime(edited.start, tz).replace(tzinfo=UTC),
        timezone=old.timezone,
    )
    Appointment.objects.filter(pk__in=[a.pk for a in moved]).update(series=series)
    for appointment in moved:
        appointment.series = series
    kept = list(Appointment.objects.filter(series=old).order_by("start").values_list("start", flat=True))
    if not kept:
        old.delete()
        return series
    changes: dict[str, str | None] = {}
    if "COUNT" in rule_parts:
        changes["COUNT"] = str(len(kept))
    if "UNTIL" in rule_parts:
        changes["UNTIL"] = f"{timezone.localtime(kept[-1], tz):%Y%m%d}T235959"
    if changes:
        old.rrule = _rule_with(old.rrule, **changes)
        old.save(update_fields=["rrule"])
    return series


def _would_change(
    target: Appointment,
    start: datetime,
    duration_minutes: int,
    clinician: User,
    location: str,
    note: str,
    clients: list[Client],
    services: list[Service],
) -> bool:
    """Whether appointment_update would change anything on ``target``."""
    if (
        target.start != start
        or target.end != start + timedelta(minutes=duration_minutes)
        or target.clinician_id != clinician.pk
        or target.location != location
        or target.note != note
    ):
        return True
    if target.status != Appointment.Status.SCHEDULED:
        return False
    return set(target.attendees.values_list("client_id", flat=True)) != {c.pk for c in clients} or set(
        target.service_links.values_list("service_id", flat=True)
    ) != {s.pk for s in services}


def appointment_update(
    *,
    appointment: Appointment,
    actor: User,
    clinician: User,
    clients: list[Client],
    services: list[Service],
    start: datetime,
    duration_minutes: int,
    location: str,
    note: str = "",
    scope: str = "this",
) -> list[Appointment]:
    """Edit one occurrence ("this") or it and every later scheduled one of its series
    ("following"). Later occurrences keep their own dates and take the new local time
    of day, duration and the rest; "following" splits the series at the edited one."""
    practice = appointment.practice
    _check_parts(
        practice=practice,
        clinician=clinician,
        clients=clients,
        services=services,
        duration_minutes=duration_minutes,
    )
    tz = practice.tzinfo
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        # A held session keeps its facts; only its note and location may change.
        if locked.status != Appointment.Status.SCHEDULED and (
            locked.start != start
            or locked.duration_minutes != duration_minutes
            or locked.clinician_id != clinician.pk
            or set(locked.attendees.values_list("client_id", flat=True)) != {c.pk for c in clients}
            or set(locked.service_links.values_list("service_id", flat=True)) != {s.pk for s in services}
        ):
            raise ValidationError(EDIT_ONLY_SCHEDULED)
        targets = [locked]
        following = scope == "following" and locked.series_id is not None
        if following:
            targets += list(_later_in_series(locked).select_for_update().order_by("pk"))
        before = {"start": str(locked.start), "clinician": locked.clinician_id, "location": locked.location}
        new_starts = {t.pk: _moved_start(edited=locked, target=t, start=start, tz=tz) for t in targets}
        if not any(
            _would_change(t, new_starts[t.pk], duration_minutes, clinician, location, note, clients, services)
            for t in targets
        ):
            # Saved as it was: no write (not even leaving its series), no audit row.
            return targets
        for target in targets:
            target.start = new_starts[target.pk]
            target.end = target.start + timedelta(minutes=duration_minutes)
            target.clinician = clinician
            target.location = location
            target.note = note
            if scope == "this" and target.series_id and target.pk == locked.pk:
                # An occurrence edited on its own leaves the series.
                target.series = None
            target.save()
            if target.status == Appointment.Status.SCHEDULED:
                _set_people_and_services(target, clients, services)
        if following:
            _split_series(edited=locked, moved=targets, tz=tz)
        _assign_clinician(practice=practice, actor=actor, clinician=clinician, clients=clients)
        audit_write(
            practice=practice,
            actor=actor,
            action="appointment.updated",
            obj=locked,
            changes={
                "start": [before["start"], str(start)],
                "clinician": [before["clinician"], clinician.pk],
                "location": [before["location"], location],
                "occurrences": len(targets),
            },
        )
    return targets


def _lock(appointment: Appointment) -> Appointment:
    return Appointment.objects.select_for_update(of=("self",)).select_related("practice").get(pk=appointment.pk)


def billing_items_generate_for_appointment(*, appointment: Appointment, actor: User) -> list[Any]:
    """The "Generate items" action: create what is missing for the appointment, nothing twice."""
    with transaction.atomic():
        locked = _lock(appointment)
        created = hooks.billing_items_sync(appointment=locked)
        if created:
            audit_write(
                practice=locked.practice,
                actor=actor,
                action="billing_items.generated",
                obj=locked,
                changes={"items": len(created)},
            )
    return created


def appointment_mark_completed(*, appointment: Appointment, actor: User) -> list[Any]:
    with transaction.atomic():
        locked = _lock(appointment)
        if locked.status not in (Appointment.Status.SCHEDULED, Appointment.Status.COMPLETED):
            raise ValidationError(NOT_COMPLETABLE)
        if locked.start > timezone.now():
            raise ValidationError(NOT_STARTED)
        if locked.status != Appointment.Status.COMPLETED:
            locked.status = Appointment.Status.COMPLETED
            locked.completed_at = timezone.now()
            locked.save(update_fields=["status", "completed_at"])
            audit_write(practice=locked.practice, actor=actor, action="appointment.completed", obj=locked)
        return hooks.billing_items_sync(appointment=locked)


def appointment_mark_no_show(*, appointment: Appointment, actor: User) -> list[Any]:
    with transaction.atomic():
        locked = _lock(appointment)
        if locked.status not in (Appointment.Status.SCHEDULED, Appointment.Status.NO_SHOW):
            raise ValidationError("Only a scheduled appointment can be marked as a no-show.")
        if locked.start > timezone.now():
            raise ValidationError(NOT_STARTED)
        if locked.status != Appointment.Status.NO_SHOW:
            locked.status = Appointment.Status.NO_SHOW
            locked.save(update_fields=["status"])
            audit_write(practice=locked.practice, actor=actor, action="appointment.no_show", obj=locked)
        return hooks.billing_items_sync(appointment=locked)


@dataclass(frozen=True)
class Cancellation:
    """What a cancel did: whether it counted as a late cancellation, and the fee items."""

    late: bool
    fees: list[Any]  # billing's items, created through hooks.billing_items_sync


def appointment_cancel(*, appointment: Appointment, actor: User, late: bool | None = None) -> Cancellation:
    """Cancel; ``late=None`` decides from the practice's late-cancel window, ``late=True``
    is staff recording a late cancellation (a scheduled appointment only: a held session
    was not cancelled late, it happened).

    A completed appointment loses its uninvoiced items (each removal audited); one with
    invoiced items is refused: a credit invoice is the way to undo a billed session.
    """
    with transaction.atomic():
        locked = _lock(appointment)
        if locked.status in (Appointment.Status.CANCELLED, Appointment.Status.LATE_CANCELLED):
            raise ValidationError(ALREADY_CANCELLED)
        if late and locked.status != Appointment.Status.SCHEDULED:
            raise ValidationError(LATE_CANCEL_ONLY_SCHEDULED)
        # Refused if anything is invoiced; uninvoiced items go and package sessions return.
        hooks.billing_items_release(appointment=locked, actor=actor)
        if late is None:
            window = timedelta(hours=locked.practice.late_cancel_window_hours)
            late = locked.status == Appointment.Status.SCHEDULED and timezone.now() > locked.start - window
        locked.status = Appointment.Status.LATE_CANCELLED if late else Appointment.Status.CANCELLED
        locked.save(update_fields=["status"])
        audit_write(practice=locked.practice, actor=actor, action=f"appointment.{locked.status}", obj=locked)
        fees = hooks.billing_items_sync(appointment=locked)
    return Cancellation(late=late, fees=fees)


def _check_detail_figures(*, currency: str, units: Decimal, unit_price: Decimal, tax_percent: Decimal) -> None:
    # The columns (BillingDetail, BillingItem): units NUMERIC(8, 2), price NUMERIC(12, 3),
    # tax NUMERIC(7, 4), amounts NUMERIC(14, 3). A value they cannot hold exactly is refused
    # here (practice.inputs), never rounded by the database or left to fail the save.
    errors = {}
    if problem := UNITS_POSITIVE if units is None else units_problem(units):
        errors["units"] = problem
    if problem := PRICE_NEGATIVE if unit_price is None else billed_price_problem(unit_price, currency):
        errors["unit_price"] = problem
    if problem := TAX_RANGE if tax_percent is None else tax_problem(tax_percent):
        errors["tax_percent"] = problem
    if not errors and (problem := line_problem(units, unit_price, tax_percent)):
        errors["unit_price"] = problem
    if errors:
        raise ValidationError(errors)


def billing_detail_update(
    *,
    detail: BillingDetail,
    actor: User,
    units: Decimal,
    unit_price: Decimal,
    tax_percent: Decimal,
) -> BillingDetail:
    """Change what one attendee is billed; the change reaches their uninvoiced item only.

    A price of 0 bills nothing: the uninvoiced item goes (audited), as Generate items
    never creates a zero-price item, so both paths leave the same items."""
    currency = detail.appointment.practice.currency
    _check_detail_figures(currency=currency, units=units, unit_price=unit_price, tax_percent=tax_percent)
    with transaction.atomic():
        appointment = _lock(detail.appointment)
        locked = BillingDetail.objects.select_for_update().get(pk=detail.pk)
        before = {"units": locked.units, "unit_price": locked.unit_price, "tax_percent": locked.tax_percent}
        if before == {"units": units, "unit_price": unit_price, "tax_percent": tax_percent}:
            # Saved as it was: nothing to change, nothing to audit.
            return locked
        locked.units, locked.unit_price, locked.tax_percent = units, unit_price, tax_percent
        locked.save(update_fields=["units", "unit_price", "tax_percent"])
        hooks.billing_detail_changed(appointment=appointment, detail=locked, actor=actor)
        audit_write(
            practice=appointment.practice,
            actor=actor,
            action="billing_detail.changed",
            obj=appointment,
            changes={
                "client": locked.client_id,
                "service": locked.service_id,
                **{k: [str(v), str(getattr(locked, k))] for k, v in before.items() if v != getattr(locked, k)},
            },
        )
    return locked
