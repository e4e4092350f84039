"""Appointments: book, edit, open and act on a session (complete, no-show, cancel,
generate items).

Lookups by id always go through the practice, so another practice's id is the same 404
as a missing one."""

from __future__ import annotations

import contextlib
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from clients import selectors as client_selectors
from clients.models import Client
from practice.access import (
    ALL_ROLES,
    SCHEDULING_ROLES,
    can_edit_billing_details,
    require_role,
)
from practice.forms import apply_service_errors
from practice.models import FeePolicy, Practice
from practice.money import practice_money
from practice.types import PracticeRequest

from .. import calendar as cal
from .. import hooks, selectors, services
from ..forms import AppointmentForm, appointment_initial, new_appointment_initial
from ..models import Appointment, BillingDetail
from .calendar import calendar_url
from .common import render_local

SAVED = "Saved."
OVERLAP_WARNING = (
    "{clinician} already has {count} appointment(s) at this time. Check the time, or save again to book it anyway."
)
INVOICING_LATER = (
    "An invoice can be created once the appointment has uninvoiced billing items, by an owner, admin or biller."
)
CANCELLED = "Appointment cancelled. It was outside the late-cancel window, so no fee applies."
CANCELLED_HELD = "Appointment cancelled."
CANCELLED_WITHOUT_FEE = "Appointment cancelled without a fee."
LATE_CANCELLED = "Late cancellation recorded. It was within the {hours}-hour late-cancel window."
LATE_CANCELLED_NO_FEE = " The practice charges no late-cancellation fee."
LATE_CANCEL_FEE = " A late-cancellation fee of {amount} was added for {clients}."
# Why an action is missing from the appointment page: one short sentence each.
WHY_NOT_STARTED = "Mark completed and No-show appear once the session has started."
WHY_NO_ITEMS_YET = "Billing items are created once the session has been held."
WHY_NO_CANCEL_INVOICED = "It cannot be cancelled: its items are invoiced. A credit invoice undoes a billed session."
WHY_ITEMS_CREATED = "Its billing items have been created."
WHY_CANCELLED = "A cancelled appointment cannot be changed."
LATE_BY_DEFAULT = "Inside the {hours}-hour late-cancel window a cancellation counts as late unless you say so."
BILLING_STATE_LABELS = {
    "no_items": "No items",
    "uninvoiced": "Uninvoiced",
    "invoiced": "Invoiced",
    "paid": "Paid",
}


def _appointment_form_page(
    request: PracticeRequest,
    form: AppointmentForm,
    appointment: Appointment | None,
    overlaps: list | None = None,
    status: int = 200,
) -> HttpResponse:
    tz = request.practice.tzinfo
    context = {
        "form": form,
        "appointment": appointment,
        "overlaps": [(a, a.start.astimezone(tz), a.end.astimezone(tz)) for a in overlaps or []],
    }
    return render_local(request, "appointments/appointment_form.html", context, status=status)


def _planned_times(
    form: AppointmentForm, appointment: Appointment | None
) -> tuple[list[tuple[datetime, datetime]], list[int]]:
    """Every (start, end) the form would book or move, and the ids it moves: each
    occurrence of a new repeating appointment, each target of a "this and following" edit."""
    data = form.cleaned_data
    practice = form.practice
    if appointment is not None:
        moved = services.appointment_update_times(
            appointment=appointment,
            start=data["start"],
            duration_minutes=data["duration_minutes"],
            scope=data.get("scope") or "this",
        )
        return [(start, end) for _, start, end in moved], [pk for pk, _, _ in moved]
    starts = [data["start"]]
    recurrence = _recurrence(data)
    if recurrence is not None:
        # A bad rule is refused by appointment_create with its field error; check the first.
        with contextlib.suppress(ValidationError):
            starts = services.occurrence_starts(practice=practice, first_start=data["start"], recurrence=recurrence)
    length = form.end - data["start"]
    return [(s, s + length) for s in starts], []


def _overlaps_to_confirm(
    request: PracticeRequest, form: AppointmentForm, appointment: Appointment | None
) -> list[Appointment]:
    data = form.cleaned_data
    ranges, moving = _planned_times(form, appointment)
    overlaps = list(
        selectors.appointment_overlaps(
            request.practice,
            clinician=data["clinician"],
            ranges=ranges,
            exclude_ids=moving,
        ).prefetch_related("clients")[:5]
    )
    token = form.overlap_token()
    if not overlaps or data.get("confirm_overlap") == token:
        return []
    posted: QueryDict = request.POST.copy()
    posted["confirm_overlap"] = token
    form.data = posted
    return overlaps


def _recurrence(data: dict[str, Any]) -> services.Recurrence | None:
    if data.get("repeat") not in ("weekly", "monthly"):
        return None
    return services.Recurrence(
        freq=data["repeat"],
        interval=data.get("interval") or 1,
        until=data.get("until"),
        count=data.get("count"),
    )


def _slot_time(value: str) -> time | None:
    """The time of the calendar slot the booking started from ("14:30"), if readable."""
    try:
        return datetime.strptime(value, "%H:%M").time()
    except ValueError:
        return None


@require_role(*SCHEDULING_ROLES)
def appointment_new(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    membership = request.membership
    initial = new_appointment_initial(
        practice,
        request.user,
        membership.role,
        cal.parse_anchor(request.GET.get("date"), practice.local_today()),
        _slot_time(request.GET.get("time", "")),
    )
    chosen = _client_from_query(request)
    if chosen is not None:
        initial["clients"] = [chosen.pk]
    form = AppointmentForm(
        request.POST or None, initial=initial, practice=practice, viewer=request.user, role=membership.role
    )
    if request.method == "POST" and form.is_valid():
        overlaps = _overlaps_to_confirm(request, form, None)
        if overlaps:
            return _appointment_form_page(request, form, None, overlaps, status=409)
        data = form.cleaned_data
        recurrence = _recurrence(data)
        try:
            created = services.appointment_create(
                practice=practice,
                actor=request.user,
                clinician=data["clinician"],
                clients=list(data["clients"]),
                services=list(data["services"]),
                start=data["start"],
                duration_minutes=data["duration_minutes"],
                location=data["location"],
                note=data["note"],
                recurrence=recurrence,
            )
        except ValidationError as exc:
            apply_service_errors(
                form, exc, aliases={"recurrence": "until", "start": "start_time", "end": "duration_minutes"}
            )
        else:
            count = len(created)
            messages.success(request, "Appointment booked." if count == 1 else f"{count} appointments booked.")
            # The calendar highlights the new appointment (the first of a series).
            return redirect(calendar_url(practice.slug, date=data["date"].isoformat(), booked=created[0].pk))
    return _appointment_form_page(request, form, None, status=400 if form.errors else 200)


@require_role(*SCHEDULING_ROLES)
def appointment_edit(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    practice = request.practice
    membership = request.membership
    appointment = selectors.appointment_get_for_practice(practice, membership, appointment_id)
    form = AppointmentForm(
        request.POST or None,
        initial=appointment_initial(appointment, practice.tzinfo),
        practice=practice,
        viewer=request.user,
        role=membership.role,
        appointment=appointment,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        overlaps = _overlaps_to_confirm(request, form, appointment)
        if overlaps:
            return _appointment_form_page(request, form, appointment, overlaps, status=409)
        try:
            services.appointment_update(
                appointment=appointment,
                actor=request.user,
                clinician=data["clinician"],
                clients=list(data["clients"]),
                services=list(data["services"]),
                start=data["start"],
                duration_minutes=data["duration_minutes"],
                location=data["location"],
                note=data["note"],
                scope=data.get("scope") or "this",
            )
        except ValidationError as exc:
            apply_service_errors(form, exc, aliases={"start": "start_time", "end": "duration_minutes"})
        else:
            messages.success(request, "Appointment saved.")
            return redirect(appointment.get_absolute_url())
    return _appointment_form_page(request, form, appointment, status=400 if form.errors else 200)


def _detail_context(request: PracticeRequest, appointment: Appointment) -> dict[str, Any]:
    practice = request.practice
    tz = practice.tzinfo
    membership = request.membership
    details = list(
        BillingDetail.objects.filter(appointment=appointment)
        .select_related("client", "service")
        .order_by("client__last_name", "client__first_name", "service__name")
    )
    attendees = list(appointment.clients.order_by("last_name", "first_name"))
    context: dict[str, Any] = {
        "appointment": appointment,
        "local_start": appointment.start.astimezone(tz),
        "local_end": appointment.end.astimezone(tz),
        "attendees": attendees,
        "appointment_services": list(appointment.services.order_by("name")),
        "details": details,
        "can_schedule": membership.role in SCHEDULING_ROLES,
        "late_cancel_window_hours": practice.late_cancel_window_hours,
        "invoicing_note": INVOICING_LATER,
        "can_edit_billing": can_edit_billing_details(membership, clinician_id=appointment.clinician_id),
        **hooks.appointment_page_billing(request, appointment, attendees),
    }
    context.update(
        offered_actions(practice, appointment, context.get("items") or [], items_missing=context.get("items_missing"))
    )
    return context


def late_cancel_fee_label(practice: Practice) -> str:
    """What a late cancellation costs, as the button says it."""
    if practice.late_cancel_policy == FeePolicy.FLAT and practice.late_cancel_fee > 0:
        return f"fee {practice_money(practice, practice.late_cancel_fee)}"
    if practice.late_cancel_policy == FeePolicy.FULL:
        return "fee: the session's price"
    return "no fee"


def offered_actions(
    practice: Practice, appointment: Appointment, items: list[Any], *, items_missing: bool | None = None
) -> dict[str, Any]:
    """Which status actions the page offers and, for those it leaves out, why: only what
    the model and the services would accept, so no button leads to a refusal."""
    started = appointment.has_started()
    invoiced = any(getattr(i, "invoice_id", None) for i in items)
    why: list[str] = []
    can_complete = appointment.can_complete() and started
    can_no_show = appointment.can_mark_no_show() and started
    if appointment.is_cancelled:
        why.append(WHY_CANCELLED)
    elif appointment.status == Appointment.Status.SCHEDULED and not started:
        why.append(WHY_NOT_STARTED)
    can_cancel = appointment.can_cancel() and not invoiced
    if appointment.can_cancel() and invoiced:
        why.append(WHY_NO_CANCEL_INVOICED)
    # A plain cancellation and a session not yet held (scheduled, started or not) bill
    # nothing, so Generate items could only ever create nothing there; elsewhere billing
    # says whether an item (or a fee) the session bills is still missing.
    held = appointment.status not in (Appointment.Status.SCHEDULED, Appointment.Status.CANCELLED)
    can_generate = held and items_missing is not False
    if appointment.status == Appointment.Status.SCHEDULED:
        why.append(WHY_NO_ITEMS_YET)
    elif held and not can_generate and items:
        why.append(WHY_ITEMS_CREATED)
    late_by_default = can_cancel and appointment.cancel_is_late_by_default()
    return {
        "can_complete": can_complete,
        "can_no_show": can_no_show,
        "can_cancel": can_cancel,
        # Only a session that has not been held can be cancelled late.
        "can_late_cancel": can_cancel and appointment.can_late_cancel(),
        "late_by_default": late_by_default,
        "late_by_default_note": LATE_BY_DEFAULT.format(hours=practice.late_cancel_window_hours),
        "late_cancel_fee_label": late_cancel_fee_label(practice),
        "can_generate": can_generate,
        "why_missing": why,
    }


@require_role(*ALL_ROLES)
def appointment_detail(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    practice = request.practice
    appointment = selectors.appointment_get_for_practice(practice, request.membership, appointment_id)
    context = _detail_context(request, appointment)
    if _in_panel(request):
        return render_local(request, "appointments/_flyout.html", context)
    return render_local(request, "appointments/detail.html", context)


def _in_panel(request: PracticeRequest) -> bool:
    return bool(request.htmx and request.htmx.target == "flyout")


def _outcome(request: PracticeRequest, appointment: Appointment, *, ok: bool, text: str) -> HttpResponse:
    """After an action: from the calendar's side panel, the panel again with the outcome in
    it (and the calendar told to refresh); from the appointment page, back to it."""
    if not _in_panel(request):
        (messages.success if ok else messages.error)(request, text)
        return redirect(appointment.get_absolute_url())
    appointment.refresh_from_db()
    context = {**_detail_context(request, appointment), "panel_message": text, "panel_ok": ok}
    response = render_local(request, "appointments/_flyout.html", context)
    response["HX-Trigger"] = "calendar-changed"
    return response


def _action(request: PracticeRequest, appointment_id: int, run: Any, done: str) -> HttpResponse:
    practice = request.practice
    appointment = selectors.appointment_get_for_practice(practice, request.membership, appointment_id)
    try:
        result = run(appointment)
    except ValidationError as exc:
        return _outcome(request, appointment, ok=False, text=" ".join(exc.messages))
    return _outcome(request, appointment, ok=True, text=done.format(n=len(result) if isinstance(result, list) else 0))


def _items_message(verb: str) -> str:
    return verb + " {n} billing item(s) created."


@require_POST
@require_role(*SCHEDULING_ROLES)
def appointment_complete(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    return _action(
        request,
        appointment_id,
        lambda a: services.appointment_mark_completed(appointment=a, actor=request.user),
        _items_message("Marked completed."),
    )


@require_POST
@require_role(*SCHEDULING_ROLES)
def appointment_no_show(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    return _action(
        request,
        appointment_id,
        lambda a: services.appointment_mark_no_show(appointment=a, actor=request.user),
        _items_message("Marked as a no-show."),
    )


def _cancel_message(practice: Practice, held: bool, outcome: services.Cancellation, *, chose_no_fee: bool) -> str:
    if not outcome.late:
        if held:
            return CANCELLED_HELD
        return CANCELLED_WITHOUT_FEE if chose_no_fee else CANCELLED
    message = LATE_CANCELLED.format(hours=practice.late_cancel_window_hours)
    if not outcome.fees:
        return message + LATE_CANCELLED_NO_FEE
    amounts = {fee.amount for fee in outcome.fees}
    names = ", ".join(sorted(fee.client.display_name for fee in outcome.fees))
    amount = practice_money(practice, amounts.pop()) if len(amounts) == 1 else "varying amounts"
    return message + LATE_CANCEL_FEE.format(amount=amount, clients=names)


@require_POST
@require_role(*SCHEDULING_ROLES)
def appointment_cancel(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    """ "Cancel" posts no ``late``: the practice's late-cancel window decides. "Late cancel"
    posts late=1, staff recording a late cancellation of a scheduled appointment."""
    practice = request.practice
    appointment = selectors.appointment_get_for_practice(practice, request.membership, appointment_id)
    # late=1 and late=0 are the explicit "Late cancel" and "Cancel without fee"; none
    # lets the practice's window decide.
    late = {"1": True, "0": False}.get(request.POST.get("late", ""))
    held = appointment.status != Appointment.Status.SCHEDULED
    try:
        outcome = services.appointment_cancel(appointment=appointment, actor=request.user, late=late)
    except ValidationError as exc:
        return _outcome(request, appointment, ok=False, text=" ".join(exc.messages))
    text = _cancel_message(practice, held, outcome, chose_no_fee=late is False)
    return _outcome(request, appointment, ok=True, text=text)


@require_POST
@require_role(*ALL_ROLES)
def appointment_generate_items(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    return _action(
        request,
        appointment_id,
        lambda a: services.billing_items_generate_for_appointment(appointment=a, actor=request.user),
        "{n} missing billing item(s) created.",
    )


def _client_from_query(request: PracticeRequest) -> Client | None:
    """The client of ``?client=`` (Book on a client record), if the viewer may see them;
    anything else (another practice's id, a client not assigned, not a number) is ignored
    and the form opens with no client chosen."""
    raw = request.GET.get("client", "")
    if not raw.isascii() or not raw.isdigit():
        return None
    return client_selectors.clients_visible(request.practice, request.membership).filter(pk=int(raw)).first()
