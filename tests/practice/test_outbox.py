"""The development Outbox page: emails kept instead of sent, with their HTML, text and
attachments; a 404 whenever the Outbox backend is not in use or in production."""

from __future__ import annotations

import pytest
from django.test import Client

from practice.mail import OUTBOX_BACKEND, Attachment, email_queue
from practice.models import OutboxMessage
from tests.practice.helpers import page_text

pytestmark = pytest.mark.django_db

PAY_LINK = "http://testserver/pay/abc123/"


@pytest.fixture
def outbox_on(settings):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND


@pytest.fixture
def kept(tenant, django_capture_on_commit_callbacks):
    """One email with a link and a PDF, sent through whichever backend is configured."""
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(
            key="invoice-sent:1:1",
            practice=tenant.practice,
            to="payer@example.test",
            subject="Invoice INV-0001 from Harbour Street Therapy",
            template="staff_invite",
            context={"invite": None, "link": PAY_LINK, "days": 7},
            attachments=[Attachment("INV-0001.pdf", b"%PDF-1.7 invoice", "application/pdf")],
        )
    return OutboxMessage.objects.first()


def test_the_outbox_lists_a_sent_email_and_shows_its_text_links_html_and_attachment(outbox_on, kept):
    browser = Client()
    # The list shows it
    listing = browser.get("/dev/outbox/")
    assert listing.status_code == 200
    assert "payer@example.test" in page_text(listing)
    assert "Invoice INV-0001 from Harbour Street Therapy" in page_text(listing)
    # Its page shows the headers, the link to follow, the text and the attachment
    detail = browser.get(f"/dev/outbox/{kept.pk}/")
    text = page_text(detail)
    assert "Invoice INV-0001 from Harbour Street Therapy" in text
    assert f'href="{PAY_LINK}"' in detail.content.decode()
    assert "This is a service email from Harbour Street Therapy" in text
    assert "INV-0001.pdf" in text
    assert f'src="/dev/outbox/{kept.pk}/html/"' in detail.content.decode()
    # The HTML is its own document that may run nothing and is framed only by the Outbox
    html = browser.get(f"/dev/outbox/{kept.pk}/html/")
    assert html["Content-Type"] == "text/html; charset=utf-8"
    assert f'href="{PAY_LINK}"' in html.content.decode()
    csp = html["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'none'" in csp
    assert "frame-ancestors 'self'" in csp
    assert html["X-Frame-Options"] == "SAMEORIGIN"
    # The attachment downloads as sent
    pdf = browser.get(f"/dev/outbox/{kept.pk}/attachments/0/")
    assert pdf.content == b"%PDF-1.7 invoice"
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == "attachment; filename*=UTF-8''INV-0001.pdf"
    assert browser.get(f"/dev/outbox/{kept.pk}/attachments/1/").status_code == 404


def test_a_password_reset_email_is_kept_too(outbox_on, tenant, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "http://testserver"  # reset links point at the configured site
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/password-reset/", {"email": tenant.owner.email})
    message = OutboxMessage.objects.get()
    assert message.to == tenant.owner.email
    detail = Client().get(f"/dev/outbox/{message.pk}/")
    assert "http://testserver/password-reset/" in page_text(detail)


def test_the_footer_links_the_outbox_only_when_it_is_on(settings, db):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    assert 'href="/dev/outbox/"' in Client().get("/signin/").content.decode()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert "/dev/outbox/" not in Client().get("/signin/").content.decode()


@pytest.mark.parametrize(
    ("backend", "production"),
    [
        ("django.core.mail.backends.smtp.EmailBackend", False),  # EMAIL_URL set in development
        (OUTBOX_BACKEND, True),  # production never shows it
    ],
)
def test_every_outbox_page_is_a_404_when_the_outbox_is_off(settings, tenant, backend, production, superuser_client):
    settings.EMAIL_BACKEND = OUTBOX_BACKEND
    message = OutboxMessage.objects.create(to="a@example.test", subject="Kept earlier", raw=b"Subject: x\r\n\r\nhi")
    settings.EMAIL_BACKEND = backend
    settings.PRODUCTION = production
    for path in ("", f"{message.pk}/", f"{message.pk}/html/", f"{message.pk}/attachments/0/"):
        assert Client().get(f"/dev/outbox/{path}").status_code == 404, path
        # not even for a platform superuser
        assert superuser_client.get(f"/dev/outbox/{path}").status_code == 404, path


def test_a_missing_message_is_a_404(outbox_on, db):
    assert Client().get("/dev/outbox/999999/").status_code == 404


def test_the_outbox_refuses_a_post(outbox_on, db):
    assert Client().post("/dev/outbox/").status_code == 405
