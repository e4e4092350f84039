"""Sign-in throttling on top of django-axes.

Axes locks an email *from one address* after ``AXES_FAILURE_LIMIT`` failures (the combined
username + address parameter), so a stranger guessing someone's password cannot lock the
real person out of their own browser. On top of that, one address that fails too often
across any emails (``SIGNIN_ADDRESS_FAILURE_LIMIT`` in ``SIGNIN_ADDRESS_WINDOW``) is locked
for every account: that stops one machine from spraying guesses over many accounts. The
per-address count reads axes' AccessFailureLog rows, which the database handler writes for
every failure that was not already refused by a lock.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessFailureLog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

ACCOUNT_LOCKED = (
    "Sign-in is locked for 15 minutes after 5 failed attempts. Wait, then try again, or reset your password."
)
ADDRESS_LOCKED = (
    "Too many failed sign-ins have come from your network, so sign-in from it is paused for up to an hour. "
    "Try again later."
)

# Set on the request when the per-address limit refused it, so the lockout page says which lock.
ADDRESS_LOCK_FLAG = "practica_address_locked"


def address_failures(ip_address: str | None) -> int:
    """Failed sign-ins from ``ip_address`` within the last ``SIGNIN_ADDRESS_WINDOW``."""
    if not ip_address:
        return 0
    since = timezone.now() - settings.SIGNIN_ADDRESS_WINDOW
    return AccessFailureLog.objects.filter(ip_address=ip_address, attempt_time__gte=since).count()


class SignInThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler plus the per-address limit across all accounts."""

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        if address_failures(getattr(request, "axes_ip_address", None)) >= settings.SIGNIN_ADDRESS_FAILURE_LIMIT:
            setattr(request, ADDRESS_LOCK_FLAG, True)
            return True
        return False


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The page a locked sign-in gets (AXES_LOCKOUT_CALLABLE): which lock, in words."""
    message = ADDRESS_LOCKED if getattr(request, ADDRESS_LOCK_FLAG, False) else ACCOUNT_LOCKED
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
