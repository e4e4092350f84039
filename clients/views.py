"""Clients pages: the list and a client's record (Overview, Appointments, Billing,
Settings), plus the payer forms. Views parse, call a selector or a service, render.

Every page that shows a client record writes a ``client.viewed`` audit row; the list
shows names and contact details only and is not audited row by row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from practice.access import BILLING_ROLES, forbidden
from practice.actor import Actor
from practice.audit import client_ip
from practice.csv_export import CHUNK, csv_money, csv_response, csv_text, wants_csv
from practice.forms import apply_service_errors
from practice.paging import CappedPaginator
from practice.types import PracticeRequest

from . import hooks, portal_signin, selectors, services
from .forms import ClientFilterForm, ClientForm, PayerForm
from .models import Client

PAGE_SIZE = 25
CLIENT_CREATED = "Client added."
CLIENT_SAVED = "Client details saved."
CLIENT_ARCHIVED = "Client archived. They no longer appear in the active list."
CLIENT_UNARCHIVED = "Client restored to the active list."
PAYER_SAVED = "Payer details saved."
PAYER_LINKED = "Payer linked. Invoices for this client now go to the payer."
PAYER_SHARED = (
    "This payer also pays for clients of other clinicians, so only the owner, an admin or a biller "
    "can change their details."
)
PAYER_UNLINKED = "Payer removed. Invoices for this client now go to the client."
PORTAL_INVITED = "Portal invitation sent to {email}. The link in it signs them in once, within 7 days."
PORTAL_REVOKED = "Portal access turned off. They can no longer sign in to the client portal."

TABS = [
    ("overview", "Overview", "clients:detail"),
    ("appointments", "Appointments", "clients:appointments"),
    ("billing", "Billing", "clients:billing"),
    ("settings", "Settings", "clients:settings"),
]


def _actor(request: PracticeRequest) -> Actor:
    """The signed-in user and their address, which every audit row of a client keeps."""
    return Actor.of_user(request.user, address=client_ip(request))


def _client(request: PracticeRequest, client_id: int) -> Client:
    return selectors.client_get_for_practice(request.practice, request.membership, client_id)


def _render_record(
    request: PracticeRequest, client: Client, tab: str, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    services.client_record_viewed(client=client, actor=_actor(request), section=tab)
    base = {
        "client": client,
        "tab": tab,
        "tabs": TABS,
        "actions": hooks.record_actions(request, client),
        **hooks.record_header_context(request, client),
    }
    return render(request, template, {**base, **context}, status=status)


def _list_sort(raw: str) -> tuple[str, list[Any]]:
    """The list's order from ``?sort=``: "name" or a sortable column's key, "-" in front for
    descending. Anything else is the default (name, A to Z). Ties break by name, then id."""
    key = raw.removeprefix("-")
    descending = raw.startswith("-")
    by_name = ["last_name", "first_name", "pk"]
    if key == "name":
        return raw, [f"-{f}" for f in by_name] if descending else by_name
    if key in {c.key for c in hooks.list_columns() if c.sortable}:
        column = F(key).desc(nulls_last=True) if descending else F(key).asc(nulls_first=True)
        return raw, [column, *by_name]
    return "name", by_name


def client_list(request: PracticeRequest) -> HttpResponse | StreamingHttpResponse:
    practice, membership = request.practice, request.membership
    form = ClientFilterForm(request.GET, practice=practice, show_clinician=membership.sees_all_clients)
    filters = form.filters()
    sort, order = _list_sort(request.GET.get("sort", ""))
    clients = hooks.list_annotate(practice, selectors.client_list(practice, membership, **filters)).order_by(*order)
    if wants_csv(request):
        return _list_csv(request, clients)
    page = CappedPaginator(clients, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "filters": filters, "sort": sort, "columns": hooks.list_columns()}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "clients/_list_results.html", context)
    return render(request, "clients/list.html", context)


def _list_csv(request: PracticeRequest, clients: QuerySet[Client]) -> StreamingHttpResponse:
    """The filtered, sorted list as a CSV file, every row (not one page)."""
    practice = request.practice
    columns = hooks.list_columns()
    header = ["Name", "First name", "Last name", "Email", "Phone", "Clinicians", "Payer", "Status"]

    def rows() -> Iterator[list[str]]:
        for c in clients.iterator(chunk_size=CHUNK):
            payer = f"{c.payer.first_name} {c.payer.last_name}" if c.payer else ""
            clinicians = ", ".join(u.get_full_name() for u in c.clinicians.all())
            texts = [c.display_name, c.first_name, c.last_name, c.email, c.phone, clinicians, payer]
            yield [
                *(csv_text(t) for t in texts),
                str(c.get_status_display()),
                *(csv_money(practice, getattr(c, col.key, None)) for col in columns),
            ]

    filename = f"clients-{practice.local_today():%Y-%m-%d}.csv"
    return csv_response(filename, [*header, *(col.label for col in columns)], rows())


def client_new(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    form = ClientForm(request.POST or None, practice=practice, membership=request.membership)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                practice=practice,
                actor=_actor(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, CLIENT_CREATED)
            return redirect("clients:detail", practice_slug=practice.slug, client_id=client.pk)
    return render(request, "clients/new.html", {"form": form}, status=400 if form.errors else 200)


def client_detail(request: PracticeRequest, client_id: int) -> HttpResponse:
    practice, membership = request.practice, request.membership
    client = _client(request, client_id)
    context = {
        "household": selectors.household(practice, membership, client),
        "can_edit_payer": client.payer is not None and selectors.payer_editable_by(practice, membership, client.payer),
        **hooks.record_tab_context("overview", request, client),
    }
    return _render_record(request, client, "overview", "clients/detail_overview.html", context)


def client_appointments(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    context = hooks.record_tab_context("appointments", request, client)
    return _render_record(request, client, "appointments", "clients/detail_appointments.html", context)


def client_billing(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    context = hooks.record_tab_context("billing", request, client)
    return _render_record(request, client, "billing", "clients/detail_billing.html", context)


def client_settings(request: PracticeRequest, client_id: int) -> HttpResponse:
    practice = request.practice
    client = _client(request, client_id)
    form = ClientForm(
        request.POST or None,
        practice=practice,
        membership=request.membership,
        initial=ClientForm.initial_for(client),
        with_reminders=request.membership.role in BILLING_ROLES,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(client=client, actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, CLIENT_SAVED)
            return redirect("clients:settings", practice_slug=practice.slug, client_id=client.pk)
    return _render_record(
        request,
        client,
        "settings",
        "clients/detail_settings.html",
        {
            "form": form,
            "portal_access": selectors.portal_access_for(client),
            "settings_panels": hooks.settings_panels(request, client),
        },
        status=400 if form.errors else 200,
    )


@require_POST
def client_portal_invite(request: PracticeRequest, client_id: int) -> HttpResponse:
    """Send a Portal invitation (turning portal access on): an email with a sign-in link."""
    client = _client(request, client_id)
    try:
        link = portal_signin.portal_invitation_send(client=client, actor=_actor(request))
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, PORTAL_INVITED.format(email=link.email))
    return redirect("clients:settings", practice_slug=request.practice.slug, client_id=client.pk)


@require_POST
def client_portal_revoke(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    portal_signin.portal_access_revoke(client=client, actor=_actor(request))
    messages.success(request, PORTAL_REVOKED)
    return redirect("clients:settings", practice_slug=request.practice.slug, client_id=client.pk)


@require_POST
def client_archive(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    try:
        services.client_archive(client=client, actor=_actor(request))
        messages.success(request, CLIENT_ARCHIVED)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("clients:settings", practice_slug=request.practice.slug, client_id=client.pk)


@require_POST
def client_unarchive(request: PracticeRequest, client_id: int) -> HttpResponse:
    client = _client(request, client_id)
    try:
        services.client_unarchive(client=client, actor=_actor(request))
        messages.success(request, CLIENT_UNARCHIVED)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("clients:settings", practice_slug=request.practice.slug, client_id=client.pk)


def payer_new(request: PracticeRequest, client_id: int) -> HttpResponse:
    """Add a new payer for this client, or link a payer the practice already has."""
    practice = request.practice
    client = _client(request, client_id)
    linking = request.method == "POST" and request.POST.get("action") == "link"
    form = PayerForm(request.POST if request.method == "POST" and not linking else None)
    if linking:
        raw = request.POST.get("payer", "")
        payer = selectors.payer_get_for_practice(practice, request.membership, raw) if raw else None
        services.client_set_payer(client=client, actor=_actor(request), payer=payer)
        messages.success(request, PAYER_LINKED if payer else PAYER_UNLINKED)
        return redirect("clients:detail", practice_slug=practice.slug, client_id=client.pk)
    if request.method == "POST" and form.is_valid():
        try:
            services.payer_create(
                practice=practice,
                actor=_actor(request),
                clients=[client],
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, PAYER_LINKED)
            return redirect("clients:detail", practice_slug=practice.slug, client_id=client.pk)
    context = {"form": form, "payers": selectors.payers_for_practice(practice, request.membership)}
    return _render_record(
        request, client, "settings", "clients/payer_form.html", context, status=400 if form.errors else 200
    )


def payer_edit(request: PracticeRequest, client_id: int) -> HttpResponse:
    """Edit the payer of this client; the change applies to every client they pay for."""
    practice = request.practice
    client = _client(request, client_id)
    if client.payer is None:
        raise Http404("This client has no payer.")
    payer = client.payer
    if not selectors.payer_editable_by(practice, request.membership, payer):
        # The clinician sees this payer on their own client's record, so a 404 would be a lie;
        # a 403 says who may make the change.
        return forbidden(request, BILLING_ROLES, message=PAYER_SHARED)
    form = PayerForm(request.POST or None, initial=PayerForm.initial_for(payer))
    if request.method == "POST" and form.is_valid():
        try:
            services.payer_update(payer=payer, actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, PAYER_SAVED)
            return redirect("clients:detail", practice_slug=practice.slug, client_id=client.pk)
    context = {"form": form, "payer": payer, "paying_for": selectors.payer_client_count(practice, payer)}
    return _render_record(
        request, client, "settings", "clients/payer_form.html", context, status=400 if form.errors else 200
    )
