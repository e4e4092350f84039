"""What billing contributes to the pages and rules of the apps below it (clients.hooks,
appointments.hooks; the dashboard's panels are in dashboard.py). Registered from
BillingConfig.ready().
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from appointments.models import Appointment, BillingDetail, Service
from clients.hooks import ListColumn, RecordAction
from clients.models import Client
from practice.access import BILLING_ROLES
from practice.models import FeePolicy
from practice.types import PracticeRequest

from . import selectors, services
from .models import BillingItem, PackageDraw
from .views.common import header_money

# --- the client record (clients.hooks) ---------------------------------------------------


def client_header_money(request: PracticeRequest, client: Client) -> dict[str, Any]:
    """The client header's Balance and Credit balance, from the ledger's account row. Read
    only when the header prints it: the Billing tab reads the same row for its own figures
    and passes them in its context instead (one query, not two)."""
    practice = request.practice

    def read() -> dict[str, str]:
        return header_money(practice, *selectors.client_header_figures(practice, client))

    return {"header_money": SimpleLazyObject(read)}


# The clients list's money columns (clients.hooks): keys are selectors.clients_with_money's.
CLIENT_LIST_COLUMNS = [
    ListColumn(key="account_balance", label="Balance", sortable=True),
    ListColumn(key="account_credit", label="Credit"),
    ListColumn(key="overdue_amount", label="Overdue", sortable=True, flag=True),
]


def client_record_actions(request: PracticeRequest, client: Client) -> list[RecordAction]:
    """New invoice, Add payment, Download statement and Send statement on the record's
    header, for the roles that may bill (a clinician would get the 403 page). Send is
    greyed, with the reason, while neither the client nor their payer has an email."""
    if request.membership.role not in BILLING_ROLES:
        return []
    kwargs = {"practice_slug": request.practice.slug}
    client_kwargs = {**kwargs, "client_id": client.pk}
    send = (
        RecordAction(label="Send statement", url=reverse("billing:client_statement_send", kwargs=client_kwargs))
        if services.statement_recipients(client)
        else RecordAction(label="Send statement", disabled=services.STATEMENT_NO_EMAIL)
    )
    return [
        RecordAction(label="New invoice", url=f"{reverse('billing:invoice_new', kwargs=kwargs)}?client={client.pk}"),
        RecordAction(label="Add payment", url=f"{reverse('billing:payment_new', kwargs=kwargs)}?client={client.pk}"),
        RecordAction(label="Download statement", url=reverse("billing:client_statement", kwargs=client_kwargs)),
        send,
    ]


def client_overview_context(request: PracticeRequest, client: Client) -> dict[str, Any]:
    return {"uninvoiced_total": selectors.uninvoiced_total(request.practice, client=client)}


def client_billing_tab_context(request: PracticeRequest, client: Client) -> dict[str, Any]:
    from .views.invoices import client_billing_context

    context = client_billing_context(request, client)
    # The tab's header tile and its panel show the same figure: read it once.
    return {"uninvoiced_total": context["billing"]["uninvoiced_total"], **context}


# --- the appointment page (appointments.hooks) -------------------------------------------


def appointment_page_billing(
    request: PracticeRequest, appointment: Appointment, attendees: list[Any]
) -> dict[str, Any]:
    """The appointment page's billing panel: its items, their state, and for billing
    staff whether to offer invoicing and which insurance sessions bill the client nothing."""
    from appointments.views import BILLING_STATE_LABELS

    membership = request.membership
    items = list(
        BillingItem.objects.filter(appointment=appointment)
        .select_related("client", "invoice", "service")
        .order_by("client__last_name", "id")
    )
    state = selectors.billing_state_from_items(items)
    return {
        "items": items,
        "uninvoiced": sum((i.amount for i in items if i.invoice_id is None), start=0),
        "billing_state": state,
        "billing_state_label": BILLING_STATE_LABELS[state],
        "can_invoice": membership.role in BILLING_ROLES and any(i.invoice_id is None for i in items),
        "items_missing": _items_missing(appointment, attendees, items),
        "insurance_unbilled": _insurance_unbilled(appointment, attendees, items)
        if membership.role in BILLING_ROLES
        else [],
    }


def _items_missing(appointment: Appointment, attendees: list[Any], items: list[BillingItem]) -> bool:
    """Whether Generate items would create something: the checks of
    billing_items_sync_for_appointment, read only. A completed session lacks an item (or a
    package draw) for a priced billing detail; a no-show or late cancellation lacks a fee
    for an attendee while the practice charges one."""
    practice = appointment.practice
    if appointment.status == Appointment.Status.COMPLETED:
        billed = {(i.client_id, i.service_id) for i in items if i.kind == BillingItem.Kind.SESSION}
        billed |= set(PackageDraw.objects.filter(appointment=appointment).values_list("client_id", "service_id"))
        priced = BillingDetail.objects.filter(appointment=appointment, unit_price__gt=0)
        return any(pair not in billed for pair in priced.values_list("client_id", "service_id"))
    if appointment.status == Appointment.Status.NO_SHOW:
        kind, policy = BillingItem.Kind.NO_SHOW_FEE, practice.no_show_policy
    elif appointment.status == Appointment.Status.LATE_CANCELLED:
        kind, policy = BillingItem.Kind.LATE_CANCEL_FEE, practice.late_cancel_policy
    else:
        return False
    charged = {i.client_id for i in items if i.kind == kind}
    return policy != FeePolicy.NONE and any(c.pk not in charged for c in attendees)


def _insurance_unbilled(appointment: Appointment, attendees: list[Any], items: list[BillingItem]) -> list[Any]:
    """(client, service) of a completed appointment's insurance sessions that bill the client
    nothing yet: what "Bill the client" (billing) can turn into an item after a denial."""
    if appointment.status != Appointment.Status.COMPLETED:
        return []
    billed = {(i.client_id, i.service_id) for i in items}
    insured = [s for s in appointment.services.order_by("name") if s.payment_type == Service.PaymentType.INSURANCE]
    return [(c, s, format(s.price.normalize(), "f")) for c in attendees for s in insured if (c.pk, s.pk) not in billed]
