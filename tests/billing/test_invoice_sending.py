"""Send on an invoice (issue 13 parts 4 and 5): one email with the PDF attached and the
payment link, sent once however often the form is posted; a draft issued first; a client
without an email refused; a mail server's refusal recorded, shown and retried; the email's
words following whether online payments are set up; the send log; another practice's
invoice a 404."""

from __future__ import annotations

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from billing.forms.sending import CONFIRM_REQUIRED
from billing.models import Invoice
from billing.services.sending import NO_EMAIL
from billing.submission import FIELD, submission_key_new
from practice.models import OutgoingEmail
from practice.services import invoice_template_update
from tests.billing.test_documents_pdf import TEMPLATE, pdf_text
from tests.factories import ClientFactory, PayerFactory, draft_invoice, issued_invoice
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db

INSTRUCTIONS = TEMPLATE["payment_instructions"]


class RefusingBackend(LocmemBackend):
    """A mail server that refuses every recipient for good (550) while ``refusing`` is set."""

    refusing = True

    def send_messages(self, messages):
        if RefusingBackend.refusing:
            raise smtplib.SMTPRecipientsRefused({"ana@mail.test": (550, b"5.1.1 No such mailbox")})
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ana(tenant):
    return ClientFactory(practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test")


@pytest.fixture
def instructions(tenant):
    invoice_template_update(practice=tenant.practice, actor=tenant.owner, data=TEMPLATE)


def send(tenant, invoice, user=None, kind="billing:invoice_send", **data):
    form = {"recipient": "client", "subject": "Your invoice", "message": "Hello Ana", "include_link": "on"}
    form["confirm"] = "on"
    form.update(data)
    return signed_in(user or tenant.biller).post(url(tenant, kind, invoice_id=invoice.pk), form)


def test_send_writes_one_email_with_the_invoice_pdf_and_the_link(
    tenant, ana, instructions, django_capture_on_commit_callbacks
):
    # Given an issued invoice of 150.00
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")
    # When the biller sends it to the client
    with django_capture_on_commit_callbacks(execute=True):
        response = send(tenant, invoice)
    assert response.status_code == 302
    # Then exactly one email went to Ana, HTML and text, with the invoice's PDF
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@mail.test"]
    assert message.subject == "Your invoice"
    assert message.alternatives[0][1] == "text/html"
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"invoice-{invoice.number}.pdf", "application/pdf")
    text = pdf_text(content)
    assert invoice.number in text and "150.00" in text
    # And the payment link, described as a link to view it (online payments are not set up)
    link = next(word for word in message.body.split() if "/pay/" in word)
    assert f"View your invoice online: {link}" in message.body
    assert "Pay online" not in message.body
    assert INSTRUCTIONS in message.body
    assert invoice.number in message.body and "Hello Ana" in message.body
    # And the link opens the invoice without signing in
    page = signed_in(tenant.biller).__class__().get(link.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    assert invoice.number in page.content.decode()
    # And the send is logged, by whom, as sent
    row = OutgoingEmail.objects.get()
    assert (row.status, row.created_by, row.to) == (OutgoingEmail.Status.SENT, tenant.biller, "ana@mail.test")


def test_with_online_payments_the_link_is_to_pay_online(tenant, ana, instructions, django_capture_on_commit_callbacks):
    tenant.practice.online_payments_enabled = True
    tenant.practice.save(update_fields=["online_payments_enabled"])
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")
    with django_capture_on_commit_callbacks(execute=True):
        send(tenant, invoice)
    body = mail.outbox[0].body
    assert "Pay online: http" in body
    assert "View your invoice online" not in body
    assert INSTRUCTIONS not in body
    assert "Pay online</a>" in mail.outbox[0].alternatives[0][0]


def test_without_the_link_the_email_says_how_to_pay_and_has_no_link(
    tenant, ana, instructions, django_capture_on_commit_callbacks
):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")
    with django_capture_on_commit_callbacks(execute=True):
        send(tenant, invoice, include_link="")
    body = mail.outbox[0].body
    assert "/pay/" not in body
    assert INSTRUCTIONS in body


def test_a_double_submit_sends_once(tenant, ana, django_capture_on_commit_callbacks):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    key = submission_key_new()
    with django_capture_on_commit_callbacks(execute=True):
        first = send(tenant, invoice, **{FIELD: key})
        second = send(tenant, invoice, **{FIELD: key})
    assert first.status_code == second.status_code == 302
    assert len(mail.outbox) == 1
    assert OutgoingEmail.objects.count() == 1


def test_sending_a_draft_issues_it_first(tenant, ana, django_capture_on_commit_callbacks):
    invoice = draft_invoice(tenant.practice, ana, tenant.biller, "80.00")
    page = signed_in(tenant.biller).get(url(tenant, "billing:invoice_send", invoice_id=invoice.pk))
    assert "sending issues it first" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        send(tenant, invoice)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN and invoice.number
    assert len(mail.outbox) == 1
    assert invoice.number in mail.outbox[0].body
    assert mail.outbox[0].attachments[0][0] == f"invoice-{invoice.number}.pdf"


def test_the_payer_is_offered_and_chosen(tenant, ana, django_capture_on_commit_callbacks):
    ana.payer = PayerFactory(practice=tenant.practice, first_name="Rita", email="rita@mail.test")
    ana.save()
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    page = signed_in(tenant.biller).get(url(tenant, "billing:invoice_send", invoice_id=invoice.pk)).content.decode()
    assert "rita@mail.test" in page and "ana@mail.test" in page
    assert "Hello Rita," in page
    with django_capture_on_commit_callbacks(execute=True):
        send(tenant, invoice, recipient="payer")
    assert mail.outbox[0].to == ["rita@mail.test"]


def test_the_confirmation_is_required(tenant, ana, django_capture_on_commit_callbacks):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    with django_capture_on_commit_callbacks(execute=True):
        response = send(tenant, invoice, confirm="")
    assert response.status_code == 400
    assert CONFIRM_REQUIRED.replace("'", "&#x27;") in response.content.decode()
    assert mail.outbox == [] and not OutgoingEmail.objects.exists()


def test_a_client_without_an_email_cannot_be_sent_to(tenant, django_capture_on_commit_callbacks):
    bo = ClientFactory(practice=tenant.practice, first_name="Bo", last_name="Sun", email="")
    invoice = issued_invoice(tenant.practice, bo, tenant.biller)
    reason = NO_EMAIL.format(name="Bo Sun", payer="")
    page = signed_in(tenant.biller).get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert reason in page
    assert '<button type="button" class="button" disabled aria-describedby="send-refusal">Send</button>' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = send(tenant, invoice)
    assert response.status_code == 302
    assert mail.outbox == [] and not OutgoingEmail.objects.exists()


def test_a_refusing_mail_server_marks_the_send_failed_and_retry_sends(
    tenant, ana, settings, django_capture_on_commit_callbacks
):
    # Given a mail server that refuses the address
    settings.EMAIL_BACKEND = "tests.billing.test_invoice_sending.RefusingBackend"
    RefusingBackend.refusing = True
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    with django_capture_on_commit_callbacks(execute=True):
        send(tenant, invoice)
    # Then the send is failed with the error, and the invoice still issued
    row = OutgoingEmail.objects.get()
    assert row.status == OutgoingEmail.Status.FAILED
    assert "No such mailbox" in row.error
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.OPEN
    # And the invoice page and the Billing page show it
    biller = signed_in(tenant.biller)
    page = biller.get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert 'data-testid="send-failed"' in page and "No such mailbox" in page
    home = biller.get(url(tenant, "billing:home")).content.decode()
    assert "1 invoice email failed to send" in home
    assert url(tenant, "billing:invoice", invoice_id=invoice.pk) in home
    # When the server is fixed and the biller retries
    RefusingBackend.refusing = False
    with django_capture_on_commit_callbacks(execute=True):
        response = biller.post(url(tenant, "billing:invoice_send_retry", invoice_id=invoice.pk), {"email": row.pk})
    assert response.status_code == 302
    # Then it is sent once, and the notices are gone
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.status == OutgoingEmail.Status.SENT
    assert "failed to send" not in biller.get(url(tenant, "billing:home")).content.decode()
    log = biller.get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert 'data-testid="send-failed"' not in log
    assert "Bella Test" in log and "ana@mail.test" in log


def test_send_payment_link_sends_only_the_link(tenant, ana, instructions, django_capture_on_commit_callbacks):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "150.00")
    with django_capture_on_commit_callbacks(execute=True):
        response = send(tenant, invoice, kind="billing:invoice_send_link", subject="Pay link")
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.attachments == []
    assert "/pay/" in message.body and INSTRUCTIONS in message.body
    assert OutgoingEmail.objects.get().topic == "invoice_link"


def test_the_invoice_page_offers_the_payment_link_to_copy(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    page = signed_in(tenant.biller).get(url(tenant, "billing:invoice", invoice_id=invoice.pk)).content.decode()
    assert 'data-testid="payment-link-url"' in page and "/pay/" in page
    assert "js/copy_link.js" in page


@pytest.mark.parametrize("name", ["billing:invoice_send", "billing:invoice_send_link"])
def test_another_practice_cannot_see_or_send_the_invoice(tenant, other_tenant, ana, name):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    other = signed_in(other_tenant.biller)
    target = url(other_tenant, name, invoice_id=invoice.pk)
    assert other.get(target).status_code == 404
    assert send(other_tenant, invoice, kind=name).status_code == 404
    assert not OutgoingEmail.objects.exists()


def test_another_practice_cannot_retry_the_send(
    tenant, other_tenant, ana, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.billing.test_invoice_sending.RefusingBackend"
    RefusingBackend.refusing = True
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    with django_capture_on_commit_callbacks(execute=True):
        send(tenant, invoice)
    row = OutgoingEmail.objects.get()
    # Their own invoice's id with our email's id: refused, nothing re-queued
    theirs = issued_invoice(other_tenant.practice, ClientFactory(practice=other_tenant.practice), other_tenant.biller)
    other = signed_in(other_tenant.biller)
    ours = other.post(url(other_tenant, "billing:invoice_send_retry", invoice_id=invoice.pk), {"email": row.pk})
    assert ours.status_code == 404
    other.post(url(other_tenant, "billing:invoice_send_retry", invoice_id=theirs.pk), {"email": row.pk})
    row.refresh_from_db()
    assert row.retry_at is None and row.status == OutgoingEmail.Status.FAILED


def test_a_clinician_cannot_send(tenant, ana):
    invoice = issued_invoice(tenant.practice, ana, tenant.biller)
    assert send(tenant, invoice, user=tenant.clinician).status_code in (403, 404)
    assert not OutgoingEmail.objects.exists()


def test_settings_payments_says_online_payments_are_not_set_up(tenant):
    page = signed_in(tenant.owner).get(url(tenant, "billing:invoice_numbering")).content.decode()
    assert "Online payments: not set up." in page
