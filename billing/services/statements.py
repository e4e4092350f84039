"""Sending a client their statement: one email to the client's or their payer's address,
with the statement's PDF attached (rendered now, so the email carries the figures the
biller saw), queued through practice.mail after the transaction commits."""

from __future__ import annotations

import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from clients.models import Client
from practice.actor import Actor
from practice.audit import audit_write
from practice.mail import Attachment, email_queue
from practice.models import InvoiceTemplate, OutgoingEmail, User

from ..documents.statement import client_statement, period_check

STATEMENT_NO_EMAIL = "Add an email address to the client or their payer to send a statement."
STATEMENT_RECIPIENT_UNKNOWN = "Send the statement to the client's or the payer's email address."


def statement_recipients(client: Client) -> list[tuple[str, str]]:
    """(address, label) of whom a statement may go to: the client and their payer, each
    when they have an email address."""
    recipients: list[tuple[str, str]] = []
    if client.email:
        recipients.append((client.email, f"{client.full_name} (client)"))
    payer = client.payer if client.payer_id else None
    if payer is not None and payer.email and payer.email != client.email:
        recipients.append((payer.email, f"{payer.first_name} {payer.last_name} (payer)"))
    return recipients


def statement_send(
    *,
    client: Client,
    actor: Actor | User,
    template: InvoiceTemplate,
    start: date,
    end: date,
    to: str,
    send_key: uuid.UUID,
) -> OutgoingEmail:
    """Queue the statement of ``client`` for ``start``..``end`` to ``to``. ``send_key`` names
    this send (the form's): a second submission of the same form queues nothing more."""
    from ..documents.pdf import page_pdf

    practice = client.practice
    period_check(start, end, today=practice.local_today())
    recipients = [address for address, _label in statement_recipients(client)]
    if not recipients:
        raise ValidationError(STATEMENT_NO_EMAIL)
    if to not in recipients:
        raise ValidationError({"to": STATEMENT_RECIPIENT_UNKNOWN})
    key = f"statement-sent:{client.pk}:{send_key}"
    already = OutgoingEmail.objects.filter(key=key).first()
    if already is not None:  # the same form posted again: that send, nothing more
        return already
    statement = client_statement(practice, client, start, end, template)
    pdf = page_pdf("billing/documents/statement.html", {"doc": statement})
    with transaction.atomic():
        # Two posts of the same form at once: the second waits here, then finds the first's.
        Client.objects.select_for_update(of=("self",)).filter(pk=client.pk).first()
        already = OutgoingEmail.objects.filter(key=key).first()
        if already is not None:
            return already
        email = email_queue(
            key=key,
            to=to,
            subject=f"Your statement from {template.issuer_name}, {statement.period}",
            template="statement",
            context={"statement": statement, "practice_name": template.issuer_name},
            practice=practice,
            about=client,
            attachments=[Attachment(filename=statement.filename, content=pdf, content_type="application/pdf")],
        )
        audit_write(
            practice=practice,
            actor=actor,
            action="client.statement_sent",
            obj=client,
            changes={"to": to, "period": [start.isoformat(), end.isoformat()]},
        )
    return email
