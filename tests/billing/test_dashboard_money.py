"""Issue 17, part 1: the dashboard's money tiles. Billed and collected this month,
outstanding, overdue and uninvoiced, each a link to the list whose rows add up to it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from billing.models import Invoice, Payment
from billing.services import invoice_void, payment_reverse, refund_record
from tests.factories import ClientFactory, draft_invoice, issued_invoice, make_item
from tests.factories.billing import pay
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db
D = Decimal

# Wednesday 18 March 2026, mid-afternoon in New York.
NOW = datetime(2026, 3, 18, 19, 0, tzinfo=UTC)


def tiles(page: str) -> dict[str, tuple[str, str]]:
    """label -> (amount, link) of the dashboard's tiles."""
    return {
        label: (value, unescape(href))
        for href, label, value in re.findall(
            r'<a class="tile" href="([^"]+)"[^>]*><span class="tile-label">([^<]+)</span>'
            r'<span class="tile-value">([^<]+)</span>',
            page,
        )
    }


def rows_of(user, link: str, testid: str) -> list[str]:
    page = signed_in(user).get(link)
    assert page.status_code == 200
    return re.findall(rf'data-testid="{testid}">(.*?)</tr>', page.content.decode(), re.S)


def test_each_money_tile_adds_up_the_list_it_links_to(tenant, time_machine):
    time_machine.move_to(NOW, tick=False)
    practice = tenant.practice
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Lima")
    ben = ClientFactory(practice=practice, first_name="Ben", last_name="Jones")
    # Cleo owes nothing: her payments are credit and leave the invoices' figures alone.
    cleo = ClientFactory(practice=practice, first_name="Cleo", last_name="Park")
    # Billed this month: 150 + 90 (one voided and a draft do not count, nor February's 70).
    march = issued_invoice(practice, ana, tenant.owner, "150.00")
    late = issued_invoice(practice, ben, tenant.owner, "90.00")
    Invoice.objects.filter(pk=late.pk).update(due_date=date(2026, 3, 10))
    voided = issued_invoice(practice, ben, tenant.owner, "40.00")
    invoice_void(invoice=voided, actor=tenant.owner, reason="Entered twice")
    draft_invoice(practice, ben, tenant.owner, "25.00")
    february = issued_invoice(practice, ana, tenant.owner, "70.00")
    Invoice.objects.filter(pk=february.pk).update(issue_date=date(2026, 2, 20), due_date=date(2026, 3, 6))
    # Collected this month: 60 + (50 - 20 refunded); a reversed payment and February's do not count.
    pay(practice, cleo, tenant.owner, "60.00", to_credit=True)
    refunded = pay(practice, cleo, tenant.owner, "50.00", to_credit=True).payment
    refund_record(
        payment=refunded,
        actor=tenant.owner,
        amount=D("20.00"),
        refunded_on=date(2026, 3, 18),
        method="cash",
        reason="Overpaid",
    )
    reversed_payment = pay(practice, cleo, tenant.owner, "35.00", to_credit=True).payment
    payment_reverse(payment=reversed_payment, actor=tenant.owner, reason="Cheque bounced")
    old = pay(practice, cleo, tenant.owner, "15.00", to_credit=True).payment
    Payment.objects.filter(pk=old.pk).update(received_on=date(2026, 2, 27))
    make_item(practice, ben, "80.00", days_ago=2)

    page = signed_in(tenant.biller).get(reverse("dashboard", kwargs={"practice_slug": practice.slug})).text

    shown = tiles(page)
    base = f"/p/{practice.slug}/billing"
    month = "date_from=2026-03-01&date_to=2026-03-18"
    assert shown["Billed this month"] == ("$240.00", f"{base}/invoices/?status=billed&{month}")
    assert shown["Collected this month"] == ("$90.00", f"{base}/payments/?status=collected&{month}")
    assert shown["Outstanding"] == ("$310.00", f"{base}/invoices/?status=open")
    assert shown["Overdue"] == ("$160.00", f"{base}/invoices/?status=overdue")
    # The new 80.00 item, and the 40.00 the void released.
    assert shown["Uninvoiced"] == ("$120.00", f"{base}/")
    # The lists behind them hold exactly those rows
    billed = rows_of(tenant.biller, shown["Billed this month"][1], "invoice-row")
    assert sorted(n for n in (march.number, late.number) if any(n in r for r in billed)) == sorted(
        [march.number, late.number]
    )
    assert len(billed) == 2
    collected = rows_of(tenant.biller, shown["Collected this month"][1], "payment-row")
    assert len(collected) == 2 and all("Reversed" not in r for r in collected)
    assert len(rows_of(tenant.biller, shown["Outstanding"][1], "invoice-row")) == 3
    overdue = rows_of(tenant.biller, shown["Overdue"][1], "invoice-row")
    assert len(overdue) == 2 and any(february.number in r for r in overdue)


def test_the_month_starts_on_the_first_in_the_practices_own_time_zone(tenant, time_machine):
    """At 00:30 on 1 April in New York (04:30 UTC), March's money is last month's."""
    time_machine.move_to(datetime(2026, 4, 1, 4, 30, tzinfo=UTC), tick=False)
    practice = tenant.practice
    ana = ClientFactory(practice=practice)
    invoice = issued_invoice(practice, ana, tenant.owner, "100.00")
    Invoice.objects.filter(pk=invoice.pk).update(issue_date=practice.local_today() - timedelta(days=1))
    issued_invoice(practice, ana, tenant.owner, "30.00")

    page = signed_in(tenant.owner).get(reverse("dashboard", kwargs={"practice_slug": practice.slug})).text

    assert tiles(page)["Billed this month"][0] == "$30.00"
    assert "date_from=2026-04-01&amp;date_to=2026-04-01" in page


def test_clinicians_see_no_money_tiles(tenant):
    page = signed_in(tenant.clinician).get(reverse("dashboard", kwargs={"practice_slug": tenant.practice.slug})).text
    assert set(tiles(page)) == {"Sessions today"}
