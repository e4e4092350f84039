"""A clinician books yesterday's session in the calendar, marks it completed from the
flyout, and finds the uninvoiced amount on the client's Billing tab, in a real browser
under the strict CSP."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, pick, sign_in
from tests.factories import ClientFactory, ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinician_books_completes_and_sees_the_uninvoiced_amount(page: Page, console_errors, tenant):
    practice = tenant.practice
    ada = ClientFactory(practice=practice, first_name="Ada", last_name="Lovelace")
    ada.clinicians.add(tenant.clinician)
    service = ServiceFactory(practice=practice, name="Individual therapy", price=Decimal("120.00"))
    yesterday = practice.local_today() - timedelta(days=1)

    # Given a clinician on their calendar
    sign_in(page, tenant.clinician.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calendar")
    assert_accessible(page, "calendar")

    # When they book a session for yesterday at 10:00 (practice time)
    page.get_by_role("link", name="New appointment").click()
    assert_accessible(page, "new appointment form")
    # The client and service lists are type-ahead pickers
    pick(page, "Clients", "Ada", "Ada Lovelace")
    pick(page, "Services", "Individual", service.name)
    page.get_by_label("Date").fill(yesterday.isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_role("button", name="Save appointment").click()

    # Then it is on the calendar at 10:00 for the service's 50 minutes
    expect(page.get_by_text("Appointment booked.")).to_be_visible()
    entry = page.get_by_test_id("appointment").filter(has_text="Ada Lovelace")
    expect(entry.get_by_test_id("appointment-time")).to_have_text("10:00 AM–10:50 AM")  # noqa: RUF001
    assert_accessible(page, "calendar with a booking")

    # When they open it (the flyout, loaded by htmx) and mark it completed
    entry.click()
    flyout = page.get_by_test_id("flyout")
    expect(flyout.get_by_test_id("billing-state")).to_have_text("No items")
    expect(flyout.get_by_role("button", name="Create invoice", exact=True)).to_be_disabled()
    assert_accessible(page, "calendar with the appointment flyout open")
    flyout.get_by_role("button", name="Mark completed").click()

    # Then the appointment is completed with an uninvoiced item
    expect(page.get_by_text("Marked completed. 1 billing item(s) created.")).to_be_visible()
    expect(page.get_by_test_id("appointment-status")).to_have_text("Completed")
    expect(page.get_by_test_id("billing-state")).to_have_text("Uninvoiced")
    assert_accessible(page, "appointment page after marking completed")

    # The appointment's own page, on a phone: titled by its h1, its billing tables as cards
    href = entry.get_attribute("href")
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(href or "")
    expect(page.get_by_role("heading", level=1)).to_contain_text("10:00 AM")
    item = page.get_by_test_id("billing-item").filter(has_text="Ada Lovelace")
    box = item.get_by_text("$120.00").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 375, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "appointment page at 375 px")
    page.set_viewport_size({"width": 1366, "height": 900})
    # The site has no favicon yet (base.html is not this test's); anything else is a failure.
    assert [e for e in console_errors if "favicon.ico" not in e] == []

    # And the client's Billing tab shows what is owed
    page.goto(f"/p/{practice.slug}/clients/{ada.pk}/billing/")
    expect(page.get_by_test_id("uninvoiced-total")).to_have_text("$120.00")
    assert_accessible(page, "client billing tab")
    expect(page).to_have_url(re.compile(rf"/clients/{ada.pk}/billing/$"))
