"""Issue 15 part 1: a client signs in to the portal by an emailed one-time link.

Links work once, for 15 minutes; requests are throttled; an unknown email sees the same
page as a known one; only clients with portal access (and their payers) get a link; a
person known to two practices chooses one; idle portal sessions end; portal and staff
sessions never pass for each other; staff send a Portal invitation from the client's
Settings tab."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client as Browser
from django.utils import timezone

from clients.models import PortalAccess, PortalSignInLink
from clients.portal import PORTAL_ACCESS_ENDED, PORTAL_IDLE_SIGNED_OUT, STAFF_NOT_PORTAL
from clients.portal_views import LINK_EXPIRED, LINK_INVALID, LINK_USED, NO_ACCESS, SIGNIN_SENT, SIGNIN_THROTTLED
from clients.tasks import portal_sign_in_links_prune
from clients.views import PORTAL_INVITED
from practice.models import AuditLog
from tests.factories import ClientFactory, PayerFactory, PracticeFactory
from tests.helpers import signed_in, url
from tests.portal import grant_portal, portal_signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(practice):
    client = ClientFactory(practice=practice, first_name="Ann", last_name="Lee", email="ann@mail.test")
    grant_portal(client)
    return client


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """Ask for a sign-in link as a browser would; the email goes out after the request commits."""

    def ask(email: str, browser: Browser | None = None, address: str = "203.0.113.7"):
        with django_capture_on_commit_callbacks(execute=True):
            return (browser or Browser()).post("/portal/signin/", {"email": email}, follow=True, REMOTE_ADDR=address)

    return ask


def link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/portal/signin/link/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def page(response) -> str:
    return response.content.decode()


def sign_in_by_email(ask, email: str) -> Browser:
    browser = Browser()
    ask(email, browser)
    link = link_in(mail.outbox[-1])
    assert "Sign in" in page(browser.get(link))
    browser.post(link)
    return browser


def test_a_client_with_portal_access_signs_in_by_the_emailed_link(ann, ask, practice):
    response = ask("Ann@Mail.test")

    assert SIGNIN_SENT.format(email="ann@mail.test") in page(response)
    (message,) = mail.outbox
    assert message.to == ["ann@mail.test"]
    assert practice.name in message.subject
    link = link_in(message)

    browser = Browser()
    # Opening the link (as a mail scanner would) does not spend it: the button does.
    confirm = browser.get(link)
    assert "ann@mail.test" in page(confirm)
    assert not PortalSignInLink.objects.filter(used_at__isnull=False).exists()
    signed = browser.post(link, follow=True)

    assert signed.redirect_chain[-1][0] == "/portal/"
    assert "Ann Lee" in page(signed)
    row = AuditLog.objects.get(action="portal.signed_in")
    assert row.actor_label == "portal:ann@mail.test" and row.object_id == str(ann.pk)


def test_an_unknown_email_sees_the_same_page_and_gets_nothing(ann, ask):
    known = ask("ann@mail.test")
    unknown = ask("nobody@mail.test")

    assert SIGNIN_SENT.format(email="nobody@mail.test") in page(unknown)
    assert known.redirect_chain == unknown.redirect_chain
    assert [m.to for m in mail.outbox] == [["ann@mail.test"]]


def test_a_client_without_portal_access_gets_no_link(practice, ask):
    ClientFactory(practice=practice, email="bo@mail.test")  # no access granted
    response = ask("bo@mail.test")

    assert SIGNIN_SENT.format(email="bo@mail.test") in page(response)
    assert mail.outbox == []


def test_an_archived_client_gets_no_link(ann, ask):
    ann.status = ann.Status.ARCHIVED
    ann.save()
    ask("ann@mail.test")
    assert mail.outbox == []


def test_a_link_signs_in_once(ann, ask):
    ask("ann@mail.test")
    link = link_in(mail.outbox[0])
    Browser().post(link)

    again = Browser().post(link)

    assert again.status_code == 410
    assert LINK_USED in page(again)
    # The page offers a new link, to the same email.
    assert 'value="ann@mail.test"' in page(again)
    assert "Email me a new link" in page(again)


def test_a_link_expires_after_15_minutes(ann, ask):
    ask("ann@mail.test")
    link = link_in(mail.outbox[0])

    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert Browser().get(link).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        late = Browser().post(link)

    assert late.status_code == 410
    assert LINK_EXPIRED in page(late)
    assert not PortalSignInLink.objects.filter(used_at__isnull=False).exists()


def test_a_made_up_link_offers_a_new_one(db):
    response = Browser().get("/portal/signin/link/not-a-token/")
    assert response.status_code == 404
    assert LINK_INVALID in page(response)


def test_sign_in_links_are_throttled_per_email_and_per_address(ann, ask, settings):
    settings.PORTAL_SIGNIN_EMAIL_LIMIT = 3
    settings.PORTAL_SIGNIN_ADDRESS_LIMIT = 5
    for _ in range(3):
        assert ask("ann@mail.test").status_code == 200

    refused = ask("ann@mail.test")

    assert refused.status_code == 429
    assert SIGNIN_THROTTLED in page(refused)
    assert len(mail.outbox) == 3
    # Unknown emails count the same: the limit says nothing about who has access.
    assert ask("x@mail.test").status_code == 200
    assert ask("y@mail.test").status_code == 200
    assert ask("z@mail.test").status_code == 429
    # Another address may still ask for another email.
    assert ask("z@mail.test", address="198.51.100.2").status_code == 200
    # An hour later Ann may ask again.
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        assert ask("ann@mail.test").status_code == 200


def test_a_person_at_two_practices_chooses_after_signing_in(ann, ask, practice):
    elsewhere = PracticeFactory(name="Riverside Counselling", slug="riverside")
    kid = ClientFactory(
        practice=elsewhere, first_name="Kit", payer=PayerFactory(practice=elsewhere, email="ann@mail.test")
    )
    grant_portal(kid)

    browser = Browser()
    ask("ann@mail.test", browser)
    assert "your client portal" in mail.outbox[0].subject
    chooser = browser.post(link_in(mail.outbox[0]), follow=True)

    assert chooser.redirect_chain[-1][0] == "/portal/choose/"
    text = page(chooser)
    assert practice.name in text and "Riverside Counselling: paying for Kit" in text
    assert browser.get("/portal/").status_code == 302  # nothing before choosing

    home = browser.post("/portal/choose/", {"identity": f"payer:{kid.payer_id}"}, follow=True)
    assert 'data-testid="portal-practice">Riverside Counselling<' in page(home)
    # Someone else's identity cannot be chosen by posting its key.
    other = ClientFactory(practice=practice, email="other@mail.test")
    grant_portal(other)
    browser.post("/portal/choose/", {"identity": f"client:{other.pk}"})
    assert "Riverside Counselling" in page(browser.get("/portal/"))


def test_an_idle_portal_session_ends(ann, ask, settings):
    settings.PORTAL_SESSION_IDLE_MINUTES = 30
    browser = sign_in_by_email(ask, "ann@mail.test")
    assert browser.get("/portal/").status_code == 200

    with time_machine.travel(timezone.now() + timedelta(minutes=29), tick=False):
        assert browser.get("/portal/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29 + 31), tick=False):
        ended = browser.get("/portal/", follow=True)

    assert ended.redirect_chain[-1][0] == "/portal/signin/"
    assert PORTAL_IDLE_SIGNED_OUT in page(ended)
    assert browser.get("/portal/").status_code == 302


def test_sign_out_ends_the_portal_session(ann):
    browser = portal_signed_in(ann)
    assert browser.get("/portal/").status_code == 200

    assert browser.get("/portal/signout/").status_code == 405
    browser.post("/portal/signout/")

    assert browser.get("/portal/")["Location"] == "/portal/signin/"


def test_a_portal_session_cannot_reach_staff_pages(ann, practice):
    browser = portal_signed_in(ann)

    for path in (url(practice, "dashboard"), url(practice, "clients:list"), url(practice, "billing:home")):
        response = browser.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/signin/")


def test_a_staff_session_cannot_reach_portal_pages(tenant, ann):
    staff = signed_in(tenant.owner)
    for path in ("/portal/", "/portal/choose/", "/portal/documents/", "/portal/profile/"):
        response = staff.get(path)
        assert response.status_code == 403
        assert STAFF_NOT_PORTAL in page(response)


def test_revoking_access_ends_the_portal_session(tenant, ann):
    browser = portal_signed_in(ann)
    staff = signed_in(tenant.owner)

    staff.post(url(tenant, "clients:portal_revoke", client_id=ann.pk))

    ended = browser.get("/portal/", follow=True)
    assert PORTAL_ACCESS_ENDED in page(ended)
    assert PortalAccess.objects.get(client=ann).revoked_at is not None
    assert AuditLog.objects.filter(action="client.portal_revoked", object_id=str(ann.pk)).exists()


def test_a_link_of_an_email_that_lost_access_does_not_sign_in(ann, ask):
    ask("ann@mail.test")
    PortalAccess.objects.filter(client=ann).update(revoked_at=timezone.now())

    response = Browser().post(link_in(mail.outbox[0]))

    assert response.status_code == 403
    assert NO_ACCESS in page(response)


def test_staff_send_a_portal_invitation_from_the_settings_tab(tenant, django_capture_on_commit_callbacks):
    bo = ClientFactory(practice=tenant.practice, first_name="Bo", email="bo@mail.test")
    staff = signed_in(tenant.biller)
    settings_tab = page(staff.get(url(tenant, "clients:settings", client_id=bo.pk)))
    assert "No portal access" in settings_tab and "Send Portal invitation" in settings_tab

    with django_capture_on_commit_callbacks(execute=True):
        sent = staff.post(url(tenant, "clients:portal_invite", client_id=bo.pk), follow=True)

    assert PORTAL_INVITED.format(email="bo@mail.test") in page(sent)
    assert "Portal access is on" in page(sent)
    (message,) = mail.outbox
    assert message.to == ["bo@mail.test"] and tenant.practice.name in message.subject
    row = AuditLog.objects.get(action="client.portal_invited")
    assert row.actor == tenant.biller and row.changes == {"to": "bo@mail.test", "access_granted": True}
    # The invitation's link signs Bo in (it lasts days, not minutes).
    browser = Browser()
    with time_machine.travel(timezone.now() + timedelta(days=6), tick=False):
        browser.post(link_in(message))
        assert "Bo " in page(browser.get("/portal/"))


def test_an_invitation_for_a_client_with_a_payer_goes_to_the_payer(tenant, django_capture_on_commit_callbacks):
    mum = PayerFactory(practice=tenant.practice, first_name="May", email="may@mail.test")
    kid = ClientFactory(practice=tenant.practice, first_name="Kit", email="", payer=mum)
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(tenant.owner).post(url(tenant, "clients:portal_invite", client_id=kid.pk))

    browser = Browser()
    browser.post(link_in(mail.outbox[0]))
    home = page(browser.get("/portal/"))
    assert 'data-testid="portal-who">May ' in home


def test_another_practices_client_cannot_be_invited(tenant, other_tenant):
    theirs = ClientFactory(practice=other_tenant.practice, email="theirs@mail.test")
    response = signed_in(tenant.owner).post(url(tenant, "clients:portal_invite", client_id=theirs.pk))
    assert response.status_code == 404
    assert not PortalAccess.objects.exists() and mail.outbox == []


def test_old_sign_in_requests_are_pruned(ann, ask):
    ask("ann@mail.test")
    ask("nobody@mail.test")
    assert PortalSignInLink.objects.count() == 2

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False):
        portal_sign_in_links_prune()

    assert PortalSignInLink.objects.count() == 0
