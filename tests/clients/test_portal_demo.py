"""The demo's client portal (issue 15, Demo): every demo client has portal access, and the
client the README names signs in by the link the Outbox shows and sees two unpaid invoices."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from django.test import Client as Browser

from clients.demo import PORTAL_DEMO_EMAIL
from clients.models import Client, PortalAccess
from practice.demo import load_demo_data
from practice.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_the_readme_client_signs_in_by_the_outbox_link_and_sees_two_unpaid_invoices(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "practice.mail.OutboxBackend"
    load_demo_data()
    active = Client.objects.filter(status=Client.Status.ACTIVE)
    assert PortalAccess.objects.filter(revoked_at__isnull=True).count() == active.count()
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert PORTAL_DEMO_EMAIL in readme

    browser = Browser()
    with django_capture_on_commit_callbacks(execute=True):
        browser.post("/portal/signin/", {"email": PORTAL_DEMO_EMAIL})
    outbox = browser.get("/dev/outbox/").content.decode()
    assert PORTAL_DEMO_EMAIL in outbox
    raw = OutboxMessage.objects.get(to=PORTAL_DEMO_EMAIL).raw
    body = email.message_from_bytes(bytes(raw), policy=email.policy.default).get_body(("plain",))
    assert body is not None
    link = re.search(r"/portal/signin/link/[\w-]+/", body.get_content())
    assert link, body
    browser.post(link.group(0))
    home = browser.get("/portal/").content.decode()

    assert 'data-testid="portal-unpaid-count">2<' in home
    assert "Charlotte Carter" in home

    load_demo_data()  # a second load adds nothing
    assert PortalAccess.objects.count() == active.count()
