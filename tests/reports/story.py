"""One practice's last hundred days, built through the services, with figures a biller can
check by hand. Two clinicians (Clara, Daniel) and three clients:

- Ana (Clara's): a session of 120.00 invoiced 100 days ago, unpaid; a credit invoice of
  30.00 issued 5 days ago (her credit).
- Ben (Daniel's): a session of 200.00 invoiced 45 days ago, 50.00 paid in cash 40 days
  ago, 20.00 of it refunded today (owes 170.00); a typed line of 80.00 invoiced 2 days ago
  and written off today.
- Cara (both): one invoice 10 days ago of Clara's session (120.00) and Daniel's (200.00),
  320.00; 160.00 paid online today, Stripe's fee 4.94 (owes 160.00).

Owed today: 450.00 (Ana 120 over 90 days, Ben 170 in 31-60, Cara 160 in 0-30); overdue
(14 days' terms) 290.00; credit 30.00. Invoiced 720.00, credits 30.00, written off 80.00,
collected 210.00, refunded 20.00. Clara's share: invoiced 240.00, owed 180.00 (Cara's
invoice is 120/320 hers), collected 60.00. Daniel's: invoiced 400.00, owed 270.00,
collected 150.00, refunded 20.00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import time_machine

from billing import services
from billing.models import BillingItem, Invoice, Payment
from clients.models import Client
from practice.models import Practice
from tests.conftest import Tenant
from tests.factories import ClientFactory, ServiceFactory, completed_session_items, give_credit, online_payment

D = Decimal


@dataclass
class Story:
    today: date
    ana: Client
    ben: Client
    cara: Client
    ana_invoice: Invoice
    ben_invoice: Invoice
    cara_invoice: Invoice
    ben_cash: Payment


def _local_noon(practice: Practice, days_ago: int) -> datetime:
    """Noon of the practice's day ``days_ago`` days before its today. Not now less
    ``days_ago`` days: across a daylight saving change that lands an hour off, and in the
    hour after local midnight on the day before the one the tests expect."""
    return datetime.combine(practice.local_today() - timedelta(days=days_ago), time(12), tzinfo=practice.tzinfo)


def _issue(tenant: Tenant, client: Client, days_ago: int, lines=()) -> Invoice:
    """An invoice issued ``days_ago`` of the client's uninvoiced items (and ``lines``)."""
    items = BillingItem.objects.filter(practice=tenant.practice, client=client, invoice__isnull=True)
    with time_machine.travel(_local_noon(tenant.practice, days_ago), tick=False):
        return services.invoice_create(
            practice=tenant.practice,
            client=client,
            actor=tenant.biller,
            item_ids=list(items.values_list("pk", flat=True)),
            lines=list(lines),
            issue=True,
        )


def build_story(tenant: Tenant) -> Story:
    practice = tenant.practice
    today = practice.local_today()
    individual = ServiceFactory(practice=practice, name="Individual therapy", price=D("120.00"))
    couples = ServiceFactory(practice=practice, name="Couples therapy", price=D("200.00"))
    ana = ClientFactory(practice=practice, first_name="Ana", last_name="Smith", clinicians=[tenant.clinician])
    ben = ClientFactory(practice=practice, first_name="Ben", last_name="Jones", clinicians=[tenant.clinician2])
    cara = ClientFactory(
        practice=practice, first_name="Cara", last_name="Lee", clinicians=[tenant.clinician, tenant.clinician2]
    )
    owner = tenant.owner

    completed_session_items(practice, owner, tenant.clinician, ana, individual, days_ago=101)
    ana_invoice = _issue(tenant, ana, 100)
    with time_machine.travel(_local_noon(practice, 5), tick=False):
        give_credit(practice, ana, tenant.biller, "30.00")

    completed_session_items(practice, owner, tenant.clinician2, ben, couples, days_ago=46)
    ben_invoice = _issue(tenant, ben, 45)
    ben_cash = services.payment_record_manual(
        practice=practice,
        client=ben,
        actor=tenant.biller,
        amount=D("50.00"),
        received_on=today - timedelta(days=40),
        method="cash",
        allocations={ben_invoice.pk: D("50.00")},
    ).payment
    services.refund_record(
        payment=ben_cash, actor=tenant.biller, amount=D("20.00"), refunded_on=today, method="cash", reason="Overcharged"
    )
    typed = _issue(tenant, ben, 2, lines=[services.LineInput(description="Report writing", unit_price=D("80.00"))])
    services.invoice_write_off(invoice=typed, actor=tenant.biller, reason="Goodwill")

    completed_session_items(practice, owner, tenant.clinician, cara, individual, days_ago=11)
    completed_session_items(practice, owner, tenant.clinician2, cara, couples, days_ago=11)
    cara_invoice = _issue(tenant, cara, 10)
    online_payment(practice, cara, "160.00", fee="4.94", allocations={cara_invoice.pk: D("160.00")})

    return Story(
        today=today,
        ana=ana,
        ben=ben,
        cara=cara,
        ana_invoice=ana_invoice,
        ben_invoice=ben_invoice,
        cara_invoice=cara_invoice,
        ben_cash=ben_cash,
    )


def build_other_practice_money(other: Tenant) -> None:
    """The look-alike practice's own money, which no report of ours may show."""
    client = ClientFactory(practice=other.practice, first_name="Ana", last_name="Smith", clinicians=[other.clinician])
    completed_session_items(other.practice, other.owner, other.clinician, client, days_ago=3)
    items = BillingItem.objects.filter(practice=other.practice, client=client)
    invoice = services.invoice_create(
        practice=other.practice,
        client=client,
        actor=other.owner,
        item_ids=list(items.values_list("pk", flat=True)),
        issue=True,
    )
    services.payment_record_manual(
        practice=other.practice,
        client=client,
        actor=other.owner,
        amount=D("9999.00"),
        received_on=other.practice.local_today(),
        method="cash",
        allocations={invoice.pk: invoice.total},
        overpayment_to_credit=True,
    )
