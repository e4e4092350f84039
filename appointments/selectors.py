"""Reads about appointments, shared by views. Each takes the practice first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import Http404

from clients.models import Client
from practice.models import Membership, Practice, User

from .models import Appointment

ACTIVE_STATUSES = (
    Appointment.Status.SCHEDULED,
    Appointment.Status.COMPLETED,
    Appointment.Status.NO_SHOW,
)


def appointment_get_for_practice(practice: Practice, membership: Membership, appointment_id: int) -> Appointment:
    """The appointment, or a 404 for another practice's or another clinician's one."""
    qs = Appointment.objects.filter(practice=practice).select_related("practice", "clinician", "series")
    if not membership.sees_all_clients:
        qs = qs.filter(clinician_id=membership.user_id)
    appointment = qs.filter(pk=appointment_id).first()
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


def appointment_overlaps(
    practice: Practice,
    *,
    clinician: User,
    ranges: Iterable[tuple[datetime, datetime]],
    exclude_ids: Iterable[int] = (),
) -> QuerySet[Appointment]:
    """The clinician's other live appointments that share any minute with any of the
    [start, end) ranges: one query, the ranges OR-ed, however many occurrences there are."""
    overlapping = Q()
    for start, end in ranges:
        overlapping |= Q(start__lt=end, end__gt=start)
    if not overlapping:
        return Appointment.objects.none()
    return (
        Appointment.objects.filter(overlapping, practice=practice, clinician=clinician, status__in=ACTIVE_STATUSES)
        .exclude(pk__in=list(exclude_ids))
        .order_by("start")
    )


def client_appointments(practice: Practice, membership: Membership, client: Client) -> QuerySet[Appointment]:
    """The client's appointments (as an attendee, group sessions included), newest first.
    A clinician sees only their own sessions with the client, not their colleagues'."""
    appointments = Appointment.objects.filter(practice=practice, attendees__client=client)
    if not membership.sees_all_clients:
        appointments = appointments.filter(clinician_id=membership.user_id)
    return appointments.select_related("clinician").prefetch_related("services").order_by("-start", "-id")
