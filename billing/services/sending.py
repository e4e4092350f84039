"""Sending an invoice by email: Send (the invoice, its PDF attached) and Send payment link
(the link alone), and Retry of a send the mail server refused.

Each send is one OutgoingEmail row about the invoice (practice.mail), queued inside the
transaction that issues a draft first, so a draft is never emailed unissued and an issue
that fails sends nothing. The PDF is rendered by the worker when the email goes out
(the ``billing.invoice_pdf`` renderer, registered in BillingConfig.ready), so it shows the
invoice as it is then. The row's key comes from the form's one-time submission key:
a double click queues one email.

Whether the email offers to pay online or says how to pay by hand follows the practice's
``online_payments_enabled`` (the payments issue turns it on once a payment account is
connected).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction

from clients.models import Client
from practice import selectors as practice_selectors
from practice.actor import Actor
from practice.audit import audit_row, audit_write, audit_write_many
from practice.dates import day_label
from practice.mail import QueuedEmail, RenderedAttachment, email_queue_many, outgoing_email_retry
from practice.models import InvoiceTemplate, OutgoingEmail, User
from practice.money import practice_money

from .. import locks
from ..models import Invoice
from ..payment_links import payment_link_url
from .invoices import invoice_issue

INVOICE_PDF_RENDERER = "billing.invoice_pdf"
NO_EMAIL = "{name} has no email address{payer}, so the invoice cannot be emailed. Add one to their record first."
NOT_SENDABLE_VOID = "A void invoice cannot be sent."
NOT_SENDABLE_CREDIT = "A credit invoice is not sent from here: its credit is on the client's account."
NO_SUCH_RECIPIENT = "Choose who the email goes to."
NOT_RETRYABLE = "That email is not a failed send of this invoice: nothing was sent again."


class SendKind:
    INVOICE = "invoice"
    LINK = "link"


@dataclass(frozen=True)
class Recipient:
    """Someone an invoice may be emailed to: ``choice`` is what a form posts, never the
    address itself, so a tampered form cannot send to an address not on the record."""

    choice: str  # "client" or "payer"
    name: str
    email: str

    @property
    def label(self) -> str:
        role = "payer" if self.choice == "payer" else "client"
        return f"{self.name} ({role}) <{self.email}>"


def invoice_recipients(invoice: Invoice) -> list[Recipient]:
    """Who may receive the invoice, the payer first when the client has one with an email."""
    return client_recipients(invoice.client)


def client_recipients(client: Client) -> list[Recipient]:
    """Who may receive the client's invoices, the payer first when it has an email."""
    found = []
    payer = client.payer
    if payer is not None and payer.email:
        found.append(Recipient("payer", str(payer), payer.email))
    if client.email:
        found.append(Recipient("client", client.full_name, client.email))
    return found


def invoice_send_refusal(invoice: Invoice) -> str | None:
    """Why the invoice cannot be emailed now, or None when it can."""
    if invoice.status == Invoice.Status.VOID:
        return NOT_SENDABLE_VOID
    if invoice.is_credit:
        return NOT_SENDABLE_CREDIT
    if invoice.status == Invoice.Status.DRAFT and (refusal := invoice.issue_refusal()):
        return refusal
    if not invoice_recipients(invoice):
        payer = " (nor does their payer)" if invoice.client.payer_id else ""
        return NO_EMAIL.format(name=invoice.client.full_name, payer=payer)
    return None


def _figures(invoice: Invoice) -> dict[str, str]:
    practice = invoice.practice
    owed = invoice.balance if invoice.status != Invoice.Status.DRAFT else invoice.total
    return {
        "number": invoice.number or "",
        "amount_due": practice_money(practice, owed, currency=invoice.currency),
        "due_date": day_label(invoice.due_date) if invoice.due_date else "",
    }


def invoice_send_defaults(invoice: Invoice, kind: str) -> dict[str, str]:
    """The subject and message a Send form starts with. A draft has no number yet: its
    email names the number in the summary under the message, made once it is issued."""
    practice = invoice.practice
    figures = _figures(invoice)
    recipients = invoice_recipients(invoice)
    greeting = f"Hello {recipients[0].name.split(' ')[0]}," if recipients else "Hello,"
    number = f" {figures['number']}" if figures["number"] else ""
    due = f", due {figures['due_date']}" if figures["due_date"] else ""
    if kind == SendKind.LINK:
        subject = f"Payment link for invoice{number} from {practice.name}"
        body = f"here is the link to your invoice{number} for {figures['amount_due']}{due}."
    else:
        subject = f"Invoice{number} from {practice.name}"
        body = f"please find attached your invoice{number} for {figures['amount_due']}{due}."
    message = f"{greeting}\n\n{body[0].upper()}{body[1:]}\n\nThank you,\n{practice.name}"
    return {"subject": subject, "message": message}


def invoice_send(
    *,
    invoice: Invoice,
    actor: Actor | User,
    kind: str,
    recipient: str,
    subject: str,
    message: str,
    include_link: bool,
    submission_key: str,
) -> OutgoingEmail:
    """Queue the invoice's email (issuing a draft first), in one transaction.

    ``kind`` is SendKind.INVOICE (the PDF attached, the link when ``include_link``) or
    SendKind.LINK (the link alone). Raises ValidationError with a message a biller reads.
    ``actor`` is a person, or the invoice creation run (Send automatically).
    """
    actor = Actor.coerce(actor)
    with transaction.atomic():
        if invoice.status == Invoice.Status.DRAFT:
            invoice = invoice_issue(invoice=invoice, actor=actor)
        else:
            locks.lock_client(invoice.client)
            invoice = Invoice.objects.select_related("practice", "client", "client__payer").get(pk=invoice.pk)
        return invoice_email_queue(
            invoice=invoice,
            actor=actor,
            kind=kind,
            recipient=recipient,
            subject=subject,
            message=message,
            include_link=include_link,
            submission_key=submission_key,
        )


@dataclass(frozen=True)
class InvoiceEmail:
    """One invoice's email for ``invoice_emails_queue``: to whom, and its words."""

    invoice: Invoice
    recipient: str
    subject: str
    message: str
    include_link: bool


def invoice_email_queue(
    *,
    invoice: Invoice,
    actor: Actor,
    kind: str,
    recipient: str,
    subject: str,
    message: str,
    include_link: bool,
    submission_key: str,
    template: InvoiceTemplate | None = None,
) -> OutgoingEmail:
    """The part of ``invoice_send`` after its locks: queue the email of an issued invoice
    whose client's account the caller holds locked in its own transaction (the invoice
    read under that lock, with its practice, client and payer), with its audit row.
    ``template`` is the practice's invoice template when the caller has read it already."""
    send = InvoiceEmail(
        invoice=invoice, recipient=recipient, subject=subject, message=message, include_link=include_link
    )
    return invoice_emails_queue(sends=[send], actor=actor, kind=kind, submission_key=submission_key, template=template)[
        0
    ]


def invoice_emails_queue(
    *,
    sends: list[InvoiceEmail],
    actor: Actor,
    kind: str,
    submission_key: str,
    template: InvoiceTemplate | None = None,
) -> list[OutgoingEmail]:
    """``invoice_email_queue`` for several invoices of one practice at once (the invoice
    run's batch): their emails and audit rows in a few statements for all of them."""
    link_only = kind == SendKind.LINK
    queued: list[QueuedEmail] = []
    audited: list[tuple[str, bool]] = []
    for send in sends:
        invoice = send.invoice
        if refusal := invoice_send_refusal(invoice):
            raise ValidationError(refusal)
        chosen = next((r for r in invoice_recipients(invoice) if r.choice == send.recipient), None)
        if chosen is None:
            raise ValidationError(NO_SUCH_RECIPIENT)
        practice = invoice.practice
        if template is None:
            template = practice_selectors.invoice_template_for(practice)
        asks_for_money = invoice.status == Invoice.Status.OPEN and invoice.balance > 0
        context = {
            **_figures(invoice),
            "practice_name": practice.name,
            "message": send.message.strip(),
            "link": payment_link_url(invoice) if (send.include_link or link_only) else "",
            "online": practice.online_payments_enabled and asks_for_money,
            "asks_for_money": asks_for_money,
            "payment_instructions": template.payment_instructions if asks_for_money else "",
            "attached": not link_only,
        }
        attachments = (
            []
            if link_only
            else [
                RenderedAttachment(
                    filename=f"invoice-{invoice.number}.pdf".replace("/", "-").replace(" ", "-"),
                    renderer=INVOICE_PDF_RENDERER,
                    object_id=invoice.pk,
                )
            ]
        )
        audited.append((chosen.email, bool(context["link"])))
        queued.append(
            QueuedEmail(
                key=f"invoice-{kind}:{invoice.pk}:{submission_key}",
                to=chosen.email,
                subject=send.subject,
                template="invoice_link" if link_only else "invoice_sent",
                context=context,
                practice=practice,
                about=invoice,
                attachments=attachments,
                created_by=actor.user,
            )
        )
    emails = email_queue_many(queued)
    audit_write_many(
        [
            audit_row(
                practice=send.invoice.practice,
                action="invoice.link_sent" if link_only else "invoice.sent",
                actor=actor,
                obj=send.invoice,
                changes={"to": to, "email": email.pk, "link": link},
            )
            for send, email, (to, link) in zip(sends, emails, audited, strict=True)
        ]
    )
    return emails


def invoice_send_retry(*, invoice: Invoice, email_id: int, actor: User) -> OutgoingEmail:
    """Send a failed email about this invoice again now (after the address or the mail
    server was fixed). Only a failed send of this very invoice is retried."""
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(of=("self",))
            .filter(
                pk=email_id,
                practice=invoice.practice,
                about_type=ContentType.objects.get_for_model(Invoice),
                about_id=invoice.pk,
                status=OutgoingEmail.Status.FAILED,
            )
            .first()
        )
        if email is None:
            raise ValidationError(NOT_RETRYABLE)
        outgoing_email_retry(email=email)
        audit_write(
            practice=invoice.practice,
            action="invoice.send_retried",
            actor=actor,
            obj=invoice,
            changes={"email": email.pk},
        )
    return email
