from __future__ import annotations

import functools
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, resolve, reverse

from . import hooks
from .access import view_roles
from .models import Practice
from .types import PracticeRequest

# The main navigation. A section whose pages are not built yet is shown but not linked;
# a built one shows only to the roles its view lets in.
NAV = [
    ("Calendar", "appointments:calendar"),
    ("Clients", "clients:list"),
    ("Billing", "billing:home"),
    ("Reports", "reports:home"),
    ("Settings", "settings"),
]


@functools.cache
def _page_roles(urlconf: str, url_name: str) -> tuple[str, ...] | None:
    """The roles that may open the page ``url_name`` in ``urlconf`` (its view's,
    see practice.access.view_roles), or None when no URL has that name. Cached per
    URLconf: one does not change while the process runs."""
    try:
        url = reverse(url_name, urlconf=urlconf, kwargs={"practice_slug": "x"})
    except NoReverseMatch:
        return None
    # reverse() puts the script prefix in front; resolve() wants the path after it.
    path = "/" + url.removeprefix(get_script_prefix())
    return view_roles(resolve(path, urlconf=urlconf).func)


def settings_nav(practice: Practice, role: str) -> list[dict[str, str]]:
    """The settings pages ``role`` may open, as links: the registry's pages
    (practice.hooks.register_settings_page) whose own view lets the role in."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return [
        {
            "label": page.label,
            "url": reverse(page.url_name, kwargs={"practice_slug": practice.slug}),
            "help": page.help_text,
        }
        for page in hooks.settings_pages()
        if role in (_page_roles(urlconf, page.url_name) or ())
    ]


def shell(request: HttpRequest) -> dict[str, Any]:
    practice = getattr(request, "practice", None)
    if practice is None or not request.user.is_authenticated:
        return {}
    from .selectors import memberships_for_user

    # PracticeMiddleware sets practice and membership together: this is a staff page.
    role = cast(PracticeRequest, request).membership.role
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    nav = []
    for label, name in NAV:
        roles = _page_roles(urlconf, name)
        if roles is not None and role not in roles:
            continue  # a link that would only answer "your role does not allow this page"
        url = reverse(name, kwargs={"practice_slug": practice.slug}) if roles is not None else None
        nav.append({"label": label, "url": url, "active": bool(url and request.path.startswith(url))})
    return {
        "settings_nav": settings_nav(practice, role),
        "nav": nav,
        "my_memberships": memberships_for_user(request.user),
    }


def outbox(request: HttpRequest) -> dict[str, Any]:
    """Whether the footer links the development Outbox (practice.mail)."""
    from .mail import outbox_enabled

    return {"outbox_enabled": outbox_enabled()}
