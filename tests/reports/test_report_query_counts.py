"""Each report page runs the same number of queries at three clients as at 63 (more than
a page of them), for the practice and for a clinician: its figures are aggregates in the
database, never a query per row."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import services
from billing.models import BillingItem
from practice.middleware import SESSION_LAST_SEEN
from tests.factories import ClientFactory, ServiceFactory, completed_session_items, give_credit, online_payment
from tests.helpers import signed_in, url
from tests.reports.pages import rows
from tests.reports.story import build_story

pytestmark = pytest.mark.django_db

REPORTS = ["home", "aging", "revenue", "payments", "balances"]


def _browser(user):
    client = signed_in(user)
    # A session records "last seen" every 30 seconds (PracticeMiddleware): a write that
    # would land in whichever request came due. Last seen in the future keeps it out.
    session = client.session
    session[SESSION_LAST_SEEN] = time.time() + 24 * 60 * 60
    session.save()
    return client


def _grow(tenant, count: int) -> None:
    """``count`` more clients, each with an invoice of a session of each clinician and a
    typed line, part paid by hand (some refunded), part online, a credit and a write-off."""
    practice, biller = tenant.practice, tenant.biller
    service = ServiceFactory(practice=practice, name="Assessment", price=Decimal("90.00"))
    for n in range(count):
        client = ClientFactory(practice=practice, first_name=f"Grown{n:02d}", last_name="Client")
        completed_session_items(practice, tenant.owner, tenant.clinician, client, service, days_ago=3 + n % 50)
        completed_session_items(practice, tenant.owner, tenant.clinician2, client, service, days_ago=3 + n % 50)
        items = BillingItem.objects.filter(practice=practice, client=client, invoice__isnull=True)
        invoice = services.invoice_create(
            practice=practice,
            client=client,
            actor=biller,
            item_ids=list(items.values_list("pk", flat=True)),
            lines=[services.LineInput(description="Letter", unit_price=Decimal("15.00"))],
            issue=True,
        )
        payment = services.payment_record_manual(
            practice=practice,
            client=client,
            actor=biller,
            amount=Decimal("40.00"),
            received_on=practice.local_today() - timedelta(days=n % 3),
            method=["cash", "cheque", "bank_transfer"][n % 3],
            allocations={invoice.pk: Decimal("40.00")},
        ).payment
        if n % 4 == 0:
            services.refund_record(
                payment=payment,
                actor=biller,
                amount=Decimal("5.00"),
                refunded_on=practice.local_today(),
                method=payment.method,
                reason="Asked",
            )
        online_payment(practice, client, "30.00", fee="1.17", allocations={invoice.pk: Decimal("30.00")})
        if n % 5 == 0:
            give_credit(practice, client, biller, "12.00")
        if n % 13 == 0:
            services.invoice_write_off(invoice=invoice, actor=biller, reason="Small balance")


def _count(browser, address: str, query: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(address, query)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["owner", "clinician"])
def test_each_report_runs_the_same_queries_at_3_clients_and_at_63(tenant, who, django_assert_num_queries):
    story = build_story(tenant)
    browser = _browser(tenant.member(who))
    query = {
        "date_from": (story.today - timedelta(days=120)).isoformat(),
        "date_to": story.today.isoformat(),
    }
    addresses = {name: url(tenant, f"reports:{name}") for name in REPORTS}
    browser.get(addresses["home"])  # a first request's one-off reads (the URLconf's roles) out of the way
    few = {name: _count(browser, address, query) for name, address in addresses.items()}
    few_by_clinician = _count(browser, addresses["revenue"], {**query, "clinician": tenant.clinician.pk})

    _grow(tenant, 60)

    for name, address in addresses.items():
        with django_assert_num_queries(few[name]):
            response = browser.get(address, query)
        assert response.status_code == 200
    with django_assert_num_queries(few_by_clinician):
        browser.get(addresses["revenue"], {**query, "clinician": tenant.clinician.pk})
    # The 60 clients fill more than a page of aging and balances; the next page costs the same.
    aging = browser.get(addresses["aging"], {**query, "page": 2}).content.decode()
    assert rows(aging, "aging-row") and "Page 2 of 2" in aging
    with django_assert_num_queries(few["aging"]):
        browser.get(addresses["aging"], {**query, "page": 2})
    # Each report's own figures are one or two statements; the rest is the signed-in page's.
    assert max(few.values()) <= 12
