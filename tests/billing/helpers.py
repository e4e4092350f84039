"""Helpers the billing tests share that build no rows of their own: the figures a biller reads
(the client's account, the ledger sums, an invoice's status and balance), forms posted as a
page posts them, and POSTs released at once. Rows are built with tests/factories."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import Sum
from django.http import HttpResponse
from django.test import Client

from billing.models import BillingItem, ClientAccount, Invoice, LedgerEntry
from billing.money import ZERO, LineAmounts
from billing.selectors import billing_state_from_items
from clients.models import Client as PracticeClient
from tests.helpers import url

D = Decimal


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


def books(client: PracticeClient) -> tuple[Decimal, Decimal]:
    """(balance, credit balance) as the client header shows them, equal to the ledger's sums."""
    acc = account(client)
    assert ledger_sums(client) == (acc.balance, acc.credit_balance), "the account must equal the ledger"
    return acc.balance, acc.credit_balance


def figures(invoice: Invoice) -> tuple[str, Decimal, Decimal, Decimal, Decimal]:
    """What the invoice page shows: status badge, total, credit applied, amount paid, balance."""
    invoice = Invoice.objects.select_related("practice").get(pk=invoice.pk)
    return invoice.display_status, invoice.total, invoice.credit_applied, invoice.amount_paid, invoice.balance


def status_and_balance(invoice: Invoice) -> tuple[str, Decimal, Decimal]:
    invoice = Invoice.objects.select_related("practice").get(pk=invoice.pk)
    return invoice.display_status, invoice.amount_paid, invoice.balance


def uninvoiced(client: PracticeClient) -> set[int]:
    return set(BillingItem.objects.filter(client=client, invoice__isnull=True).values_list("pk", flat=True))


def reload(obj):  # type: ignore[no-untyped-def]
    obj.refresh_from_db()
    return obj


def post_payment(browser: Client, tenant, query: dict, **data) -> HttpResponse:
    """Submit the Add payment form (opened with ``query``, e.g. ``{"client": ana.pk}``) as
    ``browser``: cash, received today, unless ``data`` says otherwise."""
    today = tenant.practice.local_today().isoformat()
    post = {"received_on": today, "method": "cash", "reference": "", **data}
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return browser.post(f"{url(tenant, 'billing:payment_new')}?{qs}", post)


THREADS = 10


def billing_tab(browser: Client, tenant, client: PracticeClient, **params: Any) -> HttpResponse:
    """GET ``client``'s Billing tab (with page parameters such as invoices_page=2)."""
    return browser.get(url(tenant, "clients:billing", client_id=client.pk), params)


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
