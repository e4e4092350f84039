"""A superbill: what a client sends to their insurer to be reimbursed for sessions they
paid for themselves. The practice and each rendering clinician (licence, NPI, tax id),
the client (date of birth, ICD-10 diagnosis codes), and one line per service delivered in
the period: date and place of service, the service's code and procedure (CPT) code,
units, fee and what the client has paid of it.

Lines come from the client's issued invoices (a draft or void invoice bills nothing; a
credit invoice is not a service), by the date of service. What was paid of an invoice
(payments and credit applied, not a write-off) is set against its lines in their order,
so the lines' Paid adds up to what the invoice has received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.text import slugify

from clients.models import Client
from practice.dates import day_label
from practice.models import InvoiceTemplate, Membership, Practice
from practice.money import practice_money

from ..models import Invoice, InvoiceLine
from .letterhead import Letterhead, letterhead_of

ZERO = Decimal("0")


@dataclass(frozen=True)
class SuperbillProvider:
    name: str
    licence_number: str
    npi: str
    tax_id: str


@dataclass(frozen=True)
class SuperbillLine:
    date: str
    place: str
    provider: str
    description: str
    service_code: str
    procedure_code: str
    units: str
    fee: str
    paid: str


@dataclass(frozen=True)
class Superbill:
    letterhead: Letterhead
    client_name: str
    client_dob: str
    client_address: str
    diagnosis_codes: list[str]
    period: str
    issued: str
    providers: list[SuperbillProvider]
    lines: list[SuperbillLine]
    total_fee: str
    total_paid: str
    fee_amount: Decimal
    paid_amount: Decimal
    filename: str


def _paid_by_line(invoice: Invoice, lines: list[InvoiceLine]) -> dict[int, Decimal]:
    received = invoice.amount_paid + invoice.credit_applied
    paid: dict[int, Decimal] = {}
    for line in lines:
        share = min(max(line.amount, ZERO), received)
        paid[line.pk] = share
        received -= share
    return paid


def client_superbill(
    practice: Practice, client: Client, start: date, end: date, template: InvoiceTemplate
) -> Superbill:
    """The superbill of ``client``'s services from ``start`` to ``end`` (both included);
    the period is assumed checked (billing.documents.statement.period_check)."""
    invoices = Invoice.objects.filter(
        practice=practice,
        client=client,
        kind=Invoice.Kind.INVOICE,
        status__in=[Invoice.Status.OPEN, Invoice.Status.PAID],
        lines__active=True,
        lines__date__range=(start, end),
    ).distinct()
    all_lines = (
        InvoiceLine.objects.filter(invoice__in=invoices, active=True)
        .select_related("invoice", "service", "billing_item__appointment__clinician")
        .order_by("invoice_id", "position", "id")
    )
    paid: dict[int, Decimal] = {}
    by_invoice: dict[int, list[InvoiceLine]] = {}
    for line in all_lines:
        by_invoice.setdefault(line.invoice_id, []).append(line)
    for lines in by_invoice.values():
        paid.update(_paid_by_line(lines[0].invoice, lines))
    chosen = sorted(
        (line for lines in by_invoice.values() for line in lines if line.date and start <= line.date <= end),
        key=lambda line: (line.date, line.invoice_id, line.position, line.pk),
    )
    clinician_ids = {
        line.billing_item.appointment.clinician_id
        for line in chosen
        if line.billing_item is not None and line.billing_item.appointment is not None
    }
    memberships = {
        m.user_id: m
        for m in Membership.objects.filter(practice=practice, user_id__in=clinician_ids).select_related("user")
    }

    def money(amount: Decimal) -> str:
        return practice_money(practice, amount)

    out: list[SuperbillLine] = []
    for line in chosen:
        appointment = line.billing_item.appointment if line.billing_item is not None else None
        clinician = memberships.get(appointment.clinician_id) if appointment is not None else None
        out.append(
            SuperbillLine(
                date=day_label(line.date),
                place=appointment.get_location_display() if appointment is not None else "",
                provider=(clinician.user.get_full_name() or clinician.user.email) if clinician else "",
                description=line.description,
                service_code=line.service.code if line.service else "",
                procedure_code=line.service.procedure_code if line.service else "",
                units=format(line.units.normalize(), "f"),
                fee=money(line.amount),
                paid=money(paid.get(line.pk, ZERO)),
            )
        )
    fee_amount = sum((line.amount for line in chosen), ZERO)
    paid_amount = sum((paid.get(line.pk, ZERO) for line in chosen), ZERO)
    providers = [
        SuperbillProvider(
            name=m.user.get_full_name() or m.user.email, licence_number=m.licence_number, npi=m.npi, tax_id=m.tax_id
        )
        for m in sorted(memberships.values(), key=lambda m: (m.user.last_name, m.user.first_name, m.pk))
    ]
    slug = slugify(f"{client.last_name} {client.first_name}") or "client"
    return Superbill(
        letterhead=letterhead_of(template),
        client_name=client.full_name,
        client_dob=day_label(client.date_of_birth) if client.date_of_birth else "",
        client_address=client.address,
        diagnosis_codes=[code for code in client.diagnosis_codes.split(", ") if code],
        period=f"{day_label(start)} to {day_label(end)}",
        issued=day_label(practice.local_today()),
        providers=providers,
        lines=out,
        total_fee=money(fee_amount),
        total_paid=money(paid_amount),
        fee_amount=fee_amount,
        paid_amount=paid_amount,
        filename=f"superbill-{slug}-{start.isoformat()}-{end.isoformat()}.pdf",
    )
