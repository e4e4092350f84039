"""The main navigation offers each role only the sections it can open (issue 12)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from practice.models import Role
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

MAIN_NAV = re.compile(r'<nav class="mainnav" aria-label="Main">(.*?)</nav>', re.S)
ITEM = re.compile(r"<li>(?:<a href=\"([^\"]+)\"[^>]*>|<span[^>]*>)([^<]+)<")


def main_nav(client, practice) -> list[tuple[str, str]]:
    page = client.get(reverse("dashboard", kwargs={"practice_slug": practice.slug})).content.decode()
    block = MAIN_NAV.search(page)
    assert block, "no main navigation"
    return [(label, href) for href, label in ITEM.findall(block.group(1))]


@pytest.mark.parametrize(
    ("role", "labels"),
    [
        (Role.OWNER, ["Calendar", "Clients", "Billing", "Reports", "Settings"]),
        (Role.ADMIN, ["Calendar", "Clients", "Billing", "Reports", "Settings"]),
        (Role.BILLER, ["Calendar", "Clients", "Billing", "Reports", "Settings"]),
        (Role.CLINICIAN, ["Calendar", "Clients", "Reports", "Settings"]),
    ],
)
def test_each_role_sees_the_sections_it_can_open_and_each_link_opens(tenant, role, labels):
    client = signed_in(tenant.member(role))
    items = main_nav(client, tenant.practice)

    assert [label for label, _href in items] == labels
    for label, href in items:
        if href:  # Reports is not built yet: shown, not linked
            assert client.get(href).status_code == 200, f"{role} sees {label} but cannot open it"
