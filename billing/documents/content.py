"""What a document says, made from an invoice and the practice's invoice template: every
figure already formatted in the invoice's currency and the practice's locale, so the one
template (templates/billing/documents/_document.html) only lays it out, on screen (the
settings page's preview) and on paper (the PDF) alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.db.models import TextChoices
from django.urls import reverse

from practice.dates import day_label
from practice.models import InvoiceTemplate, Practice
from practice.money import practice_money

from ..models import Invoice, Payment
from ..money import LineAmounts, line_amounts


class DocumentKind(TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_INVOICE = "credit", "Credit invoice"
    RECEIPT = "receipt", "Receipt"


@dataclass(frozen=True)
class DocumentLine:
    date: str
    description: str
    units: str
    unit_price: str
    tax: str
    amount: str


@dataclass(frozen=True)
class DocumentPayment:
    date: str
    method: str
    reference: str
    amount: str


@dataclass(frozen=True)
class Document:
    """One invoice, credit invoice or receipt as it reads on the page."""

    kind: DocumentKind
    title: str
    number: str
    stamp: str  # PAID, VOID, DRAFT or ""
    layout: str
    theme_colour: str
    issuer_name: str
    issuer_address: str
    issuer_contact: str
    issuer_tax_id: str
    bill_to_name: str
    bill_to_email: str
    bill_to_address: str
    dates: list[tuple[str, str]]
    lines: list[DocumentLine]
    totals: list[tuple[str, str]]
    due_label: str
    due_amount: str
    payments: list[DocumentPayment] = field(default_factory=list)
    payment_instructions: str = ""
    footer: str = ""
    reason: str = ""
    # The logo as the PDF reads it (a file:// URL) and as a browser reads it.
    logo_file_url: str = ""
    logo_url: str = ""

    @property
    def filename(self) -> str:
        label = {"invoice": "invoice", "credit": "credit-invoice", "receipt": "receipt"}[self.kind]
        return f"{label}-{self.number or 'draft'}.pdf".replace("/", "-").replace(" ", "-")


def document_kind(invoice: Invoice) -> DocumentKind:
    """A credit invoice is one; a paid invoice (settled by payments and credit, not by a
    write-off) is a receipt; anything else is an invoice."""
    if invoice.is_credit:
        return DocumentKind.CREDIT_INVOICE
    if invoice.status == Invoice.Status.PAID and invoice.written_off == 0:
        return DocumentKind.RECEIPT
    return DocumentKind.INVOICE


def _logo(template: InvoiceTemplate) -> tuple[str, str]:
    if not template.logo:
        return "", ""
    url = reverse("invoice_template_logo", kwargs={"practice_slug": template.practice.slug})
    return Path(template.logo.path).as_uri(), f"{url}?v={template.logo.name.rsplit('/', 1)[-1]}"


def _issuer_contact(practice: Practice) -> str:
    return " · ".join(part for part in (practice.email, practice.phone) if part)


def invoice_document(invoice: Invoice, template: InvoiceTemplate) -> Document:
    """The document of ``invoice`` (its lines and allocations prefetched, as
    billing.selectors.invoice_get_for_practice gives it) in ``template``'s look."""
    practice = template.practice
    kind = document_kind(invoice)

    def money(amount: Decimal) -> str:
        return practice_money(practice, amount, currency=invoice.currency)

    lines = [
        DocumentLine(
            date=day_label(line.date) if line.date else "",
            description=line.description,
            units=format(line.units.normalize(), "f"),
            unit_price=money(line.unit_price),
            tax=money(line.tax),
            amount=money(line.amount),
        )
        for line in invoice.lines.all()
        if line.active
    ]
    totals = [("Subtotal", money(invoice.subtotal)), ("Tax", money(invoice.tax)), ("Total", money(invoice.total))]
    payments: list[DocumentPayment] = []
    if kind == DocumentKind.CREDIT_INVOICE:
        due_label, due_amount = "Credit", money(-invoice.total)
    else:
        if invoice.credit_applied:
            totals.append(("Credit applied", money(-invoice.credit_applied)))
        if invoice.amount_paid:
            totals.append(("Amount paid", money(-invoice.amount_paid)))
        if invoice.written_off:
            totals.append(("Written off", money(-invoice.written_off)))
        due_label, due_amount = "Balance due", money(invoice.balance)
        payments = [
            DocumentPayment(
                date=day_label(allocation.payment.received_on),
                method=allocation.payment.get_method_display(),
                reference=allocation.payment.reference,
                amount=money(allocation.amount - allocation.refunded),
            )
            for allocation in invoice.allocations.all()
            if allocation.payment.status != Payment.Status.REVERSED
        ]
    dates = []
    if invoice.issue_date:
        dates.append(("Issue date", day_label(invoice.issue_date)))
    if invoice.due_date and kind == DocumentKind.INVOICE:
        dates.append(("Due date", day_label(invoice.due_date)))
    if kind == DocumentKind.RECEIPT and invoice.paid_at:
        dates.append(("Paid", day_label(invoice.paid_at.astimezone(practice.tzinfo).date())))
    stamp = {Invoice.Status.DRAFT: "DRAFT", Invoice.Status.VOID: "VOID"}.get(invoice.status, "")  # type: ignore[call-overload]
    if kind == DocumentKind.RECEIPT:
        stamp = "PAID"
    client = invoice.client
    payer = client.payer
    logo_file_url, logo_url = _logo(template)
    # How to pay is for an invoice that still asks for money; a receipt says it was paid.
    asks_for_money = kind == DocumentKind.INVOICE and invoice.status == Invoice.Status.OPEN and invoice.balance > 0
    return Document(
        kind=kind,
        title=kind.label,
        number=invoice.number or "",
        stamp=stamp,
        layout=template.layout,
        theme_colour=template.theme_colour,
        issuer_name=template.issuer_name,
        issuer_address=template.issuer_address,
        issuer_contact=_issuer_contact(practice),
        issuer_tax_id=template.issuer_tax_id,
        bill_to_name=invoice.bill_to_name or client.display_name,
        bill_to_email=invoice.bill_to_email,
        bill_to_address=(payer.address if payer else client.address),
        dates=dates,
        lines=lines,
        totals=totals,
        due_label=due_label,
        due_amount=due_amount,
        payments=payments,
        payment_instructions=template.payment_instructions if asks_for_money else "",
        footer=template.footer,
        reason=invoice.reason,
        logo_file_url=logo_file_url,
        logo_url=logo_url,
    )


SAMPLE_LINES = (
    ("Individual therapy session (50 min)", Decimal("1"), Decimal("150")),
    ("Report writing", Decimal("0.5"), Decimal("120")),
)


def sample_document(template: InvoiceTemplate) -> Document:
    """A made-up open invoice in ``template``'s look, for the settings page's preview:
    no client's data is shown there."""
    practice = template.practice
    today = practice.local_today()
    amounts: list[LineAmounts] = [
        line_amounts(units=units, unit_price=price, tax_percent=Decimal("0"), currency=practice.currency)
        for _description, units, price in SAMPLE_LINES
    ]

    def money(amount: Decimal) -> str:
        return practice_money(practice, amount)

    total = sum((a.gross for a in amounts), Decimal("0"))
    logo_file_url, logo_url = _logo(template)
    return Document(
        kind=DocumentKind.INVOICE,
        title="Invoice",
        number=f"{practice.invoice_prefix}0001",
        stamp="",
        layout=template.layout,
        theme_colour=template.theme_colour,
        issuer_name=template.issuer_name,
        issuer_address=template.issuer_address,
        issuer_contact=_issuer_contact(practice),
        issuer_tax_id=template.issuer_tax_id,
        bill_to_name="Sample Client",
        bill_to_email="client@example.com",
        bill_to_address="",
        dates=[("Issue date", day_label(today)), ("Due date", day_label(today + timedelta(days=14)))],
        lines=[
            DocumentLine(
                date=day_label(today),
                description=description,
                units=format(units.normalize(), "f"),
                unit_price=money(price),
                tax=money(a.tax),
                amount=money(a.gross),
            )
            for (description, units, price), a in zip(SAMPLE_LINES, amounts, strict=True)
        ],
        totals=[("Subtotal", money(total)), ("Tax", money(Decimal("0"))), ("Total", money(total))],
        due_label="Balance due",
        due_amount=money(total),
        payment_instructions=template.payment_instructions,
        footer=template.footer,
        logo_file_url=logo_file_url,
        logo_url=logo_url,
    )
