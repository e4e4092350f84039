"""Two-step sign-in set-up in a real browser: the QR code is an image Chromium draws."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_set_up_shows_a_qr_code_the_browser_can_draw(page: Page, tenant, console_errors):
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{tenant.practice.slug}/settings/security/")
    assert_accessible(page, "security settings")

    page.get_by_role("button", name="Set up two-step sign-in").click()

    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    qr.evaluate("img => img.decode()")  # rejects when the image cannot be decoded
    natural = qr.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural[0] > 100 and natural[0] == natural[1], natural
    expect(page.get_by_test_id("totp-secret")).not_to_be_empty()
    assert_accessible(page, "two-step sign-in set-up")
    assert console_errors == []
