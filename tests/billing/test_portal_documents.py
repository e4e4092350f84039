"""The portal's Documents page: a client sees a receipt for each of their payments and
downloads it, a statement for a period they choose (the practice's local days; a bad
period is refused with the reason and nothing is downloaded) and a superbill; a payer does
the same for each client they pay for; nobody reaches anyone else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from billing.documents.receipt import receipt_number
from billing.documents.statement import PERIOD_BACKWARDS, PERIOD_IN_FUTURE, PERIOD_TOO_LONG
from billing.forms.statements import PORTAL_CLIENT_UNKNOWN
from billing.models import BillingItem
from billing.services import invoice_create
from practice.models import Membership
from tests.billing.test_documents_pdf import pdf_text
from tests.factories import ClientFactory, PayerFactory, ServiceFactory, completed_session_items, issued_invoice, pay
from tests.portal import grant_portal, portal_signed_in

pytestmark = pytest.mark.django_db

DOCUMENTS = "/portal/documents/"
STATEMENT = "/portal/documents/statement/"
SUPERBILL = "/portal/documents/superbill/"


def at(day: int, hour: int = 15) -> time_machine.travel:
    """March ``day`` 2026 at ``hour`` UTC (the practice is in New York: 15:00 UTC is late
    morning there, 03:00 UTC the evening of the day before)."""
    return time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=day - 1, hours=hour), tick=False)


@pytest.fixture
def ana(tenant):
    ana = ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    grant_portal(ana)
    return ana


@pytest.fixture
def ben(tenant):
    """Another client of the same practice, with a payment of his own."""
    ben = ClientFactory(practice=tenant.practice, first_name="Ben", last_name="Stone", email="ben@mail.test")
    grant_portal(ben)
    issued_invoice(tenant.practice, ben, tenant.biller, "55.00")
    pay(tenant.practice, ben, tenant.biller, "55.00")
    return ben


def test_documents_lists_a_receipt_for_each_of_my_payments_newest_first(
    tenant, ana, ben, django_assert_max_num_queries
):
    practice = tenant.practice
    with at(2):
        issued_invoice(practice, ana, tenant.biller, "200.00")
        pay(practice, ana, tenant.biller, "120.00")
    with at(9):
        pay(practice, ana, tenant.biller, "80.00")
    browser = portal_signed_in(ana)

    with django_assert_max_num_queries(12):
        page = browser.get(DOCUMENTS)

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="portal-receipt-row"') == 2
    assert html.index("9 Mar 2026") < html.index("2 Mar 2026")
    assert "$80.00" in html and "$120.00" in html
    assert "$55.00" not in html  # Ben's


def test_the_receipt_query_count_does_not_grow_with_the_rows(tenant, ana, django_assert_max_num_queries):
    practice = tenant.practice
    issued_invoice(practice, ana, tenant.biller, "500.00")
    for _ in range(12):
        pay(practice, ana, tenant.biller, "10.00")
    browser = portal_signed_in(ana)

    with django_assert_max_num_queries(12):
        page = browser.get(DOCUMENTS)

    assert page.content.decode().count('data-testid="portal-receipt-row"') == 12


def test_a_receipt_downloads_as_a_pdf(tenant, ana):
    practice = tenant.practice
    invoice = issued_invoice(practice, ana, tenant.biller, "200.00")
    payment = pay(practice, ana, tenant.biller, "120.00").payment

    response = portal_signed_in(ana).get(f"/portal/documents/receipts/{payment.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="receipt-')
    assert response["Cache-Control"] == "private, no-store"
    text = pdf_text(response.content)
    assert "Receipt" in text and receipt_number(payment) in text and "Ana Lima" in text
    assert invoice.number in text and "Amount paid $120.00" in text


def test_another_clients_receipt_is_not_found(tenant, other_tenant, ana, ben):
    bens = ben.payments.get()
    twin = ClientFactory(practice=other_tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")
    issued_invoice(other_tenant.practice, twin, other_tenant.biller, "20.00")
    twins = pay(other_tenant.practice, twin, other_tenant.biller, "20.00").payment
    browser = portal_signed_in(ana)

    for payment in (bens, twins):
        response = browser.get(f"/portal/documents/receipts/{payment.pk}/")
        assert response.status_code == 404


@pytest.fixture
def march(tenant, ana):
    """Ana's March: invoice 200 on the 2nd, 150 paid on the 5th, invoice 80 on the 10th at
    03:00 UTC (the evening of the 9th in New York). Then it is the 25th."""
    practice, biller = tenant.practice, tenant.biller
    with at(2):
        issued_invoice(practice, ana, biller, "200.00")
    with at(5):
        pay(practice, ana, biller, "150.00")
    with at(10, hour=3):
        issued_invoice(practice, ana, biller, "80.00")
    with at(25):
        yield


def test_a_statement_for_a_chosen_period_downloads_as_a_pdf(tenant, ana, march):
    response = portal_signed_in(ana).get(STATEMENT, {"start": "2026-03-05", "end": "2026-03-20"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="statement-lima-ana-2026-03-05-2026-03-20.pdf"'
    text = pdf_text(response.content)
    assert "Ana Lima" in text and "5 Mar 2026 to 20 Mar 2026" in text
    assert "Opening balance $200.00" in text
    assert "Closing balance $130.00" in text


def test_a_statements_days_are_the_practices_local_days(tenant, ana, march):
    browser = portal_signed_in(ana)

    # The 80 invoice was issued on the evening of the 9th in New York (the 10th in UTC)
    ninth = pdf_text(browser.get(STATEMENT, {"start": "2026-03-09", "end": "2026-03-09"}).content)
    tenth = pdf_text(browser.get(STATEMENT, {"start": "2026-03-10", "end": "2026-03-10"}).content)

    assert "Closing balance $130.00" in ninth and "$80.00" in ninth
    assert "No movements in this period." in tenth and "Opening balance $130.00" in tenth


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-20", "2026-03-05", PERIOD_BACKWARDS),
        ("2026-03-01", "2026-03-26", PERIOD_IN_FUTURE),
        ("2024-01-01", "2026-03-20", PERIOD_TOO_LONG),
        ("2026-02-30", "2026-03-20", "Enter a valid date."),
        ("", "2026-03-20", "This field is required."),
    ],
)
def test_a_bad_period_is_refused_with_the_reason(tenant, ana, march, start, end, message):
    for address in (STATEMENT, SUPERBILL):
        response = portal_signed_in(ana).get(address, {"start": start, "end": end})

        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert message in response.content.decode()
        # The Documents page again, with the dates as given
        assert "Receipts" in response.content.decode()


def test_a_superbill_lists_my_sessions_in_the_period(tenant, ana):
    practice = tenant.practice
    Membership.objects.filter(practice=practice, user=tenant.clinician).update(licence_number="LPC-77812")
    service = ServiceFactory(practice=practice, name="Psychotherapy 45 min", code="PSY45", procedure_code="90834")
    completed_session_items(practice, tenant.biller, tenant.clinician, ana, service, days_ago=3)
    items = BillingItem.objects.filter(client=ana)
    invoice_create(practice=practice, client=ana, actor=tenant.biller, item_ids=[i.pk for i in items], issue=True)
    today = practice.local_today()

    response = portal_signed_in(ana).get(
        SUPERBILL, {"start": (today - timedelta(days=10)).isoformat(), "end": today.isoformat()}
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="superbill-lima-ana-')
    text = pdf_text(response.content)
    assert "Superbill" in text and "Ana Lima" in text
    assert "90834" in text and "LPC-77812" in text


def test_a_client_cannot_ask_for_someone_elses_statement(tenant, ana, ben):
    today = tenant.practice.local_today()

    response = portal_signed_in(ana).get(
        STATEMENT, {"start": (today - timedelta(days=5)).isoformat(), "end": today.isoformat(), "client": ben.pk}
    )

    # A client has no choice to make: the statement is theirs, whatever the address says
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Ana Lima" in text and "Ben Stone" not in text


@pytest.fixture
def household(tenant):
    """Paula pays for Leo and Mia, both with portal access; Leo paid 90, Mia 40."""
    practice = tenant.practice
    paula = PayerFactory(practice=practice, first_name="Paula", last_name="Lima", email="paula@mail.test")
    leo = ClientFactory(practice=practice, first_name="Leo", last_name="Lima", payer=paula)
    mia = ClientFactory(practice=practice, first_name="Mia", last_name="Lima", payer=paula)
    grant_portal(leo, mia)
    for child, amount in ((leo, "90.00"), (mia, "40.00")):
        issued_invoice(practice, child, tenant.biller, amount)
        pay(practice, child, tenant.biller, amount)
    return paula, leo, mia


def test_a_payer_sees_the_receipts_of_each_client_they_pay_for(tenant, household, ben):
    paula, leo, mia = household
    browser = portal_signed_in(paula)

    html = browser.get(DOCUMENTS).content.decode()

    assert html.count('data-testid="portal-receipt-row"') == 2
    assert "Leo Lima" in html and "Mia Lima" in html and "$90.00" in html and "$40.00" in html
    assert "$55.00" not in html  # Ben's
    for payment in (leo.payments.get(), mia.payments.get()):
        assert browser.get(f"/portal/documents/receipts/{payment.pk}/").status_code == 200
    assert browser.get(f"/portal/documents/receipts/{ben.payments.get().pk}/").status_code == 404


def test_a_payer_chooses_whose_statement(tenant, household, ben):
    paula, _leo, mia = household
    browser = portal_signed_in(paula)
    today = tenant.practice.local_today()
    period = {"start": (today - timedelta(days=5)).isoformat(), "end": today.isoformat()}

    mias = browser.get(STATEMENT, {**period, "client": mia.pk})
    assert mias.status_code == 200
    assert "Mia Lima (paid by Paula Lima)" in pdf_text(mias.content)

    # Someone she does not pay for is refused as if they did not exist
    refused = browser.get(STATEMENT, {**period, "client": ben.pk})
    assert refused.status_code == 400
    assert PORTAL_CLIENT_UNKNOWN in refused.content.decode()
    assert "Ben Stone" not in refused.content.decode()


def test_documents_dates_default_to_last_month_and_this_one(tenant, ana):
    with time_machine.travel(datetime(2026, 3, 18, 15, tzinfo=UTC), tick=False):
        html = portal_signed_in(ana).get(DOCUMENTS).content.decode()

    assert 'value="2026-02-01"' in html and 'value="2026-03-18"' in html
