"""Kowhai's owner connects Stripe: Complete Stripe setup, the fake's onboarding page, and back."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from practice.demo import KOWHAI, load_demo_data
from tests.e2e.helpers import assert_accessible, sign_in
from tests.payments.conftest import _fake_stripe_server, app_on_fake, fake_stripe, webhook_receiver  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_kowhai_owner_completes_stripe_onboarding(page: Page, app_on_fake):  # noqa: F811
    load_demo_data()
    sign_in(page, "owner@kowhai.example", settings.DEMO_PASSWORD)
    page.goto(f"/p/{KOWHAI['slug']}/settings/")
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Online payments").click()

    expect(page.get_by_test_id("stripe-status")).to_contain_text("Online payments: not set up")
    expect(page.get_by_test_id("test-mode")).to_have_text("Test mode: payments go to a simulated Stripe")
    assert_accessible(page, "online payments, not set up")

    page.get_by_role("button", name="Complete Stripe setup").click()
    expect(page.get_by_role("heading", name="Set up payments with Stripe")).to_be_visible()
    assert page.url.startswith(app_on_fake.url)
    page.get_by_role("button", name="Submit without bank account").click()

    expect(page.get_by_test_id("stripe-status")).to_contain_text("Action required")
    assert_accessible(page, "online payments, action required")

    page.get_by_role("button", name="Continue setup").click()
    page.get_by_role("button", name="Submit", exact=True).click()

    expect(page.get_by_test_id("stripe-status")).to_contain_text("Stripe connected")
    expect(page.get_by_role("button", name="Continue setup")).to_have_count(0)
    assert_accessible(page, "online payments, connected")

    page.get_by_role("button", name="Open Stripe dashboard").click()
    expect(page.get_by_role("heading", name="Express dashboard")).to_be_visible()
    page.go_back()

    page.get_by_role("link", name="Disconnect").click()
    assert_accessible(page, "disconnect confirmation")
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_test_id("stripe-status")).to_contain_text("Online payments: not set up")
    assert_accessible(page, "online payments, disconnected")
