"""Every Settings page is one click away: on a laptop each tab of the settings navigation
is on the screen (a dozen take a second row); on a phone they scroll sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 1024])
def test_every_settings_tab_is_on_screen_on_a_laptop(page: Page, tenant, width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{tenant.practice.slug}/settings/")

    tabs = page.get_by_role("navigation", name="Settings").get_by_role("link")
    assert tabs.count() >= 10
    for i in range(tabs.count()):
        box = tabs.nth(i).bounding_box()
        name = tabs.nth(i).inner_text()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_accessible(page, f"settings at {width} px")
