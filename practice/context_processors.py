from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .types import PracticeRequest

# The main navigation. A section whose pages are not built yet is shown but not linked.
NAV = [
    ("Calendar", "appointments:calendar"),
    ("Clients", "clients:list"),
    ("Billing", "billing:home"),
    ("Reports", "reports:home"),
    ("Settings", "settings"),
]

# Settings sections: (label, url name, roles allowed or None for everyone, description).
SETTINGS_NAV = [
    ("Practice", "settings_practice", ("owner",), "Name, address, timezone and session timeout."),
    ("Staff", "staff", ("owner",), "Invite staff and choose their roles."),
    ("Invoice numbering and terms", "billing:invoice_numbering", ("owner",), "Payment terms and invoice numbering."),
    ("Billing details", "billing:billing_details", ("owner", "admin"), "Currency, tax rates and no-show policy."),
    ("Services", "appointments:services", ("owner", "admin", "biller"), "Your price list."),
    ("Packages", "billing:packages", ("owner", "admin", "biller"), "Prepaid bundles of sessions."),
    ("Security", "security", None, "Your password and two-step sign-in."),
    ("Audit log", "audit_log", ("owner", "admin"), "Who changed what, and when."),
]


def _resolves(name: str) -> bool:
    try:
        reverse(name, kwargs={"practice_slug": "x"})
    except NoReverseMatch:
        return False
    return True


def shell(request: HttpRequest) -> dict[str, Any]:
    practice = getattr(request, "practice", None)
    if practice is None or not request.user.is_authenticated:
        return {}
    from .selectors import memberships_for_user

    nav = []
    for label, name in NAV:
        try:
            url = reverse(name, kwargs={"practice_slug": practice.slug})
        except NoReverseMatch:
            url = None
        nav.append({"label": label, "url": url, "active": bool(url and request.path.startswith(url))})
    # PracticeMiddleware sets practice and membership together: this is a staff page.
    role = cast(PracticeRequest, request).membership.role
    settings_nav = [
        {"label": label, "url": reverse(name, kwargs={"practice_slug": practice.slug}), "help": help_text}
        for label, name, roles, help_text in SETTINGS_NAV
        if roles is None or role in roles
        if _resolves(name)
    ]
    return {
        "settings_nav": settings_nav,
        "nav": nav,
        "my_memberships": memberships_for_user(request.user),
    }
