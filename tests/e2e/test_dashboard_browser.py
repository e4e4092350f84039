"""The dashboard in a real browser at desktop and phone widths: schedule, to-do links and
the weekly chart, with no accessibility violations and no horizontal scroll."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_accessible, sign_in
from tests.factories import ClientFactory, ServiceFactory, issued_invoice, make_appointment
from tests.factories.billing import pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1366, 375])
def test_owner_dashboard_at_desktop_and_phone_width(page: Page, tenant, console_errors, width):
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Smith")
    service = ServiceFactory(practice=practice, price=Decimal("120.00"))
    start = practice.local_now().replace(hour=9, minute=0, second=0, microsecond=0)
    make_appointment(practice, tenant.owner, tenant.clinician, [ana], [service], start=start)
    issued_invoice(practice, ana, tenant.owner, "150.00")
    pay(practice, ana, tenant.owner, "60.00")

    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, tenant.owner.email)

    schedule = page.get_by_role("region", name="Today's schedule")
    expect(schedule.get_by_test_id("schedule-row")).to_have_text(["09:00–09:50 Ana Smith Clara Test · Scheduled"])  # noqa: RUF001
    todo = page.get_by_role("region", name="To do")
    expect(todo.get_by_role("link", name="Overdue invoices")).to_have_attribute(
        "href", f"/p/{practice.slug}/billing/invoices/?status=overdue"
    )
    chart = page.get_by_role("region", name="Billed and collected, last 12 weeks")
    expect(chart.locator("rect.dash-bar")).to_have_count(24)
    # The figures are a table for screen readers (its caption names it), hidden from sight.
    table = page.get_by_role("table", name="Billed and collected per week, last 12 weeks")
    expect(table.get_by_role("row")).to_have_count(13)
    expect(table.get_by_role("row").last).to_contain_text("$150.00")
    expect(table.get_by_role("row").last).to_contain_text("$60.00")
    box = chart.locator("svg.dash-bars").bounding_box()
    assert box is not None and box["width"] > 300

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the dashboard is {scroll_width}px wide at {width}px"
    assert_accessible(page, "dashboard")
    assert [e for e in console_errors if "favicon" not in e] == []
