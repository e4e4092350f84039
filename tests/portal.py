"""Helpers the client portal's tests share: grant portal access, and a test client (or a
browser) signed in to the portal as a client or a payer without going through the email.

The sign-in flow itself is tested in tests/clients/test_portal_signin.py; every other
portal test may start here.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client as TestClient
from django.utils import timezone

from clients.models import Client, Payer, PortalAccess
from clients.portal import portal_identities, portal_session_choose, portal_session_start
from tests.helpers import PageClient


def grant_portal(*clients: Client) -> None:
    """Give ``clients`` portal access (as a Portal invitation would)."""
    for client in clients:
        PortalAccess.objects.update_or_create(
            client=client,
            defaults={"practice_id": client.practice_id, "revoked_at": None, "granted_at": timezone.now()},
        )


class _SessionRequest:
    """Just enough of a request for clients.portal's session functions."""

    def __init__(self, session: SessionStore) -> None:
        from django.contrib.auth.models import AnonymousUser

        self.session = session
        self.user = AnonymousUser()
        self.META: dict[str, str] = {}


def portal_session_key(person: Client | Payer) -> str:
    """A saved portal session signed in as ``person`` (a client or a payer; give them
    access first with ``grant_portal``), its identity chosen. Returns the session key."""
    email = person.email
    kind = "client" if isinstance(person, Client) else "payer"
    identity = next(i for i in portal_identities(email) if i.key == f"{kind}:{person.pk}")
    session = SessionStore()
    request = _SessionRequest(session)
    portal_session_start(request, email=email)  # type: ignore[arg-type]
    portal_session_choose(request, identity)  # type: ignore[arg-type]
    session.save()
    return session.session_key or ""


def portal_signed_in(person: Client | Payer) -> TestClient:
    """A test client (PageClient: POSTs carry a submission key) signed in to the portal as
    ``person``."""
    client = PageClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = portal_session_key(person)
    return client


def portal_browser_sign_in(page, live_server_url: str, person: Client | Payer) -> None:  # type: ignore[no-untyped-def]
    """Put a portal session for ``person`` into a Playwright page's browser context."""
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": portal_session_key(person), "url": live_server_url}]
    )
