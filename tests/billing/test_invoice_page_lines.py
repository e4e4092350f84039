"""The invoice page's lines: each with its date, description, units, price, tax with its
rate, and amount."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils.html import escape

from billing.inputs import LineInput
from billing.services import invoice_create
from tests.factories import ClientFactory
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def line_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="invoice-line">.*?</tr>', html, flags=re.S)


def test_each_line_prints_its_date_units_and_tax_rate(tenant):
    ana = ClientFactory(practice=tenant.practice)
    invoice = invoice_create(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        lines=[
            LineInput(
                description="Group session <b>",
                unit_price=Decimal("80.00"),
                units=Decimal("1.50"),
                tax_percent=Decimal("12.50"),
                date=date(2026, 11, 3),
            ),
            LineInput(description="Workbook", unit_price=Decimal("20.00")),
        ],
    )
    html = signed_in(tenant.biller).get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    first, second = line_rows(html)
    assert '<td data-label="Date">3 Nov 2026</td>' in first
    assert f'<td data-label="Description">{escape("Group session <b>")}</td>' in first
    assert '<td class="num" data-label="Units">1.5</td>' in first
    assert '<td class="num" data-label="Price">$80.00</td>' in first
    assert '<td class="num" data-label="Tax">$15.00 <span class="muted">(12.5%)</span></td>' in first
    assert '<td class="num" data-label="Amount">$135.00</td>' in first
    # No date: a dash; no tax: no rate; whole units: no decimals.
    assert '<td data-label="Date">—</td>' in second and "%)" not in second
    assert '<td class="num" data-label="Units">1</td>' in second
