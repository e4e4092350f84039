"""Export CSV on every list: the filtered list (every row, not a page), a header row,
money as plain decimals, streamed. Each test reads the file back with the csv module."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from billing.services import payment_record_manual
from tests.factories import ClientFactory, issued_invoice, make_item
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def ana(tenant, other_tenant):
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima")
    issued_invoice(other_tenant.practice, twin, other_tenant.biller, "999.00")
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


@pytest.fixture
def bruno(tenant):
    return ClientFactory(practice=tenant.practice, first_name="=cmd", last_name="Costa")


def test_clients_csv_keeps_filters_and_has_money_columns(tenant, ana, bruno):
    issued_invoice(tenant.practice, ana, tenant.biller, "1234.50")
    ClientFactory.create_batch(30, practice=tenant.practice, last_name="Zed")  # more than a page
    owner = signed_in(tenant.owner)
    everyone = read_csv(owner.get(url(tenant, "clients:list"), {"format": "csv"}))
    assert len(everyone) == 32  # every row, not the first page of 25
    rows = read_csv(owner.get(url(tenant, "clients:list"), {"q": "lima", "format": "csv"}))
    assert rows == [
        {
            "Name": "Ana Lima",
            "First name": "Ana",
            "Last name": "Lima",
            "Email": "ana@mail.test",
            "Phone": rows[0]["Phone"],
            "Clinicians": "",
            "Payer": "",
            "Status": "Active",
            "Balance": "1234.50",
            "Credit": "0.00",
            "Overdue": "0.00",
        }
    ]
    # A name a spreadsheet would run as a formula is written as text
    costa = read_csv(owner.get(url(tenant, "clients:list"), {"q": "costa", "format": "csv"}))
    assert costa[0]["First name"] == "'=cmd"


def test_the_list_links_to_its_csv_with_the_filters(tenant, ana):
    html = signed_in(tenant.owner).get(url(tenant, "clients:list"), {"q": "lima", "page": "1"}).content.decode()
    assert 'href="?q=lima&amp;format=csv"' in html
    billing = signed_in(tenant.biller).get(url(tenant, "billing:invoices"), {"status": "open"}).content.decode()
    assert 'href="?status=open&amp;format=csv"' in billing


def test_a_clinicians_csv_has_only_their_clients(tenant, ana):
    ClientFactory(practice=tenant.practice, first_name="Mine", last_name="Own", clinicians=[tenant.clinician])
    rows = read_csv(signed_in(tenant.clinician).get(url(tenant, "clients:list"), {"format": "csv"}))
    assert [r["Name"] for r in rows] == ["Mine Own"]


def test_invoices_csv(tenant, ana, bruno):
    first = issued_invoice(tenant.practice, ana, tenant.biller, "100.00")
    issued_invoice(tenant.practice, bruno, tenant.biller, "20.00")
    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("40.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        allocations={first.pk: Decimal("40.00")},
    )
    rows = read_csv(signed_in(tenant.biller).get(url(tenant, "billing:invoices"), {"q": "lima", "format": "csv"}))
    assert len(rows) == 1
    row = rows[0]
    assert (row["Number"], row["Client"], row["Total"], row["Paid"], row["Balance"], row["Status"]) == (
        first.number,
        "Ana Lima",
        "100.00",
        "40.00",
        "60.00",
        "Partially paid",
    )
    assert row["Issued"] == first.issue_date.isoformat()


def test_payments_csv(tenant, ana):
    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("75.25"),
        received_on=tenant.practice.local_today(),
        method="cash",
        reference="R-1",
        allocations={},
        overpayment_to_credit=True,
    )
    rows = read_csv(signed_in(tenant.biller).get(url(tenant, "billing:payments"), {"format": "csv"}))
    assert [(r["Client"], r["Reference"], r["Amount"], r["To credit"]) for r in rows] == [
        ("Ana Lima", "R-1", "75.25", "75.25")
    ]


def test_credits_csv(tenant, ana):
    payment_record_manual(
        practice=tenant.practice,
        client=ana,
        actor=tenant.biller,
        amount=Decimal("30.00"),
        received_on=tenant.practice.local_today(),
        method="cash",
        allocations={},
        overpayment_to_credit=True,
    )
    rows = read_csv(signed_in(tenant.biller).get(url(tenant, "billing:credits"), {"format": "csv"}))
    assert [(r["Credit"], r["Client"], r["Amount"], r["Left"]) for r in rows] == [
        ("Overpayment", "Ana Lima", "30.00", "30.00")
    ]


def test_uninvoiced_csv(tenant, ana, bruno):
    make_item(tenant.practice, ana, "80.00")
    make_item(tenant.practice, ana, "20.50")
    make_item(tenant.practice, bruno, "10.00")
    rows = read_csv(signed_in(tenant.biller).get(url(tenant, "billing:home"), {"q": "lima", "format": "csv"}))
    assert [(r["Client"], r["Items"], r["Total"]) for r in rows] == [("Ana Lima", "2", "100.50")]


def test_a_clinician_gets_no_billing_csv(tenant, ana):
    assert signed_in(tenant.clinician).get(url(tenant, "billing:invoices"), {"format": "csv"}).status_code == 403
