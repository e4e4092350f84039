"""Booking from an empty slot of the week grid with the type-ahead pickers, then completing
the session from the side panel without leaving the calendar: on a laptop and on a phone,
in a real browser under the strict CSP. Saves a screenshot of the week at each width."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.helpers import assert_accessible, pick, sign_in
from tests.factories import ClientFactory, ServiceFactory, make_appointment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What keeps an appointment's time and client name from being read in its block: a line
# cut off below the block's bottom edge, or text squeezed to nothing by the ellipsis.
NAME_SHOWS = """(appt) => {
  const box = appt.getBoundingClientRect();
  return [...appt.querySelectorAll('.appt-time, .appt-title')].flatMap(el => {
    const r = el.getBoundingClientRect();
    const problems = [];
    if (r.bottom > box.bottom + 0.5 || r.top < box.top - 0.5) problems.push(el.className + ' outside the block');
    const size = Math.round(r.width) + 'x' + Math.round(r.height);
    if (r.width < 40 || r.height < 10) problems.push(el.className + ' ' + size);
    return problems;
  });
}"""


@pytest.mark.parametrize("width", [1366, 375])
def test_book_from_an_empty_slot_and_complete_from_the_side_panel(page: Page, console_errors, tenant, width):
    practice = tenant.practice
    ada = ClientFactory(practice=practice, first_name="Ada", last_name="Lovelace")
    ada.clinicians.add(tenant.clinician)
    ServiceFactory(practice=practice, name="Individual therapy", price=Decimal("120.00"))
    yesterday = practice.local_today() - timedelta(days=1)
    # A colleague's earlier session, so the week shows more than the one booked here
    bo = ClientFactory(practice=practice, first_name="Bo", last_name="Chen")
    make_appointment(
        practice,
        tenant.owner,
        tenant.clinician,
        [bo],
        list(practice.services.all()),
        practice.local_now().replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1),
    )
    page.set_viewport_size({"width": width, "height": 800 if width > 400 else 740})

    # Given a clinician on the week of yesterday
    sign_in(page, tenant.clinician.email)
    page.goto(f"/p/{practice.slug}/calendar/?date={yesterday.isoformat()}")
    expect(page.get_by_test_id("time-grid")).to_be_visible()
    assert_accessible(page, "calendar week")

    # When they choose the empty 11:00 slot of yesterday
    day = page.locator(f'[data-testid="calendar-day"][data-date="{yesterday.isoformat()}"]')
    day.locator('[data-testid="empty-slot"][data-time="11:00"]').click()

    # Then the booking form has that date and time, and them as the clinician
    expect(page.get_by_label("Date")).to_have_value(yesterday.isoformat())
    expect(page.get_by_label("Start time")).to_have_value("11:00")
    expect(page.locator("#id_clinician")).to_have_value(str(tenant.clinician.pk))
    assert_accessible(page, "booking form from an empty slot")

    # When they type to pick the client and the service, and save
    pick(page, "Clients", "Ada", "Ada Lovelace")
    pick(page, "Services", "indiv", "Individual therapy")
    page.get_by_role("button", name="Save appointment").click()

    # Then the calendar shows the new appointment highlighted, at 11:00 AM for 50 minutes
    expect(page.get_by_text("Appointment booked.")).to_be_visible()
    entry = page.locator(".appt.is-new")
    expect(entry).to_contain_text("Ada Lovelace")
    expect(entry.get_by_test_id("appointment-time")).to_have_text("11:00 AM–11:50 AM")  # noqa: RUF001
    # ... with the client's name readable inside the 50-minute block, under its time
    assert entry.evaluate(NAME_SHOWS) == [], f"name hidden at {width} px"

    # When they open it: the side panel takes focus
    entry.click()
    flyout = page.get_by_test_id("flyout")
    expect(flyout.get_by_test_id("appointment-status")).to_have_text("Scheduled")
    expect(flyout.locator(".detail-title")).to_be_focused()
    expect(flyout).to_be_in_viewport()
    assert entry.evaluate(NAME_SHOWS) == [], f"name hidden beside the side panel at {width} px"
    assert_accessible(page, "calendar with the side panel open")

    # When they mark it completed from the panel
    flyout.get_by_role("button", name="Mark completed").click()

    # Then the panel updates in place, still on the calendar, and the calendar follows
    expect(flyout.get_by_test_id("panel-message")).to_have_text("Marked completed. 1 billing item(s) created.")
    expect(flyout.get_by_test_id("appointment-status")).to_have_text("Completed")
    expect(page).to_have_url(f"{page.url.split('/calendar/')[0]}/calendar/{page.url.split('/calendar/')[1]}")
    expect(page.locator(".appt.appt-completed")).to_contain_text("Ada Lovelace")
    assert_accessible(page, "side panel after marking completed")

    # When they close the panel, focus goes back to the appointment they opened
    flyout.get_by_role("button", name="Close").click()
    expect(page.get_by_test_id("flyout")).to_have_count(0)
    expect(page.locator(".appt.appt-completed")).to_be_focused()

    # Nothing runs off the side of the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"calendar-week-{width}.png"), full_page=True)
    assert [e for e in console_errors if "favicon.ico" not in e] == []


def test_arrow_keys_move_between_days_and_enter_opens(page: Page, tenant):
    practice = tenant.practice
    sign_in(page, tenant.owner.email)
    page.goto(f"/p/{practice.slug}/calendar/?date=2026-03-11")

    page.locator('[data-date="2026-03-11"] [data-time="10:00"]').focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator('[data-date="2026-03-12"] [data-time="10:00"]')).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator('[data-date="2026-03-12"] [data-time="10:30"]')).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.get_by_label("Start time")).to_have_value("10:30")
    expect(page.get_by_label("Date")).to_have_value("2026-03-12")
