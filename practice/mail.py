"""Email: queued in the caller's transaction, sent by a Celery task after commit.

A service that emails someone calls ``email_queue`` inside its own ``transaction.atomic``:
the email is rendered (HTML and plain text, with the transactional footer) and stored as
an ``OutgoingEmail`` row, and the ``practice.tasks.email_send`` task is enqueued with
``transaction.on_commit``. A rolled-back transaction leaves neither a row nor a send.

The task calls ``outgoing_email_send``: it locks the row, skips it when already sent,
sends it through Django's email backend (``EMAIL_URL``; the development Outbox when that
is unset) and records the outcome. A transient failure (the server unreachable, a 4xx
answer) is retried with backoff; a permanent one (a 5xx answer, a bad address) is recorded
and left for a person to look at.

Attachments are stored bytes (``Attachment``) or are made when the email is sent
(``RenderedAttachment``) by a renderer a higher app registers from its ``ready()``::

    @attachment_renderer("billing.invoice_pdf")
    def invoice_pdf(invoice_id: int) -> bytes: ...
"""

from __future__ import annotations

import functools
import hashlib
import smtplib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, models, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutboxMessage, OutgoingEmail, OutgoingEmailAttachment, Practice, User
from .text import one_line

OUTBOX_BACKEND = "practice.mail.OutboxBackend"
# Attempts in all (the first and the retries) before a transient failure is left as failed.
MAX_ATTEMPTS = 6
# The wait before retry n (1-based): 1, 2, 4, 8, 16 minutes.
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 60 * 60
ERROR_MAX_LENGTH = 2000
SECRET_REMOVED = "(Removed once sent: this email held a private link.)"

Renderer = Callable[[int], bytes]
_renderers: dict[str, Renderer] = {}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class RenderedAttachment:
    """An attachment made when the email is sent: ``renderer(object_id)`` returns its bytes."""

    filename: str
    renderer: str
    object_id: int
    content_type: str = "application/pdf"


def attachment_renderer(name: str) -> Callable[[Renderer], Renderer]:
    """Register a function that makes an attachment's bytes from an object id."""

    def register(function: Renderer) -> Renderer:
        _renderers[name] = function
        return function

    return register


def outbox_enabled() -> bool:
    """Whether emails are kept for the development Outbox page (never in production)."""
    return not settings.PRODUCTION and settings.EMAIL_BACKEND == OUTBOX_BACKEND


class OutboxBackend(BaseEmailBackend):
    """Development email backend: keeps each message, whole, for the Outbox page."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            OutboxMessage.objects.create(
                to=", ".join(message.recipients()),
                subject=str(message.subject),
                raw=message.message().as_bytes(linesep="\r\n"),
            )
        return len(email_messages)


def _footer_context(practice: Practice | None) -> dict[str, Any]:
    return {"practice": practice, "site_url": settings.SITE_URL.rstrip("/")}


def email_render(*, template: str, context: dict[str, Any], practice: Practice | None) -> tuple[str, str]:
    """The (text, HTML) of ``emails/<template>.txt|.html`` inside the layout with the footer."""
    text_body = render_to_string(f"emails/{template}.txt", context).strip()
    html_body = render_to_string(f"emails/{template}.html", context)
    footer = _footer_context(practice)
    text = render_to_string("emails/layout.txt", {**footer, "body": text_body})
    html = render_to_string("emails/layout.html", {**footer, "body": html_body})
    return text, html


def _message_id(key: str) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "practica.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


@dataclass(frozen=True)
class QueuedEmail:
    """One email for ``email_queue_many``: the arguments of ``email_queue``."""

    key: str
    to: str
    subject: str
    template: str
    context: dict[str, Any]
    practice: Practice | None = None
    about: models.Model | None = None
    attachments: Sequence[Attachment | RenderedAttachment] = ()
    secret: bool = False
    created_by: User | None = None


def email_queue(
    *,
    key: str,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    practice: Practice | None = None,
    about: models.Model | None = None,
    attachments: Sequence[Attachment | RenderedAttachment] = (),
    secret: bool = False,
    created_by: User | None = None,
) -> OutgoingEmail:
    """Queue one email; it is sent after the surrounding transaction commits.

    ``key`` names the logical send (``f"invoice-sent:{invoice.pk}:{n}"``): queuing the same
    key again returns the row already there and sends nothing more. ``secret`` marks an
    email holding a sign-in or invitation link, whose body is removed once sent.
    ``created_by`` is the person who asked for it (the send log names them).
    """
    queued = QueuedEmail(
        key=key,
        to=to,
        subject=subject,
        template=template,
        context=context,
        practice=practice,
        about=about,
        attachments=attachments,
        secret=secret,
        created_by=created_by,
    )
    return email_queue_many([queued])[0]


def email_queue_many(emails: Sequence[QueuedEmail]) -> list[OutgoingEmail]:
    """Queue several emails as ``email_queue`` queues each, in a handful of statements for
    all of them (the invoice run queues one per invoice of a batch): their rows in the
    order given, a key already queued giving the row that is there."""
    for queued in emails:
        for attachment in queued.attachments:
            if isinstance(attachment, RenderedAttachment) and attachment.renderer not in _renderers:
                raise ValueError(f"No attachment renderer is registered as {attachment.renderer!r}.")
    rendered = {
        queued.key: email_render(template=queued.template, context=queued.context, practice=queued.practice)
        for queued in emails
    }
    with transaction.atomic():
        found = {email.key: email for email in OutgoingEmail.objects.filter(key__in=list(rendered))}
        fresh = {queued.key: queued for queued in emails if queued.key not in found}
        try:
            with transaction.atomic():
                made = _email_rows(list(fresh.values()), rendered)
        except IntegrityError:
            # A key queued at the same moment by another transaction, now committed: the
            # rest are queued one at a time, each finding its row or making it.
            made = [_email_queue_one(queued, rendered) for queued in fresh.values()]
        found.update((email.key, email) for email in made)
        from .tasks import email_send

        for email in made:
            transaction.on_commit(functools.partial(email_send.delay, email.pk))
    return [found[queued.key] for queued in emails]


def _email_queue_one(queued: QueuedEmail, rendered: dict[str, tuple[str, str]]) -> OutgoingEmail:
    existing = OutgoingEmail.objects.filter(key=queued.key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _email_rows([queued], rendered)[0]
    except IntegrityError:
        return OutgoingEmail.objects.get(key=queued.key)


def _email_rows(emails: list[QueuedEmail], rendered: dict[str, tuple[str, str]]) -> list[OutgoingEmail]:
    """The emails' rows and their attachments, two statements for all of them."""
    rows = OutgoingEmail.objects.bulk_create(
        [
            OutgoingEmail(
                practice=queued.practice,
                key=queued.key,
                topic=queued.template,
                about_type=ContentType.objects.get_for_model(queued.about) if queued.about is not None else None,
                about_id=queued.about.pk if queued.about is not None else None,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=queued.to,
                reply_to=queued.practice.email if queued.practice is not None else "",
                # A header cannot hold a line break (Django refuses to send it): a name
                # stored before line breaks were refused must not stop the email.
                subject=one_line(queued.subject)[:300],
                text=rendered[queued.key][0],
                html=rendered[queued.key][1],
                secret=queued.secret,
                message_id=_message_id(queued.key),
                created_by=queued.created_by,
            )
            for queued in emails
        ]
    )
    attachments = [
        _attachment_row(email, position, attachment)
        for queued, email in zip(emails, rows, strict=True)
        for position, attachment in enumerate(queued.attachments)
    ]
    if attachments:
        OutgoingEmailAttachment.objects.bulk_create(attachments)
    return rows


def _attachment_row(
    email: OutgoingEmail, position: int, attachment: Attachment | RenderedAttachment
) -> OutgoingEmailAttachment:
    row = OutgoingEmailAttachment(
        email=email, position=position, filename=attachment.filename, content_type=attachment.content_type
    )
    if isinstance(attachment, Attachment):
        row.content = attachment.content
    else:
        row.renderer, row.object_id = attachment.renderer, attachment.object_id
    return row


def _message(email: OutgoingEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=email.from_email,
        to=[email.to],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers={"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(email.html, "text/html")
    for attachment in email.attachments.all():
        if attachment.renderer:
            assert attachment.object_id is not None  # the check constraint says so
            content = _renderers[attachment.renderer](attachment.object_id)
        else:
            content = bytes(attachment.content or b"")
        message.attach(attachment.filename, content, attachment.content_type)
    return message


def is_transient(error: BaseException) -> bool:
    """Whether trying again later may succeed: the server was unreachable or answered 4xx."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPException):
        return False  # e.g. no authentication method in common: trying again will not help
    # Connection refused, a timeout, a name that did not resolve.
    return isinstance(error, OSError)


def retry_delay(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed attempts."""
    return min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS)


def outgoing_email_send(*, email_id: int) -> int | None:
    """Send the email unless it is sent already; record the outcome.

    Returns the seconds to wait before trying again after a transient failure, else None.
    The row stays locked while the backend sends, so a duplicated task waits and then finds
    it sent.
    """
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update(of=("self",)).filter(pk=email_id).first()
        if email is None or email.status == OutgoingEmail.Status.SENT:
            return None
        if email.status == OutgoingEmail.Status.FAILED and email.retry_at is None:
            return None  # a permanent failure, or out of attempts: a person decides
        email.attempts += 1
        try:
            _message(email).send()
        except Exception as error:
            transient = is_transient(error)
            email.status = OutgoingEmail.Status.FAILED
            email.error = f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
            delay = retry_delay(email.attempts) if transient and email.attempts < MAX_ATTEMPTS else None
            email.retry_at = timezone.now() + timedelta(seconds=delay) if delay is not None else None
            email.save(update_fields=["status", "error", "attempts", "retry_at"])
            return delay
        email.status = OutgoingEmail.Status.SENT
        email.sent_at = timezone.now()
        email.retry_at = None
        if email.secret:
            email.text = email.html = SECRET_REMOVED
        email.save(update_fields=["status", "sent_at", "attempts", "retry_at", "text", "html"])
        return None


def outgoing_email_retry(*, email: OutgoingEmail) -> None:
    """Give a failed email another try now (a person's decision, e.g. after fixing an address)."""
    with transaction.atomic():
        updated = OutgoingEmail.objects.filter(pk=email.pk, status=OutgoingEmail.Status.FAILED).update(
            retry_at=timezone.now()
        )
        if updated:
            from .tasks import email_send

            transaction.on_commit(lambda: email_send.delay(email.pk))


# A queued row older than this whose task never ran (the broker lost it, or the process
# died between commit and enqueue) is queued again by the sweeper.
SWEEP_AFTER = timedelta(minutes=10)


def outgoing_emails_due() -> list[int]:
    """Ids of emails whose task seems lost: queued long ago, or a retry long overdue."""
    cutoff = timezone.now() - SWEEP_AFTER
    return list(
        OutgoingEmail.objects.filter(
            models.Q(status=OutgoingEmail.Status.QUEUED, created_at__lt=cutoff)
            | models.Q(status=OutgoingEmail.Status.FAILED, retry_at__lt=cutoff)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
