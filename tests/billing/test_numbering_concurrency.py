"""Invoice numbers and invoicing under concurrency, on PostgreSQL with real threads.

Each thread has its own connection (closed when it ends) and its own transaction, so the
row locks of billing.locks are really contended. Besides threads released together by a
barrier, the races are also staged at an exact point (Saleor's RunBefore/RunAfter): a
function is wrapped so the competing change happens right before or after it, and a
competitor is known to be waiting on a lock by asking pg_stat_activity.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection

from billing import locks, services
from billing.models import BillingItem, Invoice, InvoiceCounter, InvoiceLine, LedgerEntry
from billing.services import bulk as bulk_services
from billing.services import invoices as invoice_services
from tests.billing.helpers import account, reload
from tests.factories import ClientFactory, draft_invoice, make_items

D = Decimal

pytestmark = pytest.mark.django_db(transaction=True)


# --- helpers ----------------------------------------------------------------------------------


class Outcome:
    def __init__(self) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.backend_pid: int | None = None
        self.started = threading.Event()


def start_thread(
    action: Callable[[], Any], barrier: threading.Barrier | None = None
) -> tuple[threading.Thread, Outcome]:
    """Run ``action`` in a new thread with its own database connection, closed at the end."""
    outcome = Outcome()

    def worker() -> None:
        try:
            connection.ensure_connection()
            outcome.backend_pid = connection.connection.info.backend_pid
            outcome.started.set()
            if barrier is not None:
                barrier.wait(timeout=10)
            outcome.result = action()
        except BaseException as exc:  # asserted on by the test
            outcome.error = exc
        finally:
            outcome.started.set()
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    return thread, outcome


def run_at_once(actions: list[Callable[[], Any]]) -> list[Outcome]:
    barrier = threading.Barrier(len(actions))
    started = [start_thread(action, barrier) for action in actions]
    for thread, _ in started:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread, _ in started)
    return [outcome for _, outcome in started]


def wait_until_waiting_on_a_lock(outcome: Outcome, timeout: float = 10) -> None:
    """Block until the thread's backend is waiting for a row lock held by someone else."""
    assert outcome.started.wait(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [outcome.backend_pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        if outcome.error is not None:
            raise AssertionError(f"the competitor failed before waiting: {outcome.error!r}")
        time.sleep(0.02)
    raise AssertionError("the competitor never waited on a lock")


@contextmanager
def run_before(target: Any, name: str, callback: Callable[..., None]) -> Iterator[None]:
    """Call ``callback`` with the arguments of ``target.name`` right before it runs."""
    original = getattr(target, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        callback(*args, **kwargs)
        return original(*args, **kwargs)

    with mock.patch.object(target, name, wrapper):
        yield


@contextmanager
def run_after(target: Any, name: str, callback: Callable[[Any], None]) -> Iterator[None]:
    """Call ``callback`` with the result of ``target.name`` right after it returns."""
    original = getattr(target, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        callback(result)
        return result

    with mock.patch.object(target, name, wrapper):
        yield


def numbers(practice) -> list[str]:
    return sorted(Invoice.objects.filter(practice=practice).exclude(number=None).values_list("number", flat=True))


# --- numbering ----------------------------------------------------------------------------------


def test_twenty_drafts_issued_at_once_get_numbers_1_to_20_without_gap_or_repeat(tenant, practice):
    # Given 20 drafts of 10 clients (two each, so clients and the counter are both contended)
    clients = [ClientFactory(practice=practice) for _ in range(10)]
    drafts = [draft_invoice(practice, client, tenant.biller, "100.00") for client in clients for _ in range(2)]
    # When 20 billers press Issue at the same moment
    outcomes = run_at_once(
        [lambda draft=draft: services.invoice_issue(invoice=draft, actor=tenant.biller) for draft in drafts]
    )
    # Then every issue succeeded with numbers 1..20, each once
    assert [o.error for o in outcomes] == [None] * 20
    sequences = sorted(Invoice.objects.filter(practice=practice).values_list("sequence", flat=True))
    assert sequences == list(range(1, 21))
    assert numbers(practice) == [f"INV-{n:06d}" for n in range(1, 21)]
    assert InvoiceCounter.objects.get(practice=practice).next_number == 21
    # and each invoice is on the ledger once
    assert LedgerEntry.objects.filter(practice=practice, kind=LedgerEntry.Kind.INVOICE_ISSUED).count() == 20
    assert all(account(client).balance == D("200.00") for client in clients)
    assert services.ledger_verify(practice) == []


def test_twenty_invoices_issued_at_once_from_a_start_number_continue_it(tenant, practice):
    practice.invoice_prefix, practice.invoice_start_number = "HS/", 500
    practice.save()
    clients = [ClientFactory(practice=practice) for _ in range(20)]
    items = {client.pk: make_items(practice, client, "40.00") for client in clients}

    outcomes = run_at_once(
        [
            lambda client=client: services.invoice_create(
                practice=practice,
                client=client,
                actor=tenant.biller,
                item_ids=[i.pk for i in items[client.pk]],
                issue=True,
            )
            for client in clients
        ]
    )

    assert [o.error for o in outcomes] == [None] * 20
    assert numbers(practice) == [f"HS/{n:06d}" for n in range(500, 520)]


FAILURE_POINTS = ["ledger", "audit"]


@contextmanager
def issue_fails_after_taking_its_number(point: str, on_failure: Callable[[], None] = lambda: None) -> Iterator[list]:
    """Make the next issue fail at ``point``, after its number was taken. Yields the number
    the failed issue had taken (read inside its transaction, before the failure)."""
    taken: list[str] = []

    def fail(invoice_id: int) -> None:
        taken.append(Invoice.objects.get(pk=invoice_id).number)
        on_failure()
        raise DatabaseError(f"simulated failure at the {point} write")

    if point == "ledger":
        original_ledger = invoice_services._ledger_write

        def ledger(entries: list[LedgerEntry], accounts: Any) -> Any:
            for entry in entries:
                if entry.kind == LedgerEntry.Kind.INVOICE_ISSUED:
                    fail(entry.invoice_id)
            return original_ledger(entries, accounts)

        with mock.patch.object(invoice_services, "_ledger_write", ledger):
            yield taken
    else:
        original_audit = invoice_services.audit_write

        def audit(**kwargs: Any) -> Any:
            if kwargs["action"] == "invoice.issued":
                fail(kwargs["obj"].pk)
            return original_audit(**kwargs)

        with mock.patch.object(invoice_services, "audit_write", audit):
            yield taken


@pytest.mark.parametrize("point", FAILURE_POINTS)
def test_an_issue_that_fails_after_taking_its_number_leaves_no_gap(tenant, practice, point):
    # Given INV-000001 issued, and two more drafts
    ana, ben = ClientFactory(practice=practice), ClientFactory(practice=practice)
    services.invoice_issue(invoice=draft_invoice(practice, ana, tenant.biller), actor=tenant.biller)
    failing = draft_invoice(practice, ana, tenant.biller, "70.00")
    next_one = draft_invoice(practice, ben, tenant.biller, "30.00")
    # When issuing one fails after it had taken INV-000002
    with issue_fails_after_taking_its_number(point) as taken, pytest.raises(DatabaseError):
        services.invoice_issue(invoice=failing, actor=tenant.biller)
    assert taken == ["INV-000002"]
    # Then it is still a draft with no number and nothing on the ledger
    failing = reload(failing)
    assert (failing.status, failing.number, failing.sequence) == (Invoice.Status.DRAFT, None, None)
    assert not LedgerEntry.objects.filter(invoice=failing).exists()
    assert account(ana).balance == D("100.00")
    # and the next invoice issued gets the number it would have had
    assert services.invoice_issue(invoice=next_one, actor=tenant.biller).number == "INV-000002"
    assert services.invoice_issue(invoice=failing, actor=tenant.biller).number == "INV-000003"
    assert services.ledger_verify(practice) == []


@pytest.mark.parametrize("point", FAILURE_POINTS)
def test_a_biller_waiting_for_the_counter_gets_the_number_a_failed_issue_gives_back(tenant, practice, point):
    # Given two drafts of two clients
    ana, ben = ClientFactory(practice=practice), ClientFactory(practice=practice)
    failing = draft_invoice(practice, ana, tenant.biller, "70.00")
    other = draft_invoice(practice, ben, tenant.biller, "30.00")
    competitor: list[tuple[threading.Thread, Outcome]] = []

    def while_holding_the_counter() -> None:
        # Right after INV-000001 was taken: another biller issues, and waits for the counter
        competitor.append(start_thread(lambda: services.invoice_issue(invoice=other, actor=tenant.biller)))
        wait_until_waiting_on_a_lock(competitor[0][1])

    # When the first issue fails at that point
    with issue_fails_after_taking_its_number(point, while_holding_the_counter) as taken, pytest.raises(DatabaseError):
        services.invoice_issue(invoice=failing, actor=tenant.biller)
    thread, outcome = competitor[0]
    thread.join(timeout=30)
    # Then the waiting biller gets INV-000001, the number the failed issue had taken
    assert taken == ["INV-000001"]
    assert outcome.error is None
    assert reload(other).number == "INV-000001"
    assert reload(failing).number is None
    assert InvoiceCounter.objects.get(practice=practice).next_number == 2


# --- the same items invoiced twice at once -------------------------------------------------------


@pytest.mark.parametrize("billers", [2, 8])
def test_billers_invoicing_the_same_items_at_once_make_one_invoice(tenant, practice, billers):
    # Given three uninvoiced items of Ana
    ana = ClientFactory(practice=practice)
    items = make_items(practice, ana, "100.00", "50.00", "25.00")
    ids = [i.pk for i in items]
    # When several billers create and issue an invoice of them at the same moment
    outcomes = run_at_once(
        [
            lambda: services.invoice_create(
                practice=practice, client=ana, actor=tenant.biller, item_ids=ids, issue=True
            )
            for _ in range(billers)
        ]
    )
    # Then one invoice exists, the others got the message, and nothing was created twice
    winners = [o for o in outcomes if o.error is None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1
    assert all(isinstance(o.error, ValidationError) and o.error.code == "items_taken" for o in losers)
    assert all(o.error.messages == [services.ITEMS_TAKEN] for o in losers)
    invoice = Invoice.objects.get(client=ana)
    assert invoice.total == D("175.00") and invoice.number == "INV-000001"
    assert InvoiceLine.objects.filter(invoice__client=ana).count() == 3
    assert set(BillingItem.objects.filter(pk__in=ids).values_list("invoice_id", flat=True)) == {invoice.pk}
    assert LedgerEntry.objects.filter(client=ana).count() == 1
    assert account(ana).balance == D("175.00")
    # and no number was used up by the losers
    assert InvoiceCounter.objects.get(practice=practice).next_number == 2


def test_items_invoiced_while_a_biller_holds_them_give_the_message_not_a_second_invoice(tenant, practice):
    ana = ClientFactory(practice=practice)
    ids = [i.pk for i in make_items(practice, ana, "100.00", "50.00")]
    competitor: list[tuple[threading.Thread, Outcome]] = []

    def with_the_items_locked(_items: list[BillingItem]) -> None:
        # Right after the first biller locked and read the items, a second one tries
        if competitor:
            return
        competitor.append(
            start_thread(
                lambda: services.invoice_create(practice=practice, client=ana, actor=tenant.biller, item_ids=ids)
            )
        )
        wait_until_waiting_on_a_lock(competitor[0][1])

    with run_after(locks, "lock_items", with_the_items_locked):
        first = services.invoice_create(practice=practice, client=ana, actor=tenant.biller, item_ids=ids, issue=True)
    thread, outcome = competitor[0]
    thread.join(timeout=30)

    assert isinstance(outcome.error, ValidationError) and outcome.error.code == "items_taken"
    assert list(Invoice.objects.filter(client=ana).values_list("pk", flat=True)) == [first.pk]
    assert set(BillingItem.objects.filter(pk__in=ids).values_list("invoice_id", flat=True)) == {first.pk}


def test_invoice_all_skips_a_client_whose_items_were_invoiced_right_after_it_read_them(tenant, practice):
    # Given uninvoiced items of Ana and Ben
    ana, ben = ClientFactory(practice=practice), ClientFactory(practice=practice)
    ana_ids = [i.pk for i in make_items(practice, ana, "100.00", "50.00")]
    make_items(practice, ben, "80.00")
    today = practice.local_today()
    by_hand: list[Invoice] = []
    invoice_create = services.invoice_create  # the other biller calls the real one

    def another_biller_invoices_anas_items(**kwargs: Any) -> None:
        # Invoice all has read Ana's item ids; right now another biller invoices them
        if kwargs["client"].pk == ana.pk and not by_hand:
            thread, outcome = start_thread(
                lambda: invoice_create(practice=practice, client=ana, actor=tenant.owner, item_ids=ana_ids, issue=True)
            )
            thread.join(timeout=30)
            assert outcome.error is None
            by_hand.append(outcome.result)

    # When Invoice all uninvoiced runs
    with run_before(bulk_services, "invoice_create", another_biller_invoices_anas_items):
        created = services.invoice_all_uninvoiced(
            practice=practice, actor=tenant.biller, date_from=today - timedelta(days=10), date_to=today
        )
    # Then it invoiced Ben only; Ana has the one invoice the other biller made
    assert [i.client_id for i in created] == [ben.pk]
    assert list(Invoice.objects.filter(client=ana).values_list("pk", flat=True)) == [by_hand[0].pk]
    assert set(BillingItem.objects.filter(pk__in=ana_ids).values_list("invoice_id", flat=True)) == {by_hand[0].pk}
    assert InvoiceLine.objects.filter(invoice__client=ana).count() == 2
    assert services.ledger_verify(practice) == []
