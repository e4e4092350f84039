"""Bench data written straight to the tables, set-based, and consistent with the ledger.

The services would take minutes for 20,000 invoices, so this writes the rows they would
write: each issued invoice has its line and its ``invoice_issued`` ledger entry, each
payment its allocation and ``payment`` entry, each credit invoice its ``credit_issued``
entry, and every client's account holds the sums of its ledger. ``ledger_verify`` finds
nothing wrong with it (bench.billing.ledger_verify_bench checks that before timing).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billing.models import ClientAccount, Invoice, InvoiceLine, LedgerEntry, Payment, PaymentAllocation
from clients.models import Client
from practice.models import Membership, Practice, Role, User

ZERO = Decimal("0")
LABEL = "bench"


def bench_practice(owner: User, slug: str, clients: int) -> tuple[Practice, list[Client]]:
    """A practice of its own (so the demo's rows do not move the figures) with ``clients``
    clients, the owner a member of it."""
    practice, _ = Practice.objects.get_or_create(
        slug=slug, defaults={"name": f"Bench {slug}", "timezone": "America/New_York", "currency": "USD"}
    )
    Membership.objects.get_or_create(user=owner, practice=practice, defaults={"role": Role.OWNER})
    have = Client.objects.filter(practice=practice).count()
    Client.objects.bulk_create(
        [
            Client(
                practice=practice,
                first_name=f"First{n:05d}",
                last_name=f"Last{n:05d}",
                email=f"c{n:05d}@{slug}.bench.test",
                phone=f"555-{n:06d}",
            )
            for n in range(have, clients)
        ],
        batch_size=1000,
    )
    return practice, list(Client.objects.filter(practice=practice).order_by("pk"))


@dataclass
class _Plan:
    invoice: Invoice
    paid: Decimal
    credited: Decimal


def _plan(practice: Practice, client: Client, n: int) -> _Plan:
    """Invoice number ``n``: one in twenty a draft, one in twenty a credit invoice, the rest
    issued over the last 400 days, paid, part paid (some overpaid into credit) or open, many
    of the open ones overdue."""
    today = practice.local_today()
    issued = today - timedelta(days=n % 400)
    total = Decimal(100 + n % 7 * 25)
    slot = n % 20
    common = {"practice": practice, "client": client, "currency": practice.currency}
    if slot == 0:
        invoice = Invoice(**common, status=Invoice.Status.DRAFT, subtotal=total, total=total, balance=total)
        return _Plan(invoice, ZERO, ZERO)
    number = {"number": f"INV-{n:06d}", "sequence": n + 1, "issue_date": issued}
    if slot == 10:
        invoice = Invoice(
            **common,
            **number,
            kind=Invoice.Kind.CREDIT,
            status=Invoice.Status.OPEN,
            subtotal=-total,
            total=-total,
            reason="Bench credit",
        )
        return _Plan(invoice, ZERO, ZERO)
    due = issued + timedelta(days=14)
    if slot < 10:  # paid; every third one overpaid, the rest becoming credit
        paid, status, balance = total, Invoice.Status.PAID, ZERO
        credited = Decimal(10) if slot % 3 == 0 else ZERO
    elif slot < 14:
        paid, status, balance, credited = total / 2, Invoice.Status.OPEN, total / 2, ZERO
    else:
        paid, status, balance, credited = ZERO, Invoice.Status.OPEN, total, ZERO
    invoice = Invoice(
        **common,
        **number,
        status=status,
        due_date=due,
        subtotal=total,
        total=total,
        amount_paid=paid,
        balance=balance,
    )
    return _Plan(invoice, paid, credited)


def bulk_invoices(practice: Practice, clients: list[Client], start: int, count: int) -> None:
    """Invoices ``start`` .. ``start + count`` of ``practice``, spread over ``clients``,
    with their lines, payments, allocations, ledger entries and account sums."""
    plans = [_plan(practice, clients[n % len(clients)], n) for n in range(start, start + count)]
    invoices = Invoice.objects.bulk_create([p.invoice for p in plans], batch_size=2000)
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                position=0,
                date=invoice.issue_date,
                description="Individual session",
                unit_price=invoice.subtotal,
                net=invoice.subtotal,
                tax=ZERO,
                amount=invoice.subtotal,
            )
            for invoice in invoices
        ],
        batch_size=2000,
    )
    paying = [p for p in plans if p.paid > 0]
    payments = Payment.objects.bulk_create(
        [
            Payment(
                practice=practice,
                client=p.invoice.client,
                amount=p.paid + p.credited,
                allocated=p.paid,
                credited=p.credited,
                currency=practice.currency,
                method=Payment.Method.CARD_TERMINAL,
                received_on=_paid_on(p.invoice),
                reference=f"R{p.invoice.sequence}",
            )
            for p in paying
        ],
        batch_size=2000,
    )
    PaymentAllocation.objects.bulk_create(
        [
            PaymentAllocation(payment=payment, invoice=p.invoice, amount=p.paid)
            for p, payment in zip(paying, payments, strict=True)
        ],
        batch_size=2000,
    )
    entries = []
    deltas: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for p in plans:
        invoice = p.invoice
        if invoice.status == Invoice.Status.DRAFT:
            continue
        if invoice.is_credit:
            kind, balance, credit = LedgerEntry.Kind.CREDIT_ISSUED, ZERO, -invoice.total
        else:
            kind, balance, credit = LedgerEntry.Kind.INVOICE_ISSUED, invoice.total, ZERO
        entries.append(_entry(invoice.client_id, practice, kind, balance, credit, invoice=invoice))
        deltas[invoice.client_id][0] += balance
        deltas[invoice.client_id][1] += credit
    for p, payment in zip(paying, payments, strict=True):
        entries.append(
            _entry(payment.client_id, practice, LedgerEntry.Kind.PAYMENT, -p.paid, p.credited, payment=payment)
        )
        deltas[payment.client_id][0] -= p.paid
        deltas[payment.client_id][1] += p.credited
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    _move_accounts(practice, deltas)


def _paid_on(invoice: Invoice) -> date:
    assert invoice.issue_date is not None  # only issued invoices are paid
    return invoice.issue_date + timedelta(days=1)


def _entry(
    client_id: int, practice: Practice, kind: str, balance: Decimal, credit: Decimal, **links: object
) -> LedgerEntry:
    return LedgerEntry(
        practice=practice,
        client_id=client_id,
        kind=kind,
        balance_delta=balance,
        credit_delta=credit,
        currency=practice.currency,
        actor_label=LABEL,
        **links,  # type: ignore[arg-type]
    )


def _move_accounts(practice: Practice, deltas: dict[int, list[Decimal]]) -> None:
    accounts = {a.client_id: a for a in ClientAccount.objects.filter(client_id__in=list(deltas))}
    new = [ClientAccount(practice=practice, client_id=cid) for cid in deltas if cid not in accounts]
    for account in ClientAccount.objects.bulk_create(new, batch_size=2000):
        accounts[account.client_id] = account
    for cid, (balance, credit) in deltas.items():
        accounts[cid].balance += balance
        accounts[cid].credit_balance += credit
    ClientAccount.objects.bulk_update(list(accounts.values()), ["balance", "credit_balance"], batch_size=2000)
