"""Keyboard use of the shell in a real browser: the practice switcher closes on Escape,
and a form with errors opens on its error summary, whose links lead to the fields."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_escape_closes_the_practice_switcher_and_returns_focus(page: Page, tenant, console_errors):
    sign_in(page, tenant.owner.email)
    switcher = page.locator("details.switcher")
    toggle = switcher.locator("summary")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(switcher).to_have_attribute("open", "")
    page.keyboard.press("Tab")  # into the menu
    expect(toggle).not_to_be_focused()

    page.keyboard.press("Escape")

    expect(switcher).not_to_have_attribute("open", "")
    expect(toggle).to_be_focused()
    assert console_errors == []


def test_a_form_error_focuses_the_summary_whose_links_reach_the_fields(page: Page, tenant, console_errors):
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{tenant.practice.slug}/settings/security/")
    page.get_by_label("Old password").fill("not-my-password")
    page.get_by_role("button", name="Change password").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    assert_accessible(page, "security page with password errors")

    summary.get_by_role("link", name="New password confirmation").first.click()
    expect(page.get_by_label("New password confirmation")).to_be_focused()
    # The form answers 400 on purpose; Chromium logs any 4xx document as a console error.
    assert [e for e in console_errors if "status of 400" not in e] == []
