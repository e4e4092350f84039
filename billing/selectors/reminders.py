"""Reads of invoice reminders: which are due on a day (for the background job), a
practice's rules (for the settings page) and what was sent about an invoice."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, Q

from practice.models import Practice

from .. import reminders
from ..models import Invoice, InvoiceReminder, Payment, PaymentAllocation, ReminderRule


def reminder_rules(practice: Practice) -> list[ReminderRule]:
    return list(ReminderRule.objects.filter(practice=practice).order_by("position", "pk"))


def reminder_recipient(invoice: Invoice) -> str:
    """Where a reminder about ``invoice`` goes: its bill-to address, else the client's
    (or their payer's) billing address; "" when there is none."""
    return invoice.bill_to_email or invoice.client.billing_email


def under_dispute() -> Exists:
    """An invoice paid in part by a card payment whose dispute is open: the cardholder's
    bank holds that money until it decides, so the practice does not chase the rest
    meanwhile. (Billing keeps the dispute's state on the payment; the payments app reports
    it through billing.services.disputes.)"""
    return Exists(
        PaymentAllocation.objects.filter(invoice=OuterRef("pk"), payment__dispute_status=Payment.DisputeStatus.OPEN)
    )


def invoice_under_dispute(invoice: Invoice) -> bool:
    return PaymentAllocation.objects.filter(
        invoice=invoice, payment__dispute_status=Payment.DisputeStatus.OPEN
    ).exists()


def remindable_invoices(practice: Practice) -> Q:
    """The invoices a reminder may be about: open invoices (not credit invoices) that still
    owe something and have no card payment under an open dispute. Paid, written-off, void
    and draft invoices never get one."""
    return Q(practice=practice, kind=Invoice.Kind.INVOICE, status=Invoice.Status.OPEN, balance__gt=0) & ~Q(
        under_dispute()
    )


def reminders_due(practice: Practice, local_date: date) -> list[tuple[Invoice, ReminderRule, int]]:
    """(invoice, rule, occurrence) for every reminder the practice's enabled rules send on
    its local day ``local_date`` and that has not been sent yet.

    Only open invoices with a balance and no open dispute, of clients not excluded from
    reminders, with an email address to send to, issued before ``local_date`` (an invoice is not chased on
    the day it goes out). Matching is by exact day: a run for a day finds that day's
    reminders whenever it runs, so a missed day is caught up by running it later; a
    reminder already sent (an InvoiceReminder row) is never listed again."""
    rules = [rule for rule in reminder_rules(practice) if rule.enabled]
    if not rules:
        return []
    after_days = [rule.days for rule in rules if rule.kind == ReminderRule.Kind.AFTER_DUE]
    repeat_after = max(after_days, default=0)
    wanted: dict[date, list[tuple[ReminderRule, int]]] = {}
    for rule in rules:
        dates = reminders.rule_due_dates(rule.kind, rule.days, rule.repeat_times, local_date, repeat_after=repeat_after)
        for due, occurrence in dates.items():
            wanted.setdefault(due, []).append((rule, occurrence))
    invoices = list(
        Invoice.objects.filter(remindable_invoices(practice), due_date__in=list(wanted), issue_date__lt=local_date)
        .filter(client__reminders_excluded=False)
        .select_related("client__payer", "practice")
        .order_by("due_date", "pk")
    )
    if not invoices:
        return []
    sent = set(
        InvoiceReminder.objects.filter(invoice__in=invoices, rule__in=rules).values_list(
            "invoice_id", "rule_id", "occurrence"
        )
    )
    due_now: list[tuple[Invoice, ReminderRule, int]] = []
    for invoice in invoices:
        if not reminder_recipient(invoice):
            continue
        assert invoice.due_date is not None  # filtered on above
        for rule, occurrence in wanted[invoice.due_date]:
            if (invoice.pk, rule.pk, occurrence) not in sent:
                due_now.append((invoice, rule, occurrence))
    return due_now


def invoice_reminders_sent(invoice: Invoice) -> list[InvoiceReminder]:
    """What the invoice page lists: each reminder, newest first, with its email's status."""
    return list(InvoiceReminder.objects.filter(invoice=invoice).select_related("rule", "email").order_by("-pk"))
