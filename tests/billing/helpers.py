"""Page-level helpers the billing view tests share: URLs, and items, invoices, credit and
payments made the way the pages make them (taking the ``tenant`` fixture, not a practice).
The practice-level factories of the same names live in tests/factories/billing.py; the
figures a biller reads back (the client's account, the ledger sums) are here too."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import Sum
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from billing import services
from billing.models import BillingItem, ClientAccount, LedgerEntry, PackagePurchase
from billing.money import ZERO, LineAmounts, line_amounts
from billing.selectors import billing_state_from_items
from billing.services import invoice_mark_paid, package_sell
from clients.models import Client as PracticeClient
from tests import factories

D = Decimal


def url(tenant, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"practice_slug": tenant.practice.slug, **kwargs})


def make_item(tenant, client, price="100.00", tax="0", units="1", description="Individual therapy", days_ago=3):
    """An uninvoiced billing item, as completing a session makes one (the tenant's practice)."""
    return factories.make_item(
        tenant.practice, client, price, tax=tax, units=units, description=description, days_ago=days_ago
    )


def give_credit(tenant, client, amount="30.00"):
    return services.credit_invoice_create(
        practice=tenant.practice,
        client=client,
        actor=tenant.owner,
        reason="Goodwill",
        lines=[services.LineInput(description="Goodwill credit", unit_price=D(amount))],
    )


def issued_invoice(tenant, client, price="100.00"):
    return services.invoice_create(
        practice=tenant.practice,
        client=client,
        actor=tenant.owner,
        issue=True,
        item_ids=[make_item(tenant, client, price=price).pk],
    )


def pay(client, tenant, query: dict, **data):
    today = tenant.practice.local_today().isoformat()
    post = {"received_on": today, "method": "cash", "reference": "", **data}
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return client.post(f"{url(tenant, 'billing:payment_new')}?{qs}", post)


def add_item(practice, client, on: date, price: str = "100.00") -> BillingItem:
    figures = line_amounts(units=1, unit_price=Decimal(price), tax_percent=0, currency=practice.currency)
    return BillingItem.objects.create(
        practice=practice,
        client=client,
        kind=BillingItem.Kind.MANUAL,
        date=on,
        description="Session",
        unit_price=Decimal(price),
        net=figures.net,
        tax=figures.tax,
        amount=figures.gross,
        currency=practice.currency,
    )


def paid_package(tenant, package, client) -> PackagePurchase:
    """A package sold to ``client`` whose invoice has been paid in full."""
    purchase = package_sell(practice=tenant.practice, client=client, package=package, actor=tenant.biller)
    invoice_mark_paid(invoice=purchase.invoice, actor=tenant.biller, method="cash")
    purchase.invoice.refresh_from_db()
    assert purchase.invoice.status == "paid"
    return purchase


THREADS = 10


def post_at_once(user_client: Client, path: str, data: dict[str, Any], n: int = THREADS) -> list[HttpResponse]:
    """``n`` identical POSTs released together, each from its own thread and connection,
    signed in as ``user_client`` is."""
    barrier = threading.Barrier(n)
    responses: list[HttpResponse | BaseException] = [RuntimeError("not run")] * n
    cookies = user_client.cookies

    def worker(i: int) -> None:
        try:
            browser = Client()
            browser.cookies = cookies
            barrier.wait(timeout=20)
            responses[i] = browser.post(path, data)
        except BaseException as exc:  # asserted below
            responses[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    errors = [r for r in responses if isinstance(r, BaseException)]
    assert not errors, errors
    return [r for r in responses if isinstance(r, HttpResponse)]


def texts(response: HttpResponse) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def appointment_billing_state(appointment) -> str:
    """The billing state the calendar flyout shows for ``appointment``, read from its items
    (billing.selectors.billing_state_from_items, the rule the app uses)."""
    items = BillingItem.objects.filter(appointment=appointment).select_related("invoice")
    return billing_state_from_items(items)


def sum_lines(lines: list[LineAmounts]) -> LineAmounts:
    """What an invoice of these lines totals: sums of rounded lines, never a rounding of a
    sum (the expected figures the property tests compare an invoice with)."""
    return LineAmounts(
        net=sum((line.net for line in lines), ZERO),
        tax=sum((line.tax for line in lines), ZERO),
        gross=sum((line.gross for line in lines), ZERO),
    )


def account(client: PracticeClient) -> ClientAccount:
    """The client's balance and credit balance as the client header shows them."""
    return ClientAccount.objects.get_or_create(practice_id=client.practice_id, client=client)[0]


def ledger_sums(client: PracticeClient) -> tuple[Decimal, Decimal]:
    """(balance, credit balance) summed from the client's ledger rows."""
    sums = LedgerEntry.objects.filter(client=client).aggregate(b=Sum("balance_delta"), c=Sum("credit_delta"))
    return sums["b"] or D("0"), sums["c"] or D("0")


def ledger_kinds(client: PracticeClient) -> list[tuple[str, Decimal, Decimal]]:
    """The client's ledger rows, oldest first, as (kind, balance_delta, credit_delta)."""
    return list(
        LedgerEntry.objects.filter(client=client)
        .order_by("created_at", "pk")
        .values_list("kind", "balance_delta", "credit_delta")
    )


def uninvoiced(client: PracticeClient) -> set[int]:
    return set(BillingItem.objects.filter(client=client, invoice__isnull=True).values_list("pk", flat=True))


def reload(obj):  # type: ignore[no-untyped-def]
    obj.refresh_from_db()
    return obj
