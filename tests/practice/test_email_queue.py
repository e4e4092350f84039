"""Emails queued in a transaction and sent once by the send task after commit (issue 13 part 7)."""

from __future__ import annotations

import smtplib
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.utils import timezone

from practice import mail as practice_mail
from practice.mail import (
    SECRET_REMOVED,
    Attachment,
    QueuedEmail,
    RenderedAttachment,
    attachment_renderer,
    email_queue,
    email_queue_many,
    outgoing_email_send,
)
from practice.models import OutgoingEmail, StaffInvite
from practice.tasks import email_send, emails_sweep

pytestmark = pytest.mark.django_db


class FlakyBackend(LocmemBackend):
    """The locmem backend behind a server that first fails with ``errors`` (one per send)."""

    errors: list[Exception] = []

    def send_messages(self, messages):
        if FlakyBackend.errors:
            raise FlakyBackend.errors.pop(0)
        return super().send_messages(messages)


class SlowBackend(LocmemBackend):
    """A server that takes a moment to answer, so that two senders overlap."""

    def send_messages(self, messages):
        time.sleep(0.3)
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.practice.test_email_queue.FlakyBackend"
    FlakyBackend.errors = []
    yield FlakyBackend.errors
    FlakyBackend.errors = []


@pytest.fixture
def contact_practice(tenant):
    practice = tenant.practice
    practice.address = "12 Harbour Street\nPort Town"
    practice.phone = "+1 555 0100"
    practice.email = "front.desk@harbour.test"
    practice.save()
    return practice


def queue(practice, key="welcome:1", **kwargs):
    kwargs.setdefault("to", "client@example.test")
    kwargs.setdefault("subject", "Your invoice from Harbour Street Therapy")
    kwargs.setdefault("template", "staff_invite")
    kwargs.setdefault("context", {"invite": None, "link": "http://testserver/pay/abc/", "days": 7})
    return email_queue(key=key, practice=practice, **kwargs)


def test_one_send_is_one_message_with_a_text_part_html_and_the_practice_footer(
    contact_practice, django_capture_on_commit_callbacks
):
    # Given a practice with its contact details
    # When an email is queued in a transaction that commits
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email = queue(contact_practice)
        # Then nothing goes out before the commit
        assert mail.outbox == []
    # Then exactly one message went out, in plain text and HTML, with the practice's contact
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["client@example.test"]
    assert message.reply_to == ["front.desk@harbour.test"]
    assert "http://testserver/pay/abc/" in message.body
    for text in ("Harbour Street Therapy", "12 Harbour Street", "Phone: +1 555 0100", "front.desk@harbour.test"):
        assert text in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert 'href="http://testserver/pay/abc/"' in html
    assert "Phone: +1 555 0100" in html
    assert message.extra_headers["Message-ID"] == email.message_id
    email.refresh_from_db()
    assert (email.status, email.attempts, email.error) == (OutgoingEmail.Status.SENT, 1, "")
    assert email.sent_at is not None


def test_an_email_without_a_practice_has_the_platform_footer(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queue(None)
    assert "This is a service email about your Practica account." in mail.outbox[0].body


def test_a_rolled_back_transaction_sends_nothing_and_keeps_no_row(tenant, django_capture_on_commit_callbacks):
    # When the transaction that queued the email fails afterwards
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue(tenant.practice)
        raise RuntimeError("the invoice could not be issued")
    # Then no task was queued, no email sent, no row kept
    assert callbacks == []
    assert mail.outbox == []
    assert not OutgoingEmail.objects.exists()


def test_queuing_the_same_key_twice_is_one_row_and_one_message(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue(tenant.practice, key="invoice-sent:7:1")
    with django_capture_on_commit_callbacks(execute=True):
        second = queue(tenant.practice, key="invoice-sent:7:1", subject="Another subject")
    assert first.pk == second.pk
    assert OutgoingEmail.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_duplicated_task_does_not_send_twice(tenant, django_capture_on_commit_callbacks):
    # Given an email that was sent
    with django_capture_on_commit_callbacks(execute=True):
        email = queue(tenant.practice)
    assert len(mail.outbox) == 1
    # When the broker delivers its task again (a redelivery after a lost ack)
    email_send.delay(email.pk)
    email_send.apply(args=[email.pk])
    # Then nothing more goes out and the row still counts one attempt
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 1)


def test_a_transient_failure_is_recorded_and_the_retry_sends_it(tenant, flaky):
    # Given the mail server drops the connection once
    email = queue(tenant.practice)  # on_commit never runs here: the test sends by hand
    flaky.append(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))
    # When the send task runs
    delay = outgoing_email_send(email_id=email.pk)
    # Then the email is failed with the error, and a retry is due in a minute
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert email.error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert email.attempts == 1
    assert delay == 60
    assert email.retry_at is not None
    assert mail.outbox == []
    # When the retry runs, the server answering again
    email_send.apply(args=[email.pk])
    # Then it is sent, once
    email.refresh_from_db()
    assert (email.status, email.attempts, email.retry_at) == (OutgoingEmail.Status.SENT, 2, None)
    assert len(mail.outbox) == 1


def test_the_task_retries_a_greylisted_send_by_itself(tenant, flaky, django_capture_on_commit_callbacks):
    # Given a server that answers "try again later" twice (a 4xx is transient)
    flaky.extend([smtplib.SMTPResponseException(451, b"greylisted"), ConnectionRefusedError(111, "refused")])
    # When an email is queued (tasks run eagerly here, retries at once)
    with django_capture_on_commit_callbacks(execute=True):
        email = queue(tenant.practice)
    # Then the third attempt sent it
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 3)
    assert len(mail.outbox) == 1


def test_a_permanent_failure_is_not_retried(tenant, flaky):
    flaky.append(smtplib.SMTPRecipientsRefused({"client@example.test": (550, b"no such user")}))
    email = queue(tenant.practice)
    assert outgoing_email_send(email_id=email.pk) is None
    email.refresh_from_db()
    assert email.status == OutgoingEmail.Status.FAILED
    assert "550" in email.error
    assert email.retry_at is None
    # A stray task for it sends nothing either
    email_send.apply(args=[email.pk])
    assert mail.outbox == []
    email.refresh_from_db()
    assert email.attempts == 1


def test_transient_failures_stop_after_the_last_attempt(tenant, flaky):
    email = queue(tenant.practice)
    flaky.extend([TimeoutError("timed out")] * practice_mail.MAX_ATTEMPTS)
    delays = [outgoing_email_send(email_id=email.pk) for _ in range(practice_mail.MAX_ATTEMPTS)]
    assert delays == [60, 120, 240, 480, 960, None]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.retry_at) == (OutgoingEmail.Status.FAILED, 6, None)


def test_attachments_stored_and_rendered_at_send_time(tenant, django_capture_on_commit_callbacks):
    rendered = []

    @attachment_renderer("tests.invoice_pdf")
    def invoice_pdf(object_id: int) -> bytes:
        rendered.append(object_id)
        return b"%PDF-1.7 invoice " + str(object_id).encode()

    with django_capture_on_commit_callbacks(execute=True):
        queue(
            tenant.practice,
            attachments=[
                Attachment("notes.txt", b"session notes", "text/plain"),
                RenderedAttachment("INV-0042.pdf", "tests.invoice_pdf", 42),
            ],
        )
    assert rendered == [42]
    assert mail.outbox[0].attachments == [
        ("notes.txt", "session notes", "text/plain"),
        ("INV-0042.pdf", b"%PDF-1.7 invoice 42", "application/pdf"),
    ]


def test_several_emails_queued_at_once_are_each_sent_once_with_their_own_attachment(
    tenant, django_capture_on_commit_callbacks
):
    """email_queue_many (the invoice run's batch): a key queued already gives its row and
    sends nothing more; the others are new rows, in the order given, each with its own
    attachment, each sent once after commit."""

    @attachment_renderer("tests.batch_pdf")
    def batch_pdf(object_id: int) -> bytes:
        return b"%PDF-1.7 batch " + str(object_id).encode()

    with django_capture_on_commit_callbacks(execute=True):
        earlier = queue(tenant.practice, key="invoice-sent:2:auto", to="ben@example.test")
    assert len(mail.outbox) == 1

    def email(n: int, to: str) -> QueuedEmail:
        return QueuedEmail(
            key=f"invoice-sent:{n}:auto",
            to=to,
            subject=f"Invoice {n}",
            template="staff_invite",
            context={"invite": None, "link": f"http://testserver/pay/{n}/", "days": 7},
            practice=tenant.practice,
            attachments=[RenderedAttachment(f"INV-{n}.pdf", "tests.batch_pdf", n)],
        )

    with django_capture_on_commit_callbacks(execute=True):
        emails = email_queue_many(
            [email(1, "ana@example.test"), email(2, "ben@example.test"), email(3, "cy@example.test")]
        )

    assert [e.to for e in emails] == ["ana@example.test", "ben@example.test", "cy@example.test"]
    assert emails[1].pk == earlier.pk
    assert OutgoingEmail.objects.count() == 3
    # Ben's email went out once, before; Ana's and Cy's now, each with its own PDF
    assert [(m.to, m.subject, m.attachments) for m in mail.outbox[1:]] == [
        (["ana@example.test"], "Invoice 1", [("INV-1.pdf", b"%PDF-1.7 batch 1", "application/pdf")]),
        (["cy@example.test"], "Invoice 3", [("INV-3.pdf", b"%PDF-1.7 batch 3", "application/pdf")]),
    ]


def test_an_unknown_renderer_is_refused_when_queuing(tenant):
    with pytest.raises(ValueError, match="No attachment renderer"):
        queue(tenant.practice, attachments=[RenderedAttachment("x.pdf", "nobody.registered", 1)])
    assert not OutgoingEmail.objects.exists()


def test_the_sweeper_sends_an_email_whose_task_was_lost(tenant):
    # Given an email queued 11 minutes ago whose task never ran
    email = queue(tenant.practice)
    OutgoingEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    fresh = queue(tenant.practice, key="fresh:1")
    # When the sweeper runs
    emails_sweep.apply()
    # Then the old one is sent, the fresh one (its task still on the way) is left alone
    assert [m.to for m in mail.outbox] == [["client@example.test"]]
    email.refresh_from_db()
    fresh.refresh_from_db()
    assert email.status == OutgoingEmail.Status.SENT
    assert fresh.status == OutgoingEmail.Status.QUEUED


def test_a_staff_invitation_goes_through_the_queue_and_its_link_is_not_kept(tenant, django_capture_on_commit_callbacks):
    from tests.helpers import signed_in, url

    with django_capture_on_commit_callbacks(execute=True):
        signed_in(tenant.owner).post(url(tenant.practice, "staff"), {"email": "new@example.test", "role": "biller"})
    invite = StaffInvite.objects.get()
    email = OutgoingEmail.objects.get()
    assert (email.key, email.topic, email.about_id) == (f"staff-invite:{invite.pk}", "staff_invite", invite.pk)
    assert email.status == OutgoingEmail.Status.SENT
    assert "/invite/" in mail.outbox[0].body
    # The sent row no longer holds the invitation link
    assert (email.text, email.html) == (SECRET_REMOVED, SECRET_REMOVED)


def test_the_database_refuses_a_sent_email_without_a_time(tenant):
    from django.db import IntegrityError

    email = queue(tenant.practice)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutgoingEmail.objects.filter(pk=email.pk).update(status="sent")


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_email_at_once_send_it_once(tenant, settings):
    # Given a queued email and a slow mail server
    settings.EMAIL_BACKEND = "tests.practice.test_email_queue.SlowBackend"
    with transaction.atomic():
        email = queue(tenant.practice)
    mail.outbox.clear()
    OutgoingEmail.objects.filter(pk=email.pk).update(status="queued", sent_at=None, attempts=0)
    # When two workers run its task at the same moment
    barrier = threading.Barrier(2)

    def work():
        try:
            barrier.wait()
            outgoing_email_send(email_id=email.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one message went out
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == (OutgoingEmail.Status.SENT, 1)
