"""The settings navigation shows a role exactly the settings pages it may open (issue 10
part 7): each app registers its pages, and who sees a link is read from the page's own
view, so the nav and the page's 403 can never disagree."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from practice import hooks
from practice.models import Role
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

NAV = re.compile(r'<nav class="subnav" aria-label="Settings">(.*?)</nav>', re.S)


def nav_links(html: str) -> list[str]:
    """The hrefs of the settings navigation on a page."""
    match = NAV.search(html)
    assert match, "the page has no settings navigation"
    return re.findall(r'href="([^"]+)"', match.group(1))


def registered_urls(practice) -> list[str]:
    return [reverse(page.url_name, kwargs={"practice_slug": practice.slug}) for page in hooks.settings_pages()]


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.BILLER, Role.CLINICIAN])
def test_the_settings_nav_shows_exactly_the_pages_the_role_may_open(tenant, role):
    client = signed_in(tenant.member(role))
    shown = nav_links(client.get(reverse("settings", kwargs={"practice_slug": tenant.practice.slug})).content.decode())

    # Every link the role sees opens for it
    assert shown
    for link in shown:
        assert client.get(link).status_code == 200, link
    # and every registered settings page it does not see refuses it.
    for link in registered_urls(tenant.practice):
        if link not in shown:
            assert client.get(link).status_code == 403, link


def test_the_owner_sees_every_settings_page_in_the_registered_order(tenant):
    page = signed_in(tenant.owner).get(reverse("settings", kwargs={"practice_slug": tenant.practice.slug}))

    assert nav_links(page.content.decode()) == registered_urls(tenant.practice)
    assert [page.label for page in hooks.settings_pages()] == [
        "Practice",
        "Staff",
        "Invoice numbering and terms",
        "Online payments",
        "Invoice template",
        "Invoice creation",
        "Invoice reminders",
        "Billing details",
        "Services",
        "Packages",
        "Security",
        "Audit log",
        "Automations",
    ]
