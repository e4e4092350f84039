"""Invoice reminders: the rules' input checks, their timing and their placeholders.

Pure functions, no queries: the form and the service (billing.services.reminders) check a
rule with ``rule_problems``; the selector (billing.selectors.reminders) asks
``rule_due_dates`` which due dates a rule reminds about on a day; the email is written
with ``fill_placeholders``.

Timing, counted in the practice's local days from the invoice's due date:

- ``before_due`` N: N days before it (N >= 1);
- ``on_due``: on the day itself;
- ``after_due`` N: N days after it (N >= 1);
- ``repeat`` every N days, up to M times, after the last ``after_due`` reminder (or after
  the due date when no ``after_due`` rule is on): with "7 days after" that is 14, 21, 28
  days after it for N = 7, M = 3. The k-th is occurrence k; the other kinds have only
  occurrence 1. A practice has at most one repeating rule on.

A message is plain text with placeholders in braces. Only the names in ``PLACEHOLDERS``
are filled; any other text in braces is refused when the rule is saved, so a typo such
as ``{amount}`` is found by the person who typed it, not by the client who reads it.
Filling is a plain substitution (never ``str.format``), so no template can reach
attributes of the objects behind the values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# name -> what it stands for (the settings page lists them).
PLACEHOLDERS: dict[str, str] = {
    "client_name": "the client's name",
    "invoice_number": "the invoice number",
    "amount_due": "what the invoice still owes, e.g. $120.00",
    "due_date": "the invoice's due date",
    "practice_name": "your practice's name",
}
BRACED = re.compile(r"\{([^{}\n]*)\}")

KIND_BEFORE_DUE = "before_due"
KIND_ON_DUE = "on_due"
KIND_AFTER_DUE = "after_due"
KIND_REPEAT = "repeat"
KINDS_WITH_DAYS = (KIND_BEFORE_DUE, KIND_AFTER_DUE, KIND_REPEAT)

MAX_DAYS = 365
MAX_REPEATS = 12
SUBJECT_MAX_LENGTH = 200
MESSAGE_MAX_LENGTH = 5000

# What a person reads when a rule is refused (the tests assert on these).
DAYS_REQUIRED = "Enter a number of days."
DAYS_RANGE = f"Enter a whole number of days from 1 to {MAX_DAYS}."
DAYS_NOT_ON_DUE = "A reminder on the due date takes no number of days: leave it empty."
REPEATS_REQUIRED = "Enter how many times to repeat."
REPEATS_RANGE = f"Enter a number of times from 1 to {MAX_REPEATS}."
REPEATS_ONLY_FOR_REPEAT = "Only a repeating reminder takes a number of times: leave it empty."
SUBJECT_REQUIRED = "Enter a subject."
SUBJECT_TOO_LONG = f"Keep the subject to {SUBJECT_MAX_LENGTH} characters."
MESSAGE_REQUIRED = "Enter a message."
MESSAGE_TOO_LONG = f"Keep the message to {MESSAGE_MAX_LENGTH} characters."
UNKNOWN_PLACEHOLDER = "Unknown placeholder {found}. Use one of: {known}."
SAME_TIMING = "Another reminder is already sent on this day: change its days or turn one off."
ONE_REPEAT = "Only one repeating reminder can be on: turn the other off first."
KIND_UNKNOWN = "Choose when the reminder is sent."


@dataclass(frozen=True)
class RuleInput:
    """One rule as the settings page posts it. ``rule_id`` is None for a new rule."""

    kind: str
    days: int | None
    repeat_times: int | None
    enabled: bool
    subject: str
    message: str
    rule_id: int | None = None


def known_placeholders() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def unknown_placeholders(text: str) -> list[str]:
    """The braced names in ``text`` that are not placeholders, each once, as written."""
    found: list[str] = []
    for match in BRACED.finditer(text):
        if match.group(1) not in PLACEHOLDERS and match.group(0) not in found:
            found.append(match.group(0))
    return found


def _placeholder_problem(text: str) -> str | None:
    unknown = unknown_placeholders(text)
    if not unknown:
        return None
    return UNKNOWN_PLACEHOLDER.format(found=", ".join(unknown), known=known_placeholders())


def rule_problems(rule: RuleInput) -> dict[str, str]:
    """Field -> what is wrong with ``rule``; empty when it may be saved."""
    problems: dict[str, str] = {}
    if rule.kind not in (KIND_BEFORE_DUE, KIND_ON_DUE, KIND_AFTER_DUE, KIND_REPEAT):
        problems["kind"] = KIND_UNKNOWN
    elif rule.kind == KIND_ON_DUE:
        if rule.days not in (None, 0):
            problems["days"] = DAYS_NOT_ON_DUE
    elif rule.days is None:
        problems["days"] = DAYS_REQUIRED
    elif not 1 <= rule.days <= MAX_DAYS:
        problems["days"] = DAYS_RANGE
    if rule.kind == KIND_REPEAT:
        if rule.repeat_times is None:
            problems["repeat_times"] = REPEATS_REQUIRED
        elif not 1 <= rule.repeat_times <= MAX_REPEATS:
            problems["repeat_times"] = REPEATS_RANGE
    elif rule.repeat_times is not None:
        problems["repeat_times"] = REPEATS_ONLY_FOR_REPEAT
    subject = rule.subject.strip()
    if not subject:
        problems["subject"] = SUBJECT_REQUIRED
    elif len(subject) > SUBJECT_MAX_LENGTH:
        problems["subject"] = SUBJECT_TOO_LONG
    elif problem := _placeholder_problem(subject):
        problems["subject"] = problem
    message = rule.message.strip()
    if not message:
        problems["message"] = MESSAGE_REQUIRED
    elif len(message) > MESSAGE_MAX_LENGTH:
        problems["message"] = MESSAGE_TOO_LONG
    elif problem := _placeholder_problem(message):
        problems["message"] = problem
    return problems


def timing_problems(rules: list[RuleInput]) -> dict[int, dict[str, str]]:
    """Index in ``rules`` -> field problems of rules that clash with an earlier one: two
    enabled rules on the same day from the due date, or a second enabled repeating rule."""
    problems: dict[int, dict[str, str]] = {}
    seen: set[int] = set()
    repeat_seen = False
    for index, rule in enumerate(rules):
        if not rule.enabled:
            continue
        if rule.kind == KIND_REPEAT:
            if repeat_seen:
                problems[index] = {"kind": ONE_REPEAT}
            repeat_seen = True
            continue
        offset = -(rule.days or 0) if rule.kind == KIND_BEFORE_DUE else (rule.days or 0)
        if offset in seen:
            problems[index] = {"days" if rule.kind != KIND_ON_DUE else "kind": SAME_TIMING}
        seen.add(offset)
    return problems


def rule_due_dates(
    kind: str, days: int, repeat_times: int | None, on: date, *, repeat_after: int = 0
) -> dict[date, int]:
    """Due date -> occurrence: the invoices a rule reminds about on the local day ``on``
    are those due on one of these dates. ``repeat_after`` is the days after the due date
    a repeating rule counts from (the last after-due reminder's)."""
    if kind == KIND_BEFORE_DUE:
        return {on + timedelta(days=days): 1}
    if kind == KIND_ON_DUE:
        return {on: 1}
    if kind == KIND_AFTER_DUE:
        return {on - timedelta(days=days): 1}
    if kind == KIND_REPEAT:
        return {on - timedelta(days=repeat_after + days * k): k for k in range(1, (repeat_times or 0) + 1)}
    return {}


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """``text`` with each known placeholder replaced by its value; other braces are left."""
    return BRACED.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def default_rules() -> list[RuleInput]:
    """What the settings page offers a practice that has no rules yet."""
    return [
        RuleInput(
            kind=KIND_BEFORE_DUE,
            days=3,
            repeat_times=None,
            enabled=True,
            subject="Invoice {invoice_number} is due on {due_date}",
            message="Hello {client_name},\n\nA friendly reminder that invoice {invoice_number} for "
            "{amount_due} is due on {due_date}.\n\nThank you,\n{practice_name}",
        ),
        RuleInput(
            kind=KIND_ON_DUE,
            days=None,
            repeat_times=None,
            enabled=True,
            subject="Invoice {invoice_number} is due today",
            message="Hello {client_name},\n\nInvoice {invoice_number} for {amount_due} is due today, "
            "{due_date}.\n\nThank you,\n{practice_name}",
        ),
        RuleInput(
            kind=KIND_AFTER_DUE,
            days=7,
            repeat_times=None,
            enabled=True,
            subject="Invoice {invoice_number} is overdue",
            message="Hello {client_name},\n\nInvoice {invoice_number} was due on {due_date} and "
            "{amount_due} is still owing. If you have paid it already, thank you, and please "
            "ignore this message.\n\n{practice_name}",
        ),
        RuleInput(
            kind=KIND_REPEAT,
            days=7,
            repeat_times=3,
            enabled=True,
            subject="Reminder: invoice {invoice_number} is overdue",
            message="Hello {client_name},\n\nInvoice {invoice_number} was due on {due_date} and "
            "{amount_due} is still owing. Please get in touch if you have a question about it."
            "\n\n{practice_name}",
        ),
    ]


# A reminder sent by hand from the invoice page ("Send reminder").
MANUAL_SUBJECT = "Reminder: invoice {invoice_number}"
MANUAL_MESSAGE = (
    "Hello {client_name},\n\nThis is a reminder that invoice {invoice_number} has {amount_due} "
    "still owing (due {due_date}).\n\nThank you,\n{practice_name}"
)
