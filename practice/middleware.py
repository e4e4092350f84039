"""Tenancy and session lifetime.

``PracticeMiddleware`` resolves ``/p/<practice_slug>/...`` to ``request.practice`` and
``request.membership``; a slug the user is not a member of is a 404, the same page as a
slug that does not exist. ``SessionLifetimeMiddleware`` ends idle and over-age sessions.
"""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone

from .models import Membership, User
from .types import AuthenticatedRequest, PracticeRequest

SESSION_LAST_SEEN = "practica_last_seen"
SESSION_SIGNED_IN_AT = "practica_signed_in_at"
SESSION_IDLE_MINUTES = "practica_idle_minutes"

IDLE_SIGNED_OUT = "You were signed out after a period of inactivity. Please sign in again."
LIFETIME_SIGNED_OUT = "Your session has ended. Please sign in again."


class PracticeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Outside /p/<practice_slug>/ these stay None (the shell context processor checks practice);
        # a plain HttpRequest does not declare them, PracticeRequest declares them set.
        request.practice = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            # A worker thread serves the next request too: never let one practice's
            # timezone show the next request's times.
            timezone.deactivate()

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        slug = view_kwargs.pop("practice_slug", None)
        if slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = (
            Membership.objects.select_related("practice")
            .filter(user=request.user, practice__slug=slug, is_active=True)
            .first()
        )
        if membership is None:
            raise Http404("No such practice.")
        # From here on the views see a PracticeRequest (practice/types.py).
        practice_request = cast(PracticeRequest, request)
        practice_request.practice = membership.practice
        practice_request.membership = membership
        # Times on staff pages read in the practice's own timezone ("voided 2 Dec" must be
        # the practice's 2 Dec, the same day local_today() calls today), not the server's UTC.
        timezone.activate(zoneinfo.ZoneInfo(membership.practice.timezone))
        # Set only when it changes: assigning marks the session modified, and a modified
        # session is written back (an UPDATE in its own transaction) on every page.
        if request.session.get(SESSION_IDLE_MINUTES) != membership.practice.session_idle_minutes:
            request.session[SESSION_IDLE_MINUTES] = membership.practice.session_idle_minutes
        user = request.user
        if user.last_practice_id != membership.practice_id:
            User.objects.filter(pk=user.pk).update(last_practice=membership.practice)
            user.last_practice_id = membership.practice_id
        return None


class SessionLifetimeMiddleware:
    """Sign out a staff session that has been idle too long or lived too long.

    The idle limit is the practice's setting (15 minutes by default, at most 8 hours); the
    absolute lifetime counts from sign-in and is not extended by activity.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            idle_minutes = session.get(SESSION_IDLE_MINUTES, settings.SESSION_IDLE_DEFAULT_MINUTES)
            last_seen = session.get(SESSION_LAST_SEEN, now)
            signed_in_at = session.get(SESSION_SIGNED_IN_AT, now)
            message = None
            if now - last_seen > idle_minutes * 60:
                message = IDLE_SIGNED_OUT
            elif now - signed_in_at > settings.SESSION_ABSOLUTE_LIFETIME.total_seconds():
                message = LIFETIME_SIGNED_OUT
            if message:
                logout(request)
                if cast(AuthenticatedRequest, request).htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
                else:
                    response = redirect_to_login(request.get_full_path())
                # This middleware runs before MessageMiddleware (whose place in MIDDLEWARE is
                # fixed) and answers without reaching it, so it stores the message itself.
                storage = default_storage(request)
                storage.add(messages.INFO, message)
                storage.update(response)
                return response
            # Write the timestamp at most every 30 seconds, not on every request.
            if now - session.get(SESSION_LAST_SEEN, 0) > 30:
                session[SESSION_LAST_SEEN] = now
            session.setdefault(SESSION_SIGNED_IN_AT, now)
        return self.get_response(request)
