"""Appointments: booking, editing (one occurrence or this and following) and the status
changes that bill a session (completed, no-show, cancelled), with the billing details
kept in step with the people and services booked.

Lock order (practice -> client -> invoice -> payment attempt, see billing.locks): here an
appointment row is locked first, then its billing items; no code locks them the other way.
Completing, generating and cancelling all take the appointment's row lock, so two staff
pressing "Mark completed" at once produce one set of items; the partial unique indexes on
BillingItem are the last line behind that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import Client
from practice.audit import audit_write
from practice.models import Membership, Practice, User
from practice.money import quantize

from .. import hooks
from ..models import Appointment, AppointmentService, Attendee, BillingDetail, RecurringSeries, Service
from .recurrence import Recurrence, later_in_series, occurrence_starts, split_series

NOT_STARTED = "This appointment has not started yet, so it cannot be completed or billed."
CANCEL_INVOICED = "This appointment has invoiced items. Issue a credit invoice for them instead of cancelling."
DURATION_POSITIVE = "The duration must be at least 1 minute."
NEEDS_CLIENT = "Choose at least one client."
NEEDS_SERVICE = "Choose at least one service."
CLINICIAN_NOT_MEMBER = "Choose a clinician of this practice."
WRONG_PRACTICE = "That choice does not belong to this practice."
EDIT_ONLY_SCHEDULED = "Only a scheduled appointment can change its time, people or services."


def _utc(moment: datetime) -> datetime:
    """The same instant in UTC. Adding a duration to a zoneinfo datetime adds wall-clock
    time, so a session across a DST change would be an hour long or short; in UTC the
    duration is elapsed time. A local time in the spring-forward gap becomes the instant
    it names under the earlier offset, which is what zoneinfo's fold=0 means."""
    return moment.astimezone(UTC)


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
        targets += list(later_in_series(appointment))
    moved = []
    for target in targets:
        new_start = _moved_start(edited=appointment, target=target, start=start, tz=tz)
        moved.append((target.pk, new_start, new_start + timedelta(minutes=duration_minutes)))
    return moved


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
            targets += list(later_in_series(locked).select_for_update().order_by("pk"))
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
            split_series(edited=locked, moved=targets, tz=tz)
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


def lock_appointment(appointment: Appointment) -> Appointment:
    """The appointment's row lock, taken first (see the lock order above)."""
    return Appointment.objects.select_for_update(of=("self",)).select_related("practice").get(pk=appointment.pk)


def billing_items_generate_for_appointment(*, appointment: Appointment, actor: User) -> list[Any]:
    """The "Generate items" action: create what is missing for the appointment, nothing twice."""
    with transaction.atomic():
        locked = lock_appointment(appointment)
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
        locked = lock_appointment(appointment)
        if refusal := locked.complete_refusal():
            raise ValidationError(refusal)
        if locked.start > timezone.now():
            raise ValidationError(NOT_STARTED)
        if locked.can_complete():
            locked.mark_completed()
            locked.save(update_fields=["status", "completed_at"])
            audit_write(practice=locked.practice, actor=actor, action="appointment.completed", obj=locked)
        return hooks.billing_items_sync(appointment=locked)


def appointment_mark_no_show(*, appointment: Appointment, actor: User) -> list[Any]:
    with transaction.atomic():
        locked = lock_appointment(appointment)
        if refusal := locked.no_show_refusal():
            raise ValidationError(refusal)
        if locked.start > timezone.now():
            raise ValidationError(NOT_STARTED)
        if locked.can_mark_no_show():
            locked.mark_no_show()
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
        locked = lock_appointment(appointment)
        if refusal := locked.cancel_refusal(late=late):
            raise ValidationError(refusal)
        # Refused if anything is invoiced; uninvoiced items go and package sessions return.
        hooks.billing_items_release(appointment=locked, actor=actor)
        if late is None:
            late = locked.cancel_is_late_by_default()
        locked.mark_cancelled(late=late)
        locked.save(update_fields=["status"])
        audit_write(practice=locked.practice, actor=actor, action=f"appointment.{locked.status}", obj=locked)
        fees = hooks.billing_items_sync(appointment=locked)
    return Cancellation(late=late, fees=fees)
