"""Receipts and large PDF batches are rendered by workers, never in the request that asks
for them (issue 16 part 5): a receipt email's PDF is made when the email queue's worker
sends it; an export of more than INLINE_LIMIT documents is a task on the documents queue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail

from billing.documents.export import INLINE_LIMIT
from billing.models import Export, Payment
from billing.services import payment_record_settled
from billing.services.receipts import payment_receipt_queue
from practice.celery import app as celery_app
from practice.models import OutgoingEmail
from tests.factories import ClientFactory, issued_invoice
from tests.helpers import signed_in, url

pytestmark = pytest.mark.django_db


def no_pdf_here():
    """WeasyPrint may not run inside the block: a PDF made there fails the test."""
    return mock.patch("billing.documents.pdf.html_to_pdf", side_effect=AssertionError("rendered in the request"))


def test_a_receipt_email_leaves_its_pdf_to_the_email_worker(tenant, django_capture_on_commit_callbacks):
    ana = ClientFactory(practice=tenant.practice, email="ana@mail.test")
    invoice = issued_invoice(tenant.practice, ana, tenant.biller, "80.00")
    with no_pdf_here(), django_capture_on_commit_callbacks(execute=False) as queued:
        payment = payment_record_settled(
            practice=tenant.practice,
            client=ana,
            amount=Decimal("80.00"),
            currency=tenant.practice.currency,
            method=Payment.Method.CARD_ONLINE,
            external_id="pi_receipt",
        ).payment
        email = payment_receipt_queue(payment=payment, invoice=invoice)
    # The request stored the email with the PDF still to make, named by its renderer
    assert email is not None
    (attachment,) = email.attachments.all()
    assert (attachment.renderer, attachment.object_id, attachment.content) == ("billing.invoice_pdf", invoice.pk, None)
    assert celery_app.amqp.router.route({}, "practice.tasks.email_send")["queue"].name == "email"
    assert mail.outbox == []

    # The send task (on commit; eager here) renders it and sends the receipt once
    for callback in queued:
        callback()
    receipts = [m for m in mail.outbox if m.subject.startswith("Receipt")]
    assert len(receipts) == 1
    [(filename, content, mimetype)] = receipts[0].attachments
    assert mimetype == "application/pdf"
    assert filename == f"receipt-{invoice.number}.pdf" and content.startswith(b"%PDF")
    assert OutgoingEmail.objects.get(pk=email.pk).status == OutgoingEmail.Status.SENT


def test_an_export_over_the_inline_limit_is_a_task_not_a_response(
    tenant, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    ana = ClientFactory(practice=tenant.practice)
    for _ in range(INLINE_LIMIT + 1):
        issued_invoice(tenant.practice, ana, tenant.biller, "10.00")
    today = tenant.practice.local_today()
    data = {"start": (today - timedelta(days=30)).isoformat(), "end": today.isoformat(), "format": "zip"}
    queued_tasks: list[tuple[str, tuple]] = []

    with (
        no_pdf_here(),
        mock.patch("billing.tasks.export_run_task.delay", lambda *args: queued_tasks.append(("export", args))),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = signed_in(tenant.biller).post(url(tenant, "billing:export_new"), data)

    # The request answers with the export's progress page, not a file
    export = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(tenant, "billing:export", export_id=export.pk)
    assert (export.status, export.total) == ("queued", INLINE_LIMIT + 1)
    assert queued_tasks == [("export", (export.pk,))]
    assert celery_app.amqp.router.route({}, "billing.tasks.export_run")["queue"].name == "documents"
