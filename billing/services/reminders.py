"""Invoice reminders: Settings > Invoice reminders (the rules) and sending one reminder,
by a rule (the background job, through billing.selectors.reminders_due) or by hand (Send
reminder on the invoice page)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from practice.actor import Actor
from practice.audit import audit_write
from practice.dates import day_label
from practice.mail import email_queue
from practice.models import Practice, User
from practice.money import practice_money

from .. import locks
from ..models import Invoice, InvoiceReminder, ReminderRule
from ..payment_links import payment_link_url
from ..reminders import (
    MANUAL_MESSAGE,
    MANUAL_SUBJECT,
    RuleInput,
    fill_placeholders,
    rule_problems,
    timing_problems,
)
from ..selectors.reminders import invoice_under_dispute, reminder_recipient, reminders_due

logger = logging.getLogger(__name__)

RULE_GONE = "A reminder rule on this page no longer exists. Reload the page and try again."
REMINDER_NOT_OPEN = "Only an open invoice that still owes something can be reminded about."
REMINDER_NO_EMAIL = "There is no email address to send this reminder to: add one to the client or their payer."
REMINDER_RULE_OFF = "This reminder rule is turned off."
REMINDER_CLIENT_EXCLUDED = "This client is excluded from automatic invoice reminders."
REMINDER_DISPUTED = "A card payment of this invoice is under dispute: no automatic reminder until it is decided."

REMINDERS_JOB = "invoice_reminders"


class ReminderRulesInvalid(ValidationError):
    """The rules could not be saved: ``rows`` maps each refused rule's index in the list
    given to its field problems (billing.reminders messages). Nothing was written."""

    def __init__(self, rows: dict[int, dict[str, str]]) -> None:
        super().__init__([message for problems in rows.values() for message in problems.values()])
        self.rows = rows


def reminder_rules_save(*, practice: Practice, actor: Actor | User, rules: Sequence[RuleInput]) -> list[ReminderRule]:
    """Save Settings > Invoice reminders: each rule with a ``rule_id`` is updated, each
    without one is added; rules not listed are left as they are (a rule is turned off,
    not deleted, so the reminders sent from it keep their rule). All or nothing: one bad
    rule refuses the whole page with ReminderRulesInvalid."""
    rules = list(rules)
    problems = {index: found for index, rule in enumerate(rules) if (found := rule_problems(rule))}
    # Clashes are looked for among the rules that are otherwise right.
    checked = [(index, rule) for index, rule in enumerate(rules) if index not in problems]
    for position, clash in timing_problems([rule for _index, rule in checked]).items():
        problems[checked[position][0]] = clash
    if problems:
        raise ReminderRulesInvalid(problems)
    with transaction.atomic():
        # One editor at a time: the practice row orders concurrent saves of its rules.
        locks.lock_practice(practice)
        existing = {
            rule.pk: rule for rule in ReminderRule.objects.select_for_update().filter(practice=practice).order_by("pk")
        }
        listed = [rule.rule_id for rule in rules if rule.rule_id is not None]
        if any(rule_id not in existing for rule_id in listed) or len(set(listed)) != len(listed):
            raise ValidationError(RULE_GONE)
        # The rules not on the page still count when checking for clashes.
        others = [_as_input(rule) for pk, rule in existing.items() if pk not in listed]
        if timing_problems(rules + others):
            raise ValidationError(RULE_GONE)
        saved: list[ReminderRule] = []
        changes: list[str] = []
        for position, rule in enumerate(rules):
            row = existing[rule.rule_id] if rule.rule_id is not None else ReminderRule(practice=practice)
            before = _describe(row) if row.pk else None
            row.kind = rule.kind
            row.days = rule.days or 0
            row.repeat_times = rule.repeat_times
            row.enabled = rule.enabled
            row.subject = rule.subject.strip()
            row.message = rule.message.strip().replace("\r\n", "\n")
            row.position = position
            row.save()
            if before != _describe(row):
                changes.append(f"{'added' if before is None else 'changed'}: {_describe(row)}")
            saved.append(row)
        if changes:
            audit_write(practice=practice, actor=actor, action="reminder_rules.updated", changes={"rules": changes})
    return saved


def _as_input(rule: ReminderRule) -> RuleInput:
    return RuleInput(
        kind=rule.kind,
        days=rule.days,
        repeat_times=rule.repeat_times,
        enabled=rule.enabled,
        subject=rule.subject,
        message=rule.message,
        rule_id=rule.pk,
    )


def _describe(rule: ReminderRule) -> str:
    times = f" x{rule.repeat_times}" if rule.repeat_times else ""
    state = "on" if rule.enabled else "off"
    return f"{rule.kind} {rule.days}{times} {state} {rule.subject!r} ({len(rule.message)} chars)"


def reminder_values(invoice: Invoice) -> dict[str, str]:
    """What the placeholders stand for in a reminder about ``invoice``."""
    practice = invoice.practice
    return {
        "client_name": invoice.bill_to_name or invoice.client.full_name,
        "invoice_number": invoice.number or "",
        "amount_due": practice_money(practice, invoice.balance, currency=invoice.currency),
        "due_date": day_label(invoice.due_date) if invoice.due_date else "",
        "practice_name": practice.name,
    }


def invoice_reminder_send(
    *,
    invoice: Invoice,
    rule: ReminderRule | None,
    occurrence: int | None = None,
    actor: Actor | User,
    payment_link: str = "",
) -> InvoiceReminder:
    """Record and email one reminder about ``invoice``, in one transaction.

    With a ``rule`` (the background job, from ``reminders_due``): its ``occurrence``-th
    sending; asking again for the same (invoice, rule, occurrence) returns the reminder
    already recorded and emails nothing more (a unique constraint holds this under
    concurrency too). Without a rule (Send reminder on the invoice page): the next hand
    sending; the page's one-time submission key keeps a double click to one.

    Refused (ValidationError) when the invoice no longer owes anything or is not open,
    when there is no address to send to, and for a rule that is off, a client excluded
    from reminders or an invoice with a card payment under an open dispute (a hand send is
    a person's decision and goes to an excluded client or a disputed invoice).
    ``payment_link`` is put in the email when given (the payment links work fills it).
    """
    if rule is not None:
        if rule.practice_id != invoice.practice_id:
            raise ValueError("The rule belongs to another practice.")
        if occurrence is None or occurrence < 1:
            raise ValueError("A rule's reminder needs its occurrence (1 or more).")
    actor = Actor.coerce(actor)
    with transaction.atomic():
        # Lock order (billing.locks): the invoice; concurrent sends of it queue here.
        locked = locks.lock_invoices([invoice.pk])[invoice.pk]
        if rule is not None:
            assert occurrence is not None  # checked above
            already = InvoiceReminder.objects.filter(invoice=locked, rule=rule, occurrence=occurrence).first()
            if already is not None:
                return already
            rule = ReminderRule.objects.get(pk=rule.pk)
            if not rule.enabled:
                raise ValidationError(REMINDER_RULE_OFF)
            if locked.client.reminders_excluded:
                raise ValidationError(REMINDER_CLIENT_EXCLUDED)
            if invoice_under_dispute(locked):
                raise ValidationError(REMINDER_DISPUTED)
        if not (locked.kind == Invoice.Kind.INVOICE and locked.status == Invoice.Status.OPEN and locked.balance > 0):
            raise ValidationError(REMINDER_NOT_OPEN)
        to = reminder_recipient(locked)
        if not to:
            raise ValidationError(REMINDER_NO_EMAIL)
        if rule is None:
            last = InvoiceReminder.objects.filter(invoice=locked, rule__isnull=True).aggregate(n=Max("occurrence"))
            occurrence = (last["n"] or 0) + 1
        assert occurrence is not None
        try:
            with transaction.atomic():
                reminder = InvoiceReminder.objects.create(
                    practice=locked.practice,
                    invoice=locked,
                    rule=rule,
                    occurrence=occurrence,
                    to=to,
                    actor_label=actor.label,
                )
        except IntegrityError:  # pragma: no cover - the invoice lock serialises senders
            return InvoiceReminder.objects.get(invoice=locked, rule=rule, occurrence=occurrence)
        values = reminder_values(locked)
        subject, message = (rule.subject, rule.message) if rule is not None else (MANUAL_SUBJECT, MANUAL_MESSAGE)
        reminder.email = email_queue(
            key=f"invoice-reminder:{reminder.pk}",
            to=to,
            subject=fill_placeholders(subject, values),
            template="invoice_reminder",
            context={
                "message": fill_placeholders(message, values),
                "invoice": locked,
                "payment_link": payment_link,
            },
            practice=locked.practice,
            about=locked,
        )
        reminder.save(update_fields=["email"])
        audit_write(
            practice=locked.practice,
            actor=actor,
            action="invoice.reminder_sent",
            obj=locked,
            changes={"to": to, "rule": rule.pk if rule else None, "occurrence": occurrence},
        )
    return reminder


@dataclass
class RemindersOutcome:
    """What one day's reminders run did: ``sent``; ``skipped`` (refused when sent: the
    invoice paid, the rule turned off or the client excluded meanwhile, a dispute opened);
    ``failed``, with each failure's invoice and error in ``errors``."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {"sent": self.sent, "skipped": self.skipped, "failed": self.failed}


def invoice_reminders_send_due(*, practice: Practice, local_date: date) -> RemindersOutcome:
    """Send every reminder the practice's rules send on its local day ``local_date``
    (``reminders_due``): the daily job. Each reminder is its own transaction, so one that
    fails (its email cannot be written, say) stops none of the others; running the day
    again sends only what is left, since a reminder sent is never listed again and the
    (invoice, rule, occurrence) unique constraint holds under concurrency. The email
    carries the invoice's payment link when the practice takes payment online."""
    actor = Actor.system(REMINDERS_JOB)
    outcome = RemindersOutcome()
    for invoice, rule, occurrence in reminders_due(practice, local_date):
        try:
            invoice_reminder_send(
                invoice=invoice,
                rule=rule,
                occurrence=occurrence,
                actor=actor,
                payment_link=payment_link_url(invoice) if practice.online_payments_enabled else "",
            )
        except ValidationError:
            outcome.skipped += 1
        except Exception as exc:  # one invoice's failure is recorded; the others still go
            logger.exception("Reminder %s/%s of invoice %s failed", rule.pk, occurrence, invoice.pk)
            outcome.failed += 1
            outcome.errors.append(f"{invoice.number}: {type(exc).__name__}: {exc}")
        else:
            outcome.sent += 1
    return outcome
