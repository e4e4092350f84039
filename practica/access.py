"""Access checks for staff views: who may open what inside a practice."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Role

OWNER_ONLY = (Role.OWNER,)
OWNER_OR_ADMIN = (Role.OWNER, Role.ADMIN)
BILLING_ROLES = (Role.OWNER, Role.ADMIN, Role.BILLER)

ROLE_REFUSED = "Your role in this practice does not allow this page."


def forbidden(request: HttpRequest, allowed: tuple[str, ...]) -> HttpResponse:
    names = ", ".join(Role(r).label.lower() for r in allowed)
    return render(
        request,
        "403.html",
        {"message": ROLE_REFUSED, "allowed_roles": names},
        status=403,
    )


def require_role(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Allow only members of ``request.practice`` whose role is one of ``roles``."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = request.membership  # type: ignore[attr-defined]
            if membership.role not in roles:
                return forbidden(request, tuple(roles))
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = tuple(roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator
