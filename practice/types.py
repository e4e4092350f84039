"""Request types for views, so mypy knows what the middleware puts on the request.

``AuthenticatedRequest`` is the request of a ``login_required`` view: its user is signed in.
``PracticeRequest`` is the request of a staff view under ``/p/<practice_slug>/``:
``PracticeMiddleware`` has set ``practice`` and ``membership`` (or answered with a redirect
to sign-in or a 404), and ``HtmxMiddleware`` has set ``htmx``. These are annotations only:
at runtime every request is a plain ``HttpRequest``.
"""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from .models import Membership, Practice, User


class AuthenticatedRequest(HttpRequest):
    user: User  # narrower than HttpRequest's User | AnonymousUser: the user is signed in
    htmx: HtmxDetails


class PracticeRequest(AuthenticatedRequest):
    practice: Practice
    membership: Membership
