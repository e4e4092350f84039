"""The portal's Profile: a client (or payer) changes their name and phone at once; a new
email is used only after they open the link sent to it (single use, expiring, only in
their own session), and until then the page says the old one is still in use. Bad input
is refused with the reason and changes nothing; every change is in the audit log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import Client, EmailChange, Payer
from clients.profile import (
    EMAIL_CHANGE_CANCELLED,
    EMAIL_CHANGE_DONE,
    EMAIL_CHANGE_HOURLY_LIMIT,
    EMAIL_CHANGE_LINK_INVALID,
    EMAIL_CHANGE_PENDING,
    EMAIL_CHANGE_SENT,
    EMAIL_CHANGE_TOO_MANY,
    EMAIL_CHANGE_VALID_HOURS,
    PHONE_BAD,
    PROFILE_SAVED,
    profile_update,
)
from clients.services import NAME_REQUIRED
from practice.actor import Actor
from practice.models import AuditLog
from tests.factories import ClientFactory, PayerFactory
from tests.portal import grant_portal, portal_signed_in

pytestmark = pytest.mark.django_db

PROFILE = "/portal/profile/"
LINK = re.compile(r"https?://\S+/portal/profile/email/(?P<token>[\w-]+)/")


@pytest.fixture
def ana(tenant):
    ana = ClientFactory(
        practice=tenant.practice, first_name="Ana", last_name="Lima", email="ana@mail.test", phone="555 0100"
    )
    grant_portal(ana)
    return ana


@pytest.fixture
def post(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """POST as the browser does, then run what the request left for after its commit (the
    email tasks), as the real request's commit would."""

    def send(browser, path: str, data=None, **kwargs):  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            return browser.post(path, data, **kwargs)

    return send


def form(person, **changes: str) -> dict[str, str]:
    data = {"first_name": person.first_name, "last_name": person.last_name, "phone": person.phone}
    data["email"] = person.email
    return {**data, **changes}


def link_in(message) -> str:  # type: ignore[no-untyped-def]
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(0)


def path_of(link: str) -> str:
    return link[link.index("/portal/") :]


def audit_actions(obj) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        AuditLog.objects.filter(object_type=obj._meta.label, object_id=str(obj.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_the_profile_shows_my_details(ana):
    page = portal_signed_in(ana).get(PROFILE)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Ana"' in html and 'value="Lima"' in html and 'value="555 0100"' in html
    assert 'value="ana@mail.test"' in html


def test_a_new_name_and_phone_are_saved_and_audited(ana, post):
    browser = portal_signed_in(ana)

    response = post(browser, PROFILE, form(ana, first_name="Anna", phone="+1 (555) 010-0199"), follow=True)

    assert PROFILE_SAVED in response.content.decode()
    ana.refresh_from_db()
    assert (ana.first_name, ana.phone, ana.email) == ("Anna", "+1 (555) 010-0199", "ana@mail.test")
    row = AuditLog.objects.get(action="client.updated", object_id=str(ana.pk))
    assert row.actor is None and row.actor_label == "portal:ana@mail.test"
    assert row.changes == {"first_name": ["Ana", "Anna"], "phone": ["555 0100", "+1 (555) 010-0199"]}
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"first_name": "  "}, "This field is required."),
        ({"phone": "call me after 5"}, PHONE_BAD),
        ({"email": "ana@"}, "Enter a valid email address."),
        ({"email": ""}, "This field is required."),
        ({"last_name": "Lima\nSmith"}, "Use a single line here, without line breaks."),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(ana, changes, field_message, post):
    browser = portal_signed_in(ana)

    # Every field changed at once, one of them wrongly
    data = {**form(ana, first_name="Anna", phone="555 0199", email="new@mail.test"), **changes}
    response = post(browser, PROFILE, data)

    assert response.status_code == 400
    assert field_message in response.content.decode()
    ana.refresh_from_db()
    assert (ana.first_name, ana.last_name, ana.phone, ana.email) == ("Ana", "Lima", "555 0100", "ana@mail.test")
    assert not EmailChange.objects.exists()
    assert audit_actions(ana) == []
    assert mail.outbox == []


def test_the_service_refuses_what_the_form_would(ana):
    with pytest.raises(ValidationError) as refused:
        profile_update(
            person=ana,
            actor=Actor.of_portal("ana@mail.test"),
            first_name="",
            last_name="Lima",
            phone="555-0100 ext. 4 (after 5)",
            email="not an email",
        )

    assert refused.value.message_dict["first_name"] == [NAME_REQUIRED]
    assert refused.value.message_dict["phone"] == [PHONE_BAD]
    assert "email" in refused.value.message_dict
    ana.refresh_from_db()
    assert ana.first_name == "Ana"


def test_a_new_email_waits_for_its_link_and_the_old_one_stays_in_use(ana, post):
    browser = portal_signed_in(ana)

    response = post(browser, PROFILE, form(ana, email="Ana.New@Mail.test"), follow=True)

    # The page says a link went to the new address and the old one is still used
    html = response.content.decode()
    assert EMAIL_CHANGE_SENT.format(new="ana.new@mail.test", old="ana@mail.test") in html
    assert EMAIL_CHANGE_PENDING.format(new="ana.new@mail.test", old="ana@mail.test") in html
    ana.refresh_from_db()
    assert ana.email == "ana@mail.test"
    # One email, to the new address, with the link
    assert [m.to for m in mail.outbox] == [["ana.new@mail.test"]]
    assert mail.outbox[0].subject == "Confirm your new email for Harbour Street Therapy"
    link_in(mail.outbox[0])
    assert audit_actions(ana) == ["client.email_change_requested"]
    # And the page still says so on a later visit
    assert "ana.new@mail.test" in browser.get(PROFILE).content.decode()


def test_opening_the_link_makes_the_new_email_mine_and_tells_the_old_one(ana, post):
    browser = portal_signed_in(ana)
    post(browser, PROFILE, form(ana, email="ana.new@mail.test"))
    link = path_of(link_in(mail.outbox[0]))

    # The link asks first (a mail scanner opening it changes nothing)
    confirm_page = browser.get(link)
    assert confirm_page.status_code == 200
    assert "Confirm email" in confirm_page.content.decode()
    ana.refresh_from_db()
    assert ana.email == "ana@mail.test"

    done = post(browser, link, follow=True)

    assert EMAIL_CHANGE_DONE.format(new="ana.new@mail.test") in done.content.decode()
    ana.refresh_from_db()
    assert ana.email == "ana.new@mail.test"
    # Still signed in, now as the new address
    assert browser.get(PROFILE).status_code == 200
    # The old address is told
    assert mail.outbox[-1].to == ["ana@mail.test"]
    assert "was changed to ana.new@mail.test" in mail.outbox[-1].body
    row = AuditLog.objects.get(action="client.email_changed")
    assert row.changes == {"email": ["ana@mail.test", "ana.new@mail.test"]}
    assert row.actor_label == "portal:ana@mail.test"


def test_the_link_works_once(ana, post):
    browser = portal_signed_in(ana)
    post(browser, PROFILE, form(ana, email="ana.new@mail.test"))
    link = path_of(link_in(mail.outbox[0]))
    post(browser, link)

    for method in (browser.get, browser.post):
        again = method(link)
        assert again.status_code == 404
        assert EMAIL_CHANGE_LINK_INVALID in again.content.decode()
    assert audit_actions(ana).count("client.email_changed") == 1


def test_the_link_expires(ana, post):
    browser = portal_signed_in(ana)
    post(browser, PROFILE, form(ana, email="ana.new@mail.test"))
    link = path_of(link_in(mail.outbox[0]))

    later = timezone.now() + timedelta(hours=EMAIL_CHANGE_VALID_HOURS, minutes=1)
    with time_machine.travel(later, tick=False):
        # A fresh session: the first has gone idle in a day
        browser = portal_signed_in(ana)
        response = post(browser, link)
        page = browser.get(PROFILE).content.decode()

    assert response.status_code == 404
    assert EMAIL_CHANGE_LINK_INVALID in response.content.decode()
    ana.refresh_from_db()
    assert ana.email == "ana@mail.test"
    # An expired change is no longer said to be waiting
    assert "Waiting for you to confirm" not in page


def test_asking_again_replaces_the_link(ana, post):
    browser = portal_signed_in(ana)
    post(browser, PROFILE, form(ana, email="first@mail.test"))
    post(browser, PROFILE, form(ana, email="second@mail.test"))
    first, second = (path_of(link_in(m)) for m in mail.outbox)

    assert post(browser, first).status_code == 404
    assert post(browser, second).status_code == 302
    ana.refresh_from_db()
    assert ana.email == "second@mail.test"


def test_another_persons_link_does_nothing_in_my_session(tenant, ana, post):
    ben = ClientFactory(practice=tenant.practice, email="ben@mail.test")
    grant_portal(ben)
    post(portal_signed_in(ben), PROFILE, form(ben, email="ben.new@mail.test"))
    bens_link = path_of(link_in(mail.outbox[0]))

    for method in ("get", "post"):
        response = getattr(portal_signed_in(ana), method)(bens_link)
        assert response.status_code == 404
    ana.refresh_from_db()
    ben.refresh_from_db()
    assert (ana.email, ben.email) == ("ana@mail.test", "ben@mail.test")
    assert EmailChange.objects.get().is_pending


def test_keep_using_the_old_email_cancels_the_change(ana, post):
    browser = portal_signed_in(ana)
    post(browser, PROFILE, form(ana, email="ana.new@mail.test"))
    link = path_of(link_in(mail.outbox[0]))

    response = post(browser, "/portal/profile/email/cancel/", follow=True)

    assert EMAIL_CHANGE_CANCELLED.format(new="ana.new@mail.test", old="ana@mail.test") in response.content.decode()
    assert "Waiting for you to confirm" not in response.content.decode()
    assert post(browser, link).status_code == 404
    assert audit_actions(ana) == ["client.email_change_requested", "client.email_change_cancelled"]


def test_giving_the_old_email_back_cancels_the_change(ana, post):
    browser = portal_signed_in(ana)
    post(browser, PROFILE, form(ana, email="ana.new@mail.test"))

    response = post(browser, PROFILE, form(ana, email="ana@mail.test"), follow=True)

    assert EMAIL_CHANGE_CANCELLED.format(new="ana.new@mail.test", old="ana@mail.test") in response.content.decode()
    assert not EmailChange.objects.filter(cancelled_at__isnull=True).exists()


def test_saving_other_details_while_a_change_waits_sends_no_second_link(ana, post):
    browser = portal_signed_in(ana)
    post(browser, PROFILE, form(ana, email="ana.new@mail.test"))
    # The form now offers the address waiting for its link
    assert 'value="ana.new@mail.test"' in browser.get(PROFILE).content.decode()

    response = post(browser, PROFILE, form(ana, phone="555 0199", email="ana.new@mail.test"), follow=True)

    assert PROFILE_SAVED in response.content.decode()
    assert len(mail.outbox) == 1
    ana.refresh_from_db()
    assert (ana.phone, ana.email) == ("555 0199", "ana@mail.test")
    # The first link still works
    assert post(browser, path_of(link_in(mail.outbox[0]))).status_code == 302
    ana.refresh_from_db()
    assert ana.email == "ana.new@mail.test"


def test_links_to_new_addresses_are_limited_per_hour(ana, post):
    browser = portal_signed_in(ana)
    for n in range(EMAIL_CHANGE_HOURLY_LIMIT):
        post(browser, PROFILE, form(ana, email=f"new{n}@mail.test"))
    assert len(mail.outbox) == EMAIL_CHANGE_HOURLY_LIMIT

    response = post(browser, PROFILE, form(ana, first_name="Anna", email="one.more@mail.test"))

    assert response.status_code == 400
    assert EMAIL_CHANGE_TOO_MANY in response.content.decode()
    assert len(mail.outbox) == EMAIL_CHANGE_HOURLY_LIMIT
    ana.refresh_from_db()
    assert ana.first_name == "Ana"  # nothing of the refused form was saved


def test_a_payer_changes_their_own_details(tenant, post):
    paula = PayerFactory(practice=tenant.practice, first_name="Paula", last_name="Lima", email="paula@mail.test")
    leo = ClientFactory(practice=tenant.practice, first_name="Leo", payer=paula, email="leo@mail.test")
    grant_portal(leo)
    browser = portal_signed_in(paula)

    post(browser, PROFILE, form(paula, phone="555 0142", email="paula.new@mail.test"))
    post(browser, path_of(link_in(mail.outbox[0])))

    paula.refresh_from_db()
    leo.refresh_from_db()
    assert (paula.phone, paula.email) == ("555 0142", "paula.new@mail.test")
    assert leo.email == "leo@mail.test"
    assert audit_actions(paula) == ["payer.updated", "payer.email_change_requested", "payer.email_changed"]


def test_the_database_keeps_one_waiting_change_per_person(ana):
    now = timezone.now()
    fields = {"practice": ana.practice, "client": ana, "expires_at": now + timedelta(hours=1)}
    EmailChange.objects.create(new_email="a@mail.test", token_hash="a" * 64, **fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        EmailChange.objects.create(new_email="b@mail.test", token_hash="b" * 64, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        EmailChange.objects.create(
            new_email="c@mail.test",
            token_hash="c" * 64,
            practice=ana.practice,
            client=ana,
            payer=Payer.objects.create(practice=ana.practice, first_name="P", last_name="Q", email="p@mail.test"),
            expires_at=now,
            cancelled_at=now,
        )
    assert Client.objects.get(pk=ana.pk).email == "ana@mail.test"
