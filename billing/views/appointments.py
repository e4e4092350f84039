"""Billing actions of the appointment page: Create invoice (or & add payment) for its
attendees' uninvoiced items, and Bill the client for an insurance session the insurer
denied. Owners, admins and billers only; another practice's ids are the same 404 as
missing ones.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from appointments.models import Service
from clients.models import Client
from practice.access import BILLING_ROLES, require_role
from practice.types import PracticeRequest

from .. import forms, selectors, services, submission
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
        unpaid = [i for i in created if i.status == Invoice.Status.OPEN and i.balance > 0]
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
