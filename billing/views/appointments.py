"""Billing actions of the appointment page: Create invoice (or & add payment) for its
attendees' uninvoiced items, Bill the client for an insurance session the insurer
denied (owners, admins and billers only), and what one attendee is billed (its billing
detail). Another practice's ids are the same 404 as missing ones.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from appointments import selectors as appointment_selectors
from appointments.models import BillingDetail, Service
from clients.models import Client
from practice.access import (
    ALL_ROLES,
    BILLING_DETAILS_REFUSED,
    BILLING_ROLES,
    can_edit_billing_details,
    forbidden,
    require_role,
)
from practice.forms import apply_service_errors
from practice.types import PracticeRequest

from .. import forms, selectors, services, submission
from ..forms.appointments import BillingDetailForm
from ..models import Invoice
from .common import _messages_of, _money, _practice
from .invoices import _after_create, _to_payment_form

NOTHING_ON_APPOINTMENT = (
    "Nothing to invoice for this appointment: its items are already invoiced, or it has none yet "
    "(mark it completed or use Generate items)."
)
INVOICES_FROM_APPOINTMENT = "Issued {count} invoices: {numbers}."
BILLED_TO_CLIENT = "{service} is now billed to {client}: {amount}, uninvoiced."


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.created", back="appointments:detail")
def appointment_create_invoice(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    """Calendar → appointment → Create invoice (or & add payment): one issued invoice per
    attendee with uninvoiced items of this appointment."""
    practice = _practice(request)
    appointment = selectors.appointment_get_for_practice(practice, appointment_id)
    back = redirect("appointments:detail", practice_slug=practice.slug, appointment_id=appointment.pk)
    grouped = selectors.appointment_uninvoiced_by_client(practice, appointment)
    if not grouped:
        messages.error(request, NOTHING_ON_APPOINTMENT)
        return back
    clients = {c.pk: c for c in Client.objects.filter(practice=practice, pk__in=grouped.keys()).select_related("payer")}
    created: list[Invoice] = []
    for client_id, item_ids in grouped.items():
        try:
            created.append(
                services.invoice_create(
                    practice=practice,
                    client=clients[client_id],
                    actor=request.user,
                    item_ids=item_ids,
                    issue=True,
                )
            )
        except ValidationError as exc:
            for message in _messages_of(exc):
                messages.error(request, message)
    if not created:
        return back
    action = "pay" if request.POST.get("action") == "pay" else "issue"
    if len(created) == 1:
        return _after_create(request, created[0], action)
    messages.success(
        request,
        INVOICES_FROM_APPOINTMENT.format(count=len(created), numbers=", ".join(i.number or "" for i in created)),
    )
    if action == "pay":
        unpaid = [i for i in created if i.can_take_payment()]
        if unpaid:
            return _to_payment_form(request, unpaid[0])
    return back


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("billing_item.billed_to_client", back="appointments:detail")
def appointment_bill_client(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    """An insurance session the insurer denied, billed to the client at the price entered."""
    practice = request.practice
    appointment = selectors.appointment_get_for_practice(practice, appointment_id)
    back = redirect("appointments:detail", practice_slug=practice.slug, appointment_id=appointment.pk)
    form = forms.BillClientForm(request.POST, locale=practice.locale)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return back
    client = Client.objects.filter(practice=practice, pk=form.cleaned_data["client"]).first()
    service = Service.objects.filter(practice=practice, pk=form.cleaned_data["service"]).first()
    if client is None or service is None:
        raise Http404("No such client or service.")
    try:
        item = services.insurance_session_bill_client(
            appointment=appointment,
            client=client,
            service=service,
            actor=request.user,
            unit_price=form.cleaned_data["unit_price"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return back
    messages.success(
        request,
        BILLED_TO_CLIENT.format(service=service.name, client=client.display_name, amount=_money(request, item.amount)),
    )
    return back


@require_role(*ALL_ROLES)
def billing_detail_edit(request: PracticeRequest, appointment_id: int, detail_id: int) -> HttpResponse:
    """Appointment → a billing detail's Edit: what one attendee is billed for one service.
    Billing staff, and a clinician for their own sessions when the practice allows it."""
    practice = request.practice
    appointment = appointment_selectors.appointment_get_for_practice(practice, request.membership, appointment_id)
    detail = get_object_or_404(
        BillingDetail.objects.select_related("client", "service"), pk=detail_id, appointment=appointment
    )
    if not can_edit_billing_details(request.membership, clinician_id=appointment.clinician_id):
        # The session is one the clinician may see, so this is a 403 that says why, not a 404.
        return forbidden(request, BILLING_ROLES, message=BILLING_DETAILS_REFUSED)
    invoiced = selectors.billing_detail_invoiced(appointment=appointment, detail=detail)
    form = BillingDetailForm(
        request.POST or None,
        currency=practice.currency,
        locale=practice.locale,
        initial={"units": detail.units, "unit_price": detail.unit_price, "tax_percent": detail.tax_percent},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.billing_detail_update(detail=detail, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                "Billing details saved." + (f" {services.DETAIL_INVOICED_NOTE}" if invoiced else ""),
            )
            return redirect(appointment.get_absolute_url())
    context = {"form": form, "appointment": appointment, "detail": detail, "invoiced": invoiced}
    return render(request, "billing/billing_detail_form.html", context, status=400 if form.errors else 200)
