"""Invoice creation (Settings > Invoice creation, and the background run behind it).

At the end of a run day in the practice's own time zone (``invoice_creation_due``) the
run makes one invoice per client for their uninvoiced items dated up to that day. With
Send automatically each is issued and emailed in the same transaction (invoice_create
issues it; invoice_email_queue queues the email invoice_send would); otherwise, or when
nobody on the record has an email address, it is left as a draft for the biller.

The rules the run keeps:

- An item invoiced by hand is no longer uninvoiced, so the run never takes it again.
- A client who got an invoice made by a person on the run's local day gets no invoice
  from the run ("If an invoice is manually created and daily invoice creation is enabled,
  an additional invoice won't be created"). Their items left uninvoiced wait for the next
  run day: the biller who invoiced them by hand that day chose what to bill.
- A client's invoice, its issue and (with Send automatically) its queued email commit
  together or not at all. The run writes up to RUN_BATCH_SIZE clients in one transaction
  and, when any one of them is refused, makes that batch again one client per
  transaction, so a refusal stays that client's alone. A client gets at most one invoice
  from the run of a day (``Invoice.creation_run_date``, unique per client and day). So a
  run killed at any point and run again, or run twice at once on two workers, makes
  exactly the invoices and emails of one run that was not interrupted.
- After a run that made something, the practice's owners get one summary email per run
  day (its email key names the practice and the day), of the day's figures whichever
  try made the invoices.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from clients.models import Client
from practice.actor import Actor
from practice.audit import audit_write, diff_fields
from practice.faults import checkpoint
from practice.mail import email_queue
from practice.models import InvoiceTemplate, Membership, Practice, Role, User
from practice.selectors import invoice_template_for

from ..models import BillingItem, Invoice, InvoiceCreationSetting
from .invoices import InvoiceBatch, invoice_create
from .sending import (
    InvoiceEmail,
    SendKind,
    client_recipients,
    invoice_emails_queue,
    invoice_recipients,
    invoice_send_defaults,
)

logger = logging.getLogger(__name__)

RUN_ACTOR = "invoice_creation"
# The constraint that gives a client at most one invoice from the run of a day.
ONE_PER_DAY = "invoice_one_per_client_and_run_day"
# Clients whose invoices the run makes in one transaction (see _run_batch).
RUN_BATCH_SIZE = 100
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Error messages a user sees (tests assert on them).
WEEKDAY_REQUIRED = "Choose the weekday invoices are created on."
CADENCE_UNKNOWN = "Choose how often invoices are created."
WEEKDAY_UNKNOWN = "Choose a weekday from the list."

SUMMARY_SUBJECT = "{count} invoice{plural} created for {practice}"


def invoice_creation_setting(practice: Practice) -> InvoiceCreationSetting:
    """The practice's setting, unsaved and Off when it has never chosen one."""
    found = InvoiceCreationSetting.objects.filter(practice=practice).first()
    return found or InvoiceCreationSetting(practice=practice)


def invoice_creation_setting_save(
    *, practice: Practice, actor: Actor | User, cadence: str, weekday: int | None, send_automatically: bool
) -> InvoiceCreationSetting:
    """Save Settings > Invoice creation, in one transaction with its audit row. The
    weekday is required for Weekly and dropped for the other cadences."""
    errors: dict[str, str] = {}
    if cadence not in InvoiceCreationSetting.Cadence.values:
        errors["cadence"] = CADENCE_UNKNOWN
    if cadence == InvoiceCreationSetting.Cadence.WEEKLY:
        if weekday is None:
            errors["weekday"] = WEEKDAY_REQUIRED
        elif not 0 <= weekday <= 6:
            errors["weekday"] = WEEKDAY_UNKNOWN
    else:
        weekday = None
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Practice.objects.select_for_update().get(pk=practice.pk)
        setting, _created = InvoiceCreationSetting.objects.select_for_update().get_or_create(practice=locked)
        before = _snapshot(setting)
        setting.cadence = cadence
        setting.weekday = weekday
        setting.send_automatically = send_automatically
        setting.full_clean()
        changes = diff_fields(before, _snapshot(setting))
        # Saved only when something changed: its updated_at says since when the schedule
        # holds, and the scheduler catches up no run day from before it (billing.jobs).
        if _created or changes:
            setting.save()
        if changes:
            audit_write(
                practice=locked,
                actor=actor,
                action="practice.invoice_creation_changed",
                obj=setting,
                changes=changes,
            )
    return setting


def _snapshot(setting: InvoiceCreationSetting) -> dict[str, Any]:
    return {
        "cadence": setting.cadence,
        "weekday": WEEKDAYS[setting.weekday] if setting.weekday is not None else None,
        "send_automatically": setting.send_automatically,
    }


def _is_run_day(setting: InvoiceCreationSetting, local_date: date) -> bool:
    cadence = setting.cadence
    if cadence == InvoiceCreationSetting.Cadence.DAILY:
        return True
    if cadence == InvoiceCreationSetting.Cadence.WEEKLY:
        return setting.weekday == local_date.weekday()
    if cadence == InvoiceCreationSetting.Cadence.MONTHLY:
        return local_date.day == 1
    return False


def invoice_creation_due(practice: Practice, local_date: date, setting: InvoiceCreationSetting | None = None) -> bool:
    """Whether the practice's setting (``setting`` when the caller has read it) makes
    ``local_date`` (a day in its own time zone) a run day: every day, its chosen weekday,
    or the 1st of the month; never when Off."""
    return _is_run_day(setting or invoice_creation_setting(practice), local_date)


def invoice_creation_next_day(practice: Practice, from_day: date) -> date | None:
    """The first run day on or after ``from_day`` (its run is at the local midnight that
    ends it); None when invoice creation is off."""
    setting = invoice_creation_setting(practice)
    for ahead in range(32):  # a monthly run day is at most 31 days away
        day = from_day + timedelta(days=ahead)
        if _is_run_day(setting, day):
            return day
    return None


def _local_day_bounds(practice: Practice, local_date: date) -> tuple[datetime, datetime]:
    tz = practice.tzinfo
    start = datetime.combine(local_date, time.min, tzinfo=tz)
    end = datetime.combine(local_date + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def _invoiced_by_hand(practice: Practice, client_ids: list[int], local_date: date) -> set[int]:
    """The clients among ``client_ids`` that a person invoiced on ``local_date`` (the
    run's invoices have no ``created_by``; credit invoices do not count)."""
    start, end = _local_day_bounds(practice, local_date)
    return set(
        Invoice.objects.filter(
            practice=practice,
            client_id__in=client_ids,
            kind=Invoice.Kind.INVOICE,
            created_by__isnull=False,
            created_at__gte=start,
            created_at__lt=end,
        ).values_list("client_id", flat=True)
    )


def invoice_creation_run(*, practice: Practice, local_date: date) -> dict[str, int]:
    """Run invoice creation for the practice's day ``local_date``: ``{}`` when the setting
    does not make it a run day; otherwise the day's figures ``{"clients", "invoices",
    "sent", "skipped"}``: the clients the run found with uninvoiced items up to that day,
    the invoices the run of that day has made, those of them issued and emailed (Send
    automatically, to clients or payers with an email address), and the clients skipped
    (invoiced by hand that day, or their items taken meanwhile).

    Without Send automatically, or when an invoice cannot be emailed (nobody on the record
    has an address), the invoice is left as a draft. Each client gets at most one invoice
    from the run of a day (``Invoice.creation_run_date``), so running it again for the same
    day, after a crash or on a second worker at once, makes only what is still missing:
    the invoices, emails and figures are those of one run."""
    setting = invoice_creation_setting(practice)
    if not _is_run_day(setting, local_date):
        return {}
    actor = Actor.system(RUN_ACTOR)
    ids_by_client: dict[int, list[int]] = {}
    for client_id, item_id in (
        BillingItem.objects.filter(practice=practice, invoice__isnull=True, date__lte=local_date)
        .order_by("client_id", "pk")
        .values_list("client_id", "pk")
    ):
        ids_by_client.setdefault(client_id, []).append(item_id)
    done = set(
        Invoice.objects.filter(practice=practice, creation_run_date=local_date).values_list("client_id", flat=True)
    )
    by_hand = _invoiced_by_hand(practice, [pk for pk in ids_by_client if pk not in done], local_date)
    clients = Client.objects.select_related("payer").in_bulk(
        [pk for pk in ids_by_client if pk not in by_hand and pk not in done]
    )
    skipped = len(by_hand)
    template = invoice_template_for(practice) if setting.send_automatically else None
    # A hand-made invoice of that day can appear only while the day lasts: for a day that
    # has ended (the scheduled run, after midnight) the read above is the last word; for
    # today (Run now) each client is checked again under its lock.
    day_open = local_date >= practice.local_today()
    ordered = sorted(clients)
    for first in range(0, len(ordered), RUN_BATCH_SIZE):
        chunk = [clients[pk] for pk in ordered[first : first + RUN_BATCH_SIZE]]
        sends = {client.pk: template is not None and bool(client_recipients(client)) for client in chunk}
        if _run_batch(practice, actor, chunk, ids_by_client, sends, local_date, template, day_open=day_open):
            continue
        for client in chunk:
            skipped += _run_client(
                practice, actor, client, ids_by_client[client.pk], sends[client.pk], local_date, template, day_open
            )
    # The day's figures come from its invoices, not from this call: a run killed after
    # some clients and run again reports, and emails the owner, the whole day.
    made = Invoice.objects.filter(practice=practice, creation_run_date=local_date).aggregate(
        invoices=Count("pk"), sent=Count("pk", filter=~Q(status=Invoice.Status.DRAFT))
    )
    counts = {
        "clients": len(ids_by_client.keys() | done),
        "invoices": made["invoices"],
        "sent": made["sent"],
        "skipped": skipped,
    }
    if counts["invoices"]:
        checkpoint("invoice_creation.before_summary")
        _summary_email(practice, local_date, counts)
        checkpoint("invoice_creation.after_summary")
    return counts


class _BatchRefused(Exception):
    """The batch cannot be written as a whole; its clients are made one by one."""


def _run_batch(
    practice: Practice,
    actor: Actor,
    chunk: list[Client],
    ids_by_client: dict[int, list[int]],
    sends: dict[int, bool],
    local_date: date,
    template: InvoiceTemplate | None,
    *,
    day_open: bool,
) -> bool:
    """Make the chunk's invoices in one transaction (InvoiceBatch: a dozen statements for
    all of them, not a dozen per client), issued and their emails queued with them. False,
    with nothing written, when any one of them is refused: an item taken meanwhile, a
    client invoiced by hand today, or another try of this day's run that got there first.
    The caller then makes them one client per transaction, where each refusal is that
    client's alone, so a batch changes the speed of a run, never what it makes."""
    batch = InvoiceBatch(practice=practice, actor=actor)
    try:
        for client in chunk:
            checkpoint("invoice_creation.before_client")
            # Queued only: nothing is read or written until the batch is
            invoice_create(
                practice=practice,
                client=client,
                actor=actor,
                item_ids=ids_by_client[client.pk],
                apply_credit=True,
                issue=sends[client.pk],
                creation_run_date=local_date,
                batch=batch,
            )
        with transaction.atomic():
            invoices = batch.write()
            # Checked under the locks the batch took (practice, then its clients), as for
            # one client below: a hand-made invoice committed before them wins.
            if day_open and _invoiced_by_hand(practice, [client.pk for client in chunk], local_date):
                raise _BatchRefused
            for _invoice in invoices:
                checkpoint("invoice_creation.invoice_created")
            to_send = [invoice for invoice in invoices if sends[invoice.client_id]]
            if to_send:
                assert template is not None
                _send(to_send, actor, local_date, template)
            for _invoice in invoices:
                checkpoint("invoice_creation.send_queued")
    except (_BatchRefused, ValidationError, IntegrityError):
        return False
    for _client in chunk:
        checkpoint("invoice_creation.after_client")
    return True


def _run_client(
    practice: Practice,
    actor: Actor,
    client: Client,
    item_ids: list[int],
    send: bool,
    local_date: date,
    template: InvoiceTemplate | None,
    day_open: bool,
) -> int:
    """Make one client's invoice of the run in its own transaction; 1 when the client is
    skipped (invoiced by hand that day, or their items taken meanwhile), else 0."""
    # Issued and emailed in the same transaction when it can be: nobody to email leaves
    # a draft for the biller, not an invoice issued unseen.
    checkpoint("invoice_creation.before_client")
    try:
        with transaction.atomic():
            invoice = invoice_create(
                practice=practice,
                client=client,
                actor=actor,
                item_ids=item_ids,
                apply_credit=True,
                issue=send,
                creation_run_date=local_date,
            )
            checkpoint("invoice_creation.invoice_created")
            # Checked under the locks invoice_create took (practice, then client, held
            # to the end of this transaction): a hand-made invoice committed before
            # them wins, and this one is rolled back; one made later waits for this.
            if day_open and _invoiced_by_hand(practice, [client.pk], local_date):
                raise ValidationError("Invoiced by hand today.", code="items_taken")
            if send:
                assert template is not None
                _send([invoice], actor, local_date, template)
            checkpoint("invoice_creation.send_queued")
    except IntegrityError as exc:
        if getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) != ONE_PER_DAY:
            raise
        return 0  # this day's run invoiced them already: another try, or another worker
    except ValidationError as exc:
        if _run_invoiced(practice, client.pk, local_date):
            return 0  # their items went on this day's run invoice, made by another worker
        if getattr(exc, "code", None) != "items_taken":
            logger.warning("Invoice creation skipped client %s of practice %s: %s", client.pk, practice.pk, exc)
        return 1
    checkpoint("invoice_creation.after_client")
    return 0


def _run_invoiced(practice: Practice, client_pk: int, local_date: date) -> bool:
    return Invoice.objects.filter(practice=practice, client_id=client_pk, creation_run_date=local_date).exists()


def _send(invoices: list[Invoice], actor: Actor, local_date: date, template: InvoiceTemplate) -> None:
    """Queue the emails of the invoices just issued, in the caller's transaction, which
    holds their clients' locks (Send automatically): what invoice_send does after its locks."""
    sends = []
    for invoice in invoices:
        defaults = invoice_send_defaults(invoice, SendKind.INVOICE)
        sends.append(
            InvoiceEmail(
                invoice=invoice,
                recipient=invoice_recipients(invoice)[0].choice,
                subject=defaults["subject"],
                message=defaults["message"],
                include_link=invoice.practice.online_payments_enabled,
            )
        )
    invoice_emails_queue(
        sends=sends,
        actor=actor,
        kind=SendKind.INVOICE,
        submission_key=f"auto-{local_date.isoformat()}",
        template=template,
    )


def _summary_email(practice: Practice, local_date: date, counts: dict[str, int]) -> None:
    """One summary email per owner and run day, of the day's figures: its key makes a run
    done again (after a crash, or the same day on another worker) send no second one."""
    count = counts["invoices"]
    owners = Membership.objects.filter(practice=practice, role=Role.OWNER, is_active=True, user__is_active=True)
    for membership in owners.select_related("user").order_by("pk"):
        if not membership.user.email:
            continue
        email_queue(
            key=f"invoice-creation-summary:{practice.pk}:{local_date.isoformat()}:{membership.user_id}",
            to=membership.user.email,
            subject=SUMMARY_SUBJECT.format(count=count, plural="" if count == 1 else "s", practice=practice.name),
            template="invoice_creation_summary",
            context={"practice_name": practice.name, "local_date": local_date, **counts},
            practice=practice,
        )
