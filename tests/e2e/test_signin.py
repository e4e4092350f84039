"""Staff sign-in in a real browser: the shell a signed-in owner sees, sign-out, a wrong
password, a phone-width page and a clean console under the strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from practice.forms import SIGN_IN_FAILED
from tests.e2e.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAV = ["Calendar", "Clients", "Billing", "Reports", "Settings"]


def test_owner_signs_in_sees_practice_and_nav_then_signs_out(page: Page, tenant):
    sign_in(page, tenant.owner.email)

    expect(page.get_by_test_id("practice-name")).to_have_text("Harbour Street Therapy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Street Therapy")
    expect(page.get_by_role("navigation", name="Main").get_by_role("listitem")).to_have_text(NAV)
    assert_accessible(page, "dashboard")

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/signin/$"))
    expect(page.get_by_role("heading", name="Sign in to Practica")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert_accessible(page, "sign-in page after sign-out")
    # Signed out for real: the dashboard now sends the browser back to sign-in.
    page.goto(f"/p/{tenant.practice.slug}/")
    expect(page.get_by_role("heading", name="Sign in to Practica")).to_be_visible()


def test_wrong_password_shows_the_generic_error(page: Page, tenant):
    sign_in(page, tenant.owner.email, password="not-the-password")

    expect(page.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)
    expect(page.get_by_role("heading", name="Sign in to Practica")).to_be_visible()
    expect(page.get_by_test_id("practice-name")).to_have_count(0)
    assert_accessible(page, "sign-in page with an error")


@pytest.mark.parametrize(
    "path",
    [
        "/p/{slug}/",
        # A wide table inside a scrolling card once made this whole page 560px wide.
        "/p/{slug}/settings/staff/",
    ],
)
def test_no_horizontal_scroll_at_375px(page: Page, tenant, path):
    page.set_viewport_size({"width": 375, "height": 812})
    sign_in(page, tenant.owner.email)
    expect(page.get_by_test_id("practice-name")).to_be_visible()
    page.goto(path.format(slug=tenant.practice.slug))
    expect(page.get_by_role("navigation", name="Main").get_by_text("Settings")).to_be_in_viewport()

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375, f"{path} is {scroll_width}px wide at a 375px viewport"
    assert_accessible(page, path)


def test_pages_load_without_console_errors_or_csp_violations(page: Page, console_errors, tenant):
    page.goto("/signin/")
    sign_in(page, tenant.owner.email)
    expect(page.get_by_test_id("practice-name")).to_be_visible()
    page.wait_for_load_state("networkidle")

    # htmx comes from our own /static/, not a CDN, and ran under the CSP.
    assert page.evaluate("typeof window.htmx") == "object"
    htmx_src = page.locator("script[src*='htmx']").get_attribute("src")
    assert htmx_src is not None and htmx_src.startswith("/static/")
    assert_accessible(page, "dashboard")
    assert console_errors == []
