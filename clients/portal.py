"""The client portal's session: who is signed in, and what every portal page may show them.

A portal session is a Django session with no staff user in it. It holds the email the
person proved they own (by opening a sign-in link) and, once chosen, one *portal
identity*: a client (who sees their own invoices) or a payer (who sees the invoices of
every client they pay for that has portal access). A person who is a client or payer at
two practices, or both a client and a payer at one, picks one after signing in.

Every portal view is wrapped in ``portal_required``, which refuses staff sessions (a staff
member signed in is not a client), ends idle sessions (``PORTAL_SESSION_IDLE_MINUTES``) and
sets on the request:

- ``request.practice``: the practice the identity belongs to;
- ``request.portal``: the ``PortalIdentity`` (its ``client`` or ``payer``, ``clients``, ``email``);
- ``request.client``: the client signed in; for a payer, the first client they pay for
  (by id), so code that hangs the person's own things on a client (cards, AutoPay) has one;
- ``request.payer``: the payer signed in, or None;
- ``request.portal_clients``: the clients whose records the page may show (one for a
  client, every client with portal access for a payer).

Staff pages never see a portal session as signed in (there is no user in it), and a portal
page never sees a staff session as a portal one (``portal_required`` refuses it).

Scope every portal query with ``portal_scope``; a row outside it is a 404, the same page
as a row that does not exist::

    invoice = get_object_or_404(portal_scope(request, Invoice.objects.all()), pk=invoice_id)
"""

from __future__ import annotations

import functools
import time
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from practice.models import Practice

from .models import Client, Payer

SESSION_EMAIL = "portal_email"
SESSION_IDENTITY = "portal_identity"  # "client:<id>" or "payer:<id>"
SESSION_LAST_SEEN = "portal_last_seen"
SESSION_SIGNED_IN_AT = "portal_signed_in_at"
# How many identities the email had at sign-in (the header offers Switch when more than one).
SESSION_IDENTITY_COUNT = "portal_identity_count"

PORTAL_IDLE_SIGNED_OUT = "You were signed out after a period of inactivity. Enter your email for a new sign-in link."
PORTAL_SIGNED_OUT = "You have signed out."
PORTAL_ACCESS_ENDED = "Your portal access has ended. Contact your practice if you think this is a mistake."
STAFF_NOT_PORTAL = (
    "You are signed in as a member of staff. The client portal is for clients: sign out of Practica first."
)

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponseBase)
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class PortalIdentity:
    """One way a person can use the portal: as a client, or as the payer of some clients."""

    practice: Practice
    email: str
    client: Client | None = None
    payer: Payer | None = None
    clients: tuple[Client, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"client:{self.client.pk}" if self.client is not None else f"payer:{self.payer.pk}"  # type: ignore[union-attr]

    @property
    def display_name(self) -> str:
        if self.client is not None:
            return self.client.display_name
        return str(self.payer)

    @property
    def client_ids(self) -> list[int]:
        return [c.pk for c in self.clients]


class PortalRequest(HttpRequest):
    """The request of a ``portal_required`` view (an annotation only, like practice.types)."""

    practice: Practice
    portal: PortalIdentity
    client: Client
    payer: Payer | None
    portal_clients: tuple[Client, ...]
    htmx: HtmxDetails


def _active_access() -> Q:
    return Q(status=Client.Status.ACTIVE, portal_access__isnull=False, portal_access__revoked_at__isnull=True)


def portal_identities(email: str, *, practice_id: int | None = None) -> list[PortalIdentity]:
    """Every portal identity of ``email`` (case-insensitive), optionally at one practice: its
    clients with portal access, and its payers with at least one such client."""
    email = email.strip()
    if not email:
        return []
    clients = Client.objects.filter(_active_access(), email__iexact=email).select_related("practice")
    payers = Payer.objects.filter(email__iexact=email).select_related("practice")
    if practice_id is not None:
        clients = clients.filter(practice_id=practice_id)
        payers = payers.filter(practice_id=practice_id)
    found = [PortalIdentity(practice=c.practice, email=email, client=c, clients=(c,)) for c in clients]
    for payer in payers:
        paid_for = tuple(Client.objects.filter(_active_access(), payer=payer).order_by("pk"))
        if paid_for:
            found.append(PortalIdentity(practice=payer.practice, email=email, payer=payer, clients=paid_for))
    found.sort(key=lambda identity: (identity.practice.name, identity.practice.pk, identity.key))
    return found


def portal_identity(email: str, key: str) -> PortalIdentity | None:
    """The identity ``key`` ("client:<id>" / "payer:<id>") of ``email``, if it still has access."""
    kind, _, raw_id = key.partition(":")
    if kind not in {"client", "payer"} or not raw_id.isdigit():
        return None
    pk = int(raw_id)
    if kind == "client":
        client = Client.objects.filter(_active_access(), pk=pk, email__iexact=email).select_related("practice").first()
        if client is None:
            return None
        return PortalIdentity(practice=client.practice, email=email, client=client, clients=(client,))
    payer = Payer.objects.filter(pk=pk, email__iexact=email).select_related("practice").first()
    if payer is None:
        return None
    paid_for = tuple(Client.objects.filter(_active_access(), payer=payer).select_related("practice").order_by("pk"))
    return PortalIdentity(practice=payer.practice, email=email, payer=payer, clients=paid_for) if paid_for else None


# --- The session -------------------------------------------------------------------------


def portal_session_start(request: HttpRequest, *, email: str) -> None:
    """Make ``request``'s session a portal session for ``email`` (a sign-in link was opened).

    Any staff sign-in in the same browser ends first, and the session gets a new key."""
    logout(request)  # flushes the session: a new key, nothing of a previous person
    now = time.time()
    request.session[SESSION_EMAIL] = email.strip().lower()
    request.session[SESSION_SIGNED_IN_AT] = now
    request.session[SESSION_LAST_SEEN] = now


def portal_session_choose(request: HttpRequest, identity: PortalIdentity) -> None:
    """Use ``identity`` for the rest of the session (the chooser, or the only one there is)."""
    request.session.cycle_key()
    request.session[SESSION_IDENTITY] = identity.key


def portal_session_email(request: HttpRequest) -> str | None:
    """The email a portal session was opened for (None outside one)."""
    if request.user.is_authenticated:
        return None
    email = request.session.get(SESSION_EMAIL)
    return email if isinstance(email, str) else None


def portal_session_email_changed(request: HttpRequest, email: str) -> None:
    """The signed-in person verified a new email (Profile): keep their session."""
    request.session[SESSION_EMAIL] = email.strip().lower()


def portal_session_end(request: HttpRequest) -> None:
    request.session.flush()


def portal_session_expired(request: HttpRequest) -> bool:
    """Whether the portal session has been idle too long (or lived too long); otherwise
    note that it was seen now."""
    now = time.time()
    last_seen = request.session.get(SESSION_LAST_SEEN, 0)
    signed_in_at = request.session.get(SESSION_SIGNED_IN_AT, 0)
    if now - last_seen > settings.PORTAL_SESSION_IDLE_MINUTES * 60:
        return True
    if now - signed_in_at > settings.SESSION_ABSOLUTE_LIFETIME.total_seconds():
        return True
    # Written at most every 30 seconds: a modified session is saved on every response.
    if now - last_seen > 30:
        request.session[SESSION_LAST_SEEN] = now
    return False


def _to_signin(request: HttpRequest, message: str | None = None) -> HttpResponse:
    url = reverse("portal:signin")
    if message:
        messages.info(request, message)
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def portal_refuses_staff(request: HttpRequest) -> HttpResponse:
    """The answer a staff session gets from any portal page."""
    return render(request, "portal/staff_refused.html", {"message": STAFF_NOT_PORTAL}, status=403)


def portal_required(
    view: Callable[Concatenate[PortalRequest, P], R],
) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """A portal page: a signed-in client or payer (see this module's docstring)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if request.user.is_authenticated:
            return portal_refuses_staff(request)
        email = portal_session_email(request)
        if email is None:
            return _to_signin(request)
        if portal_session_expired(request):
            portal_session_end(request)
            return _to_signin(request, PORTAL_IDLE_SIGNED_OUT)
        key = request.session.get(SESSION_IDENTITY)
        if not isinstance(key, str):
            return redirect("portal:choose")
        identity = portal_identity(email, key)
        if identity is None:
            portal_session_end(request)
            return _to_signin(request, PORTAL_ACCESS_ENDED)
        portal_request = cast(PortalRequest, request)
        portal_request.practice = identity.practice
        portal_request.portal = identity
        portal_request.client = identity.client or identity.clients[0]
        portal_request.payer = identity.payer
        portal_request.portal_clients = identity.clients
        # PracticeMiddleware deactivates it after the response.
        timezone.activate(zoneinfo.ZoneInfo(identity.practice.timezone))
        response = view(portal_request, *args, **kwargs)
        # A portal page shows someone's bills: never cached by a shared cache or kept by
        # the browser's back button after sign-out (a view may say otherwise, as the logo does).
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response

    return wrapped


def portal_scope(
    request: PortalRequest,
    queryset: QuerySet[M],
    *,
    client_field: str = "client",
    practice_field: str = "practice",
) -> QuerySet[M]:
    """``queryset`` narrowed to what the signed-in person may see: rows of their practice
    whose ``client_field`` is one of ``request.portal_clients``.

    ``client_field`` is the lookup to the row's client (``"client"``, ``"invoice__client"``);
    ``practice_field`` the lookup to its practice (pass ``""`` for a model without one, such
    as Client itself with ``client_field="pk"``). Fetch single rows through this and a
    foreign id is a 404 like a missing one."""
    filters: dict[str, Any] = {f"{client_field}__in": [c.pk for c in request.portal_clients]}
    if practice_field:
        filters[practice_field] = request.practice
    return queryset.filter(**filters)


def portal_client_ids(request: PortalRequest) -> Sequence[int]:
    return [c.pk for c in request.portal_clients]


# --- The portal's page shell (templates/portal/base.html) ---------------------------------

# The navigation: (label, URL name). Billing is the home page; its section is every portal
# page not under another item's URL (an invoice's page, paying it).
PORTAL_NAV = [
    ("Billing", "portal:home"),
    ("Payment methods", "portal:payment_methods"),
    ("AutoPay", "portal:autopay"),
    ("Documents", "portal:documents"),
    ("Profile", "portal:profile"),
]


def portal_shell(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the portal's navigation and the practice's branding (logo and
    theme colour from its invoice template, contact details for the footer), on pages of
    a signed-in portal session only."""
    identity = getattr(request, "portal", None)
    if not isinstance(identity, PortalIdentity):
        return {}
    from practice.selectors import invoice_template_for

    template = invoice_template_for(identity.practice)
    items: list[dict[str, Any]] = [
        {"key": name.partition(":")[2], "label": label, "url": reverse(name)} for label, name in PORTAL_NAV
    ]
    path = request.path
    current = next((item for item in items[1:] if path.startswith(item["url"])), items[0])
    for item in items:
        item["active"] = item is current
    practice = identity.practice
    return {
        "portal_nav": items,
        "portal_brand": {
            "name": template.issuer_name,
            "theme_colour": template.theme_colour,
            "logo_url": f"{reverse('portal:logo')}?v={int(template.updated_at.timestamp())}" if template.logo else "",
            "address": template.issuer_address,
            "phone": practice.phone,
            "email": practice.email,
        },
        "portal_identity_count": request.session.get(SESSION_IDENTITY_COUNT, 1),
    }
