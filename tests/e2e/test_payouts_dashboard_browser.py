"""Issue 17 in a real browser, on a laptop and on a phone: the owner's dashboard with this
month's money, the card payment figures and the weekly chart with its figures shown; then
the Payouts reconciliation report, refreshed from the fake Stripe, one payout opened with
a charge the app does not know flagged in words, and its CSV downloaded. No accessibility
violations and nothing wider than the screen."""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import Page, expect

from tests.payments.conftest import _fake_stripe_server, app_on_fake, fake_stripe, webhook_receiver  # noqa: F401
from tests.payments.online import paid_online

from .helpers import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page: Page, width: int, what: str) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{what} is {scroll_width}px wide at {width}px"


@pytest.mark.parametrize("width", [1366, 375])
def test_owner_dashboard_and_payouts_report(
    page: Page,
    app_on_fake,  # noqa: F811
    tenant,
    live_server,
    settings,
    console_errors,
    tmp_path,
    width,
):
    settings.SITE_URL = live_server.url
    practice = tenant.practice
    # Given two invoices paid online this month, and a charge made at Stripe outside the app
    ana = paid_online(app_on_fake, tenant, "150.00", "80.00")
    paid_online(app_on_fake, tenant, "100.00")
    customer = app_on_fake.client().v1.customers.create({"email": "p@example.test"}, ana.options)
    app_on_fake.client().v1.payment_intents.create(
        {
            "amount": 5000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "off_session": True,
        },
        ana.options,
    )
    payout = app_on_fake.control.payout(ana.account)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, tenant.owner.email)

    # The dashboard: this month's money, each a link to its list
    expect(page.get_by_test_id("tile-collected-month")).to_contain_text("$330.00")
    expect(page.get_by_test_id("tile-billed-month")).to_contain_text("$330.00")
    expect(page.get_by_test_id("tile-billed-month")).to_have_attribute(
        "href",
        f"/p/{practice.slug}/billing/invoices/?status=billed&date_from="
        f"{practice.local_today().replace(day=1).isoformat()}&date_to={practice.local_today().isoformat()}",
    )
    autopay = page.get_by_role("region", name="AutoPay last night")
    expect(autopay).to_contain_text("AutoPay charged no one that night.")
    attention = page.get_by_role("region", name="Payments needing attention")
    expect(attention.get_by_role("link", name="Card payments held for review")).to_be_visible()
    # The chart's figures, shown on the page at a click
    chart = page.get_by_role("region", name="Billed and collected, last 12 weeks")
    table = chart.get_by_role("table", name="Billed and collected per week, last 12 weeks")
    chart.get_by_role("button", name="Show the figures").click()
    expect(chart.get_by_role("button", name="Hide the figures")).to_have_attribute("aria-expanded", "true")
    expect(table).to_be_visible()
    expect(table.get_by_role("row").last).to_contain_text("$330.00")
    no_sideways_scroll(page, width, "the dashboard")
    assert_accessible(page, f"dashboard with card figures at {width}px")

    # The Payments tab leads to the report
    page.goto(f"/p/{practice.slug}/billing/payments/")
    page.get_by_role("link", name="Payouts reconciliation").click()
    expect(page.get_by_role("heading", name="Payouts reconciliation", level=1)).to_be_visible()
    expect(page.get_by_test_id("payouts-last-read")).to_have_text("Not read from Stripe yet.")
    page.get_by_role("button", name="Refresh from Stripe").click()
    expect(page.get_by_text("Read 1 payout from Stripe.")).to_be_visible()
    expect(page.get_by_test_id("payouts-verdict")).to_have_text("Does not match: 1 thing to check. Each is said below.")
    expect(page.get_by_test_id("payouts-total-net")).to_have_text(f"${payout['amount'] / 100:,.2f}")

    # Opening the payout shows what is in it, the unknown charge flagged in words
    details = page.get_by_test_id("payout")
    details.locator("summary").click()
    lines = details.get_by_test_id("payout-line")
    expect(lines).to_have_count(3)
    flagged = lines.filter(has_text="Does not match")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("Stripe took this payment, but Practica has no payment for it.")
    expect(flagged).to_contain_text("$50.00")
    no_sideways_scroll(page, width, "the payouts report")
    assert_accessible(page, f"payouts report, a payout opened, at {width}px")

    # Export CSV downloads the same rows
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("payouts-") and download.suggested_filename.endswith(".csv")
    saved = tmp_path / "payouts.csv"
    download.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["Row"] for r in rows] == ["Payout", "Line", "Line", "Line"]
    assert rows[0]["Payout"] == payout["id"] and rows[0]["Matches"] == "yes"
    assert [r["Matches"] for r in rows[1:]].count("no") == 1
    assert [e for e in console_errors if "favicon" not in e] == []
