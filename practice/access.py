"""Access checks for staff views: who may open what inside a practice."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from .models import Membership, Role
from .types import PracticeRequest

# Any view function; the decorator hands back the same type, so a view keeps its signature.
# Any response: a page, a redirect or a streamed download (a CSV export).
ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponseBase])

OWNER_ONLY = (Role.OWNER,)
OWNER_OR_ADMIN = (Role.OWNER, Role.ADMIN)
BILLING_ROLES = (Role.OWNER, Role.ADMIN, Role.BILLER)
# Who holds and books sessions: the roles that may be an appointment's clinician.
SCHEDULING_ROLES = (Role.OWNER, Role.ADMIN, Role.CLINICIAN)
ALL_ROLES = (Role.OWNER, Role.ADMIN, Role.CLINICIAN, Role.BILLER)

ROLE_REFUSED = "Your role in this practice does not allow this page."
BILLING_DETAILS_REFUSED = (
    "Only the owner, an admin or a biller can change what a session bills. The practice can let "
    "clinicians change their own sessions in Settings > Billing details."
)


def forbidden(request: HttpRequest, allowed: tuple[str, ...], message: str = ROLE_REFUSED) -> HttpResponse:
    names = ", ".join(Role(r).label.lower() for r in allowed)
    return render(
        request,
        "403.html",
        {"message": message, "allowed_roles": names},
        status=403,
    )


def require_role(*roles: str) -> Callable[[ViewT], ViewT]:
    """Allow only members of ``request.practice`` whose role is one of ``roles``."""

    def decorator(view: ViewT) -> ViewT:
        @wraps(view)
        def wrapped(request: PracticeRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.membership.role not in roles:
                return forbidden(request, tuple(roles))
            return view(request, *args, **kwargs)

        # A function attribute mypy does not know; it records the roles for whoever inspects the view.
        wrapped.allowed_roles = tuple(roles)  # type: ignore[attr-defined]
        # wraps() keeps the name and docstring; the cast keeps the view's own signature for callers.
        return cast(ViewT, wrapped)

    return decorator


def view_roles(view: Callable[..., HttpResponse]) -> tuple[str, ...]:
    """The roles that may open ``view``: the ones its require_role names, or every role
    for a view without it (a member's own pages, such as Security)."""
    return cast(tuple[str, ...], getattr(view, "allowed_roles", ALL_ROLES))


def can_edit_billing_details(membership: Membership, *, clinician_id: int) -> bool:
    """Whether ``membership`` may change what a session of ``clinician_id`` bills (units,
    price, tax): owner, admin and biller always; a clinician only for their own sessions,
    and only when the practice allows it (Practice.clinicians_edit_billing_details)."""
    if membership.role in BILLING_ROLES:
        return True
    return (
        membership.role == Role.CLINICIAN
        and membership.practice.clinicians_edit_billing_details
        and membership.user_id == clinician_id
    )
