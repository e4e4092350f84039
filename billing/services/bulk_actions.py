"""Acting on many invoices at once from the Billing page's Invoices tab: issue drafts,
mark as paid, void.

Each invoice goes through the same service as its own page's button, in its own
transaction, so one refusal (an invoice paid meanwhile, a void the rules forbid) is
collected with its reason and the others still go through. Nothing is half done: an
invoice is either acted on completely or left as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError

from practice.actor import Actor
from practice.models import Membership, Practice, User

from ..models import Invoice
from ..selectors.invoices import invoices_visible
from .invoices import invoice_issue, invoice_void
from .payments import invoice_mark_paid

BULK_ISSUE = "issue"
BULK_MARK_PAID = "mark_paid"
BULK_VOID = "void"
BULK_ACTIONS = {BULK_ISSUE: "Issued", BULK_MARK_PAID: "Marked as paid", BULK_VOID: "Voided"}
BULK_LIMIT = 50
BULK_NOT_FOUND = "It is not an invoice of this practice any more."
BULK_NOT_DRAFT = "It is not a draft."


@dataclass
class BulkOutcome:
    """What a bulk action did: the invoices acted on, and each refused one with why."""

    action: str
    done: list[Invoice] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def _label(invoice: Invoice) -> str:
    return invoice.number or f"Draft {invoice.pk}"


def invoices_act_in_bulk(
    *,
    practice: Practice,
    membership: Membership,
    actor: Actor | User,
    action: str,
    invoice_ids: Iterable[int],
    method: str = "",
    received_on: date | None = None,
    reason: str = "",
) -> BulkOutcome:
    """Apply ``action`` to each chosen invoice, one transaction each, oldest number first."""
    if action not in BULK_ACTIONS:
        raise ValueError(f"Unknown bulk action {action!r}")
    ids = sorted(set(invoice_ids))[:BULK_LIMIT]
    invoices = {
        i.pk: i
        for i in invoices_visible(practice, membership)
        .filter(kind=Invoice.Kind.INVOICE, pk__in=ids)
        .select_related("practice", "client", "client__practice")
    }
    act: Callable[[Invoice], object]
    if action == BULK_ISSUE:

        def act(invoice: Invoice) -> object:
            if invoice.status != Invoice.Status.DRAFT:
                raise ValidationError(BULK_NOT_DRAFT)
            return invoice_issue(invoice=invoice, actor=actor)

    elif action == BULK_MARK_PAID:

        def act(invoice: Invoice) -> object:
            return invoice_mark_paid(invoice=invoice, actor=actor, method=method, received_on=received_on)

    else:

        def act(invoice: Invoice) -> object:
            return invoice_void(invoice=invoice, actor=actor, reason=reason)

    outcome = BulkOutcome(action=action)
    for pk in ids:
        invoice = invoices.get(pk)
        if invoice is None:
            outcome.refused.append((f"#{pk}", BULK_NOT_FOUND))
            continue
        label = _label(invoice)
        try:
            act(invoice)
        except ValidationError as exc:
            outcome.refused.append((label, " ".join(exc.messages)))
            continue
        invoice.refresh_from_db(fields=["number", "status"])
        outcome.done.append(invoice)
    return outcome
