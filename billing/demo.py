"""Demo invoices, payments, a credit invoice and a package for Harbour. Called by
practice.demo.load_demo_data after appointments.demo, so Harbour's billing items exist.

Everything goes through billing.services, so the ledger and the accounts are what a real
practice would have. It runs only while Harbour has no invoice, so loading twice adds
nothing; the choices depend only on the order of the items, so two loads on the same day
give the same books.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from appointments.models import Service
from clients.demo import PORTAL_DEMO_EMAIL
from clients.models import Client
from practice.models import Practice, User

from .inputs import LineInput
from .models import BillingItem, Invoice, Package, Payment
from .money import quantize
from .services import credit_invoice_create, invoice_create, package_sell, payment_record_manual

BILLER = "biller@harbour.example"
# Items older than this are the ones a practice would have invoiced by now.
INVOICE_OLDER_THAN_DAYS = 14
PACKAGE = {"name": "10 sessions: individual therapy", "code": "IND50", "sessions": 10, "price": "1350.00", "days": 365}


def _actor(practice: Practice) -> User:
    biller = User.objects.filter(email=BILLER, memberships__practice=practice).first()
    if biller is not None:
        return biller
    return User.objects.filter(memberships__practice=practice, memberships__role="owner").order_by("pk").first()  # type: ignore[return-value]


def _invoice_half(harbour: Practice, actor: User) -> list[Invoice]:
    """About half of each client's items older than two weeks (the oldest half), one invoice per client."""
    cutoff = harbour.local_today() - timedelta(days=INVOICE_OLDER_THAN_DAYS)
    by_client: dict[int, list[BillingItem]] = defaultdict(list)
    items = BillingItem.objects.filter(practice=harbour, invoice__isnull=True, date__lt=cutoff).order_by(
        "client_id", "date", "pk"
    )
    for item in items:
        by_client[item.client_id].append(item)
    clients = Client.objects.in_bulk(list(by_client))
    invoices: list[Invoice] = []
    for client_id, client_items in sorted(by_client.items()):
        half = client_items[: (len(client_items) + 1) // 2]
        invoice = invoice_create(
            practice=harbour, client=clients[client_id], actor=actor, item_ids=[i.pk for i in half], issue=True
        )
        if len(invoices) % 4:
            # Dated as if invoiced the day after its last session (every fourth stays issued
            # today), so the demo has overdue invoices as well as ones not due yet.
            issued = half[-1].date + timedelta(days=1)
            Invoice.objects.filter(pk=invoice.pk).update(
                issue_date=issued, due_date=issued + timedelta(days=harbour.payment_terms_days)
            )
            invoice.refresh_from_db()
        invoices.append(invoice)
    return invoices


def _payments(harbour: Practice, actor: User, invoices: list[Invoice]) -> int:
    """Every third invoice paid in cash in full; every third after that, half by card terminal."""
    today = harbour.local_today()
    made = 0
    for n, invoice in enumerate(invoices):
        if invoice.balance <= 0 or n % 3 == 2 or invoice.client.email == PORTAL_DEMO_EMAIL:
            continue
        full = n % 3 == 0
        amount = invoice.balance if full else quantize(invoice.balance / 2, harbour.currency)
        if amount <= 0:
            continue
        payment_record_manual(
            practice=harbour,
            client=invoice.client,
            actor=actor,
            amount=amount,
            received_on=min(today, (invoice.issue_date or today) + timedelta(days=3 + n % 5)),
            method=Payment.Method.CASH if full else Payment.Method.CARD_TERMINAL,
            reference="" if full else f"Terminal {1000 + n}",
            allocations={invoice.pk: amount},
        )
        made += 1
    return made


def _package(harbour: Practice, actor: User) -> int:
    service = Service.objects.filter(practice=harbour, code=PACKAGE["code"]).first()
    client = Client.objects.filter(practice=harbour, status=Client.Status.ACTIVE).order_by("last_name", "pk").first()
    if service is None or client is None:
        return 0
    package, _ = Package.objects.get_or_create(
        practice=harbour,
        name=PACKAGE["name"],
        defaults={
            "service": service,
            "sessions": PACKAGE["sessions"],
            "price": Decimal(str(PACKAGE["price"])),
            "valid_days": PACKAGE["days"],
        },
    )
    purchase = package_sell(practice=harbour, client=client, package=package, actor=actor)
    payment_record_manual(
        practice=harbour,
        client=client,
        actor=actor,
        amount=purchase.invoice.balance,
        received_on=harbour.local_today(),
        method=Payment.Method.CARD_TERMINAL,
        reference="Package",
        allocations={purchase.invoice_id: purchase.invoice.balance},
    )
    return 1


def _portal_client(harbour: Practice, actor: User) -> None:
    """A second unpaid invoice for the client the README names for the client portal: the
    rest of her sessions until yesterday (the first is the older half, left unpaid)."""
    client = Client.objects.filter(practice=harbour, email=PORTAL_DEMO_EMAIL).first()
    if client is None:
        return
    items = BillingItem.objects.filter(
        practice=harbour, client=client, invoice__isnull=True, date__lt=harbour.local_today()
    ).order_by("date", "pk")
    item_ids = [item.pk for item in items]
    if item_ids:
        invoice_create(practice=harbour, client=client, actor=actor, item_ids=item_ids, issue=True)


def load(*, harbour: Practice, kowhai: Practice) -> str:
    both = [harbour, kowhai]
    # Counted before the invoices below: the items appointments.demo's sessions made.
    items = f"{BillingItem.objects.filter(practice__in=both).count()} billing items"
    if not Invoice.objects.filter(practice=harbour).exists():
        actor = _actor(harbour)
        invoices = _invoice_half(harbour, actor)
        _payments(harbour, actor, invoices)
        if invoices:
            credit_invoice_create(
                practice=harbour,
                client=invoices[0].client,
                actor=actor,
                reason="Session started 20 minutes late",
                lines=[LineInput(description="Goodwill credit: late start", unit_price=Decimal("25.00"))],
            )
        _package(harbour, actor)
        _portal_client(harbour, actor)
    counts = [
        items,
        f"{Invoice.objects.filter(practice__in=both, kind=Invoice.Kind.INVOICE).count()} invoices",
        f"{Invoice.objects.filter(practice__in=both, kind=Invoice.Kind.CREDIT).count()} credit invoices",
        f"{Payment.objects.filter(practice__in=both).count()} payments",
        f"{Package.objects.filter(practice__in=both).count()} packages",
    ]
    return ", ".join(counts)
