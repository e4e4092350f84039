"""Password reset by email (issue 3 part 7)."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from practice.mail import SECRET_REMOVED
from practice.models import OutgoingEmail, PasswordResetRequest, User
from practice.tasks import password_reset_email, sign_in_records_prune
from tests.factories import UserFactory
from tests.helpers import PASSWORD
from tests.practice.helpers import dashboard_url, page_text, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "harbour lighthouse 2026"
CHECK_EMAIL = "If that address belongs to an account"


@pytest.fixture
def ask_for_reset(django_capture_on_commit_callbacks):
    """Ask for a reset as a browser would; the email goes out after the request commits."""

    def ask(email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post(reverse("password_reset"), {"email": email}, follow=True)

    return ask


def link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_known_address_gets_an_email_with_a_link(tenant, ask_for_reset):
    response = ask_for_reset(tenant.owner.email)
    assert CHECK_EMAIL in page_text(response)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [tenant.owner.email]
    assert mail.outbox[0].subject == "Reset your Practica password"
    assert "/password-reset/" in mail.outbox[0].body


def test_an_unknown_address_sees_the_same_page_and_no_email_is_sent(tenant, ask_for_reset):
    known = ask_for_reset(tenant.owner.email)
    unknown = ask_for_reset("nobody@harbour.test")
    assert CHECK_EMAIL in page_text(unknown)
    assert known.redirect_chain == unknown.redirect_chain
    assert len(mail.outbox) == 1  # only the known address's email


def test_an_inactive_account_gets_no_email(tenant, ask_for_reset):
    User.objects.filter(pk=tenant.admin.pk).update(is_active=False)
    response = ask_for_reset(tenant.admin.email)
    assert CHECK_EMAIL in page_text(response)
    assert mail.outbox == []


def test_the_link_sets_a_new_password_and_ends_old_sessions(tenant, ask_for_reset):
    # Given the owner signed in on an old device, who forgot her password elsewhere
    old_device = Client()
    sign_in(old_device, tenant.owner.email)
    assert old_device.get(dashboard_url(tenant.practice)).status_code == 200
    ask_for_reset(tenant.owner.email)
    # When she opens the link and chooses a new password
    browser = Client()
    form_page = browser.get(link_in(mail.outbox[0]), follow=True)
    assert "Choose a new password" in page_text(form_page)
    done = browser.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Password saved" in page_text(done)
    # Then the new password signs in and the old one does not
    assert sign_in(Client(), tenant.owner.email, PASSWORD).status_code == 200
    assert sign_in(Client(), tenant.owner.email, NEW_PASSWORD).status_code == 302
    # And the old device is signed out
    assert old_device.get(dashboard_url(tenant.practice)).status_code == 302


def test_the_link_works_only_once(tenant, ask_for_reset):
    ask_for_reset(tenant.owner.email)
    link = link_in(mail.outbox[0])
    browser = Client()
    form_page = browser.get(link, follow=True)
    browser.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client().get(link, follow=True)
    assert "This link has expired" in page_text(again)


def test_a_short_new_password_is_refused_with_a_field_error(tenant, ask_for_reset):
    ask_for_reset(tenant.owner.email)
    browser = Client()
    form_page = browser.get(link_in(mail.outbox[0]), follow=True)
    response = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": "Tr0ub4dor&3", "new_password2": "Tr0ub4dor&3"}
    )
    assert response.status_code == 200
    assert "at least 12 characters" in page_text(response)
    assert sign_in(Client(), tenant.owner.email, PASSWORD).status_code == 302


# Throttling (issue 9 part 17) ---------------------------------------------------------


@pytest.fixture
def ask_from(django_capture_on_commit_callbacks):
    def ask(email: str, ip: str):
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip, follow=True)

    return ask


def test_fifteen_requests_for_one_email_send_three_emails_and_each_page_reads_the_same(tenant, clock, ask_from):
    # Given someone asks for the owner's reset link 15 times in a row, from many addresses
    pages = [ask_from(tenant.owner.email, f"203.0.113.{n + 1}") for n in range(15)]
    # Then only three emails go out
    assert len(mail.outbox) == 3
    # And every answer is the usual "check your email" page
    for page in pages:
        assert page.redirect_chain == pages[0].redirect_chain
        assert CHECK_EMAIL in page_text(page)


def test_the_per_email_limit_lifts_after_an_hour(tenant, clock, ask_from):
    for _ in range(4):
        ask_from(tenant.owner.email, "203.0.113.1")
    assert len(mail.outbox) == 3
    clock.shift(timedelta(hours=1, seconds=1))
    ask_from(tenant.owner.email, "203.0.113.1")
    assert len(mail.outbox) == 4


def test_one_address_gets_at_most_twenty_reset_emails_an_hour(tenant, clock, ask_from):
    # Given 25 staff accounts, and one address asking a reset for each
    users = [UserFactory(email=f"staff{n}@harbour.test") for n in range(25)]
    pages = [ask_from(user.email, "203.0.113.77") for user in users]
    # Then 20 emails go out and the page reads the same every time
    assert len(mail.outbox) == 20
    assert all(CHECK_EMAIL in page_text(page) for page in pages)
    # And another address is not affected
    ask_from(users[-1].email, "192.0.2.4")
    assert len(mail.outbox) == 21


def test_unknown_emails_count_against_the_address_too(tenant, clock, ask_from):
    # Unknown and known emails look the same to the throttle, so it cannot tell them apart either
    for n in range(20):
        ask_from(f"ghost{n}@harbour.test", "203.0.113.77")
    ask_from(tenant.owner.email, "203.0.113.77")
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_simultaneous_requests_for_one_email_send_three_emails(tenant, ask_from):
    # Given 10 requests for the owner's link arriving at once
    barrier = threading.Barrier(10)

    def ask() -> None:
        barrier.wait()
        try:
            ask_from(tenant.owner.email, "203.0.113.5")
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly three emails were sent
    assert len(mail.outbox) == 3


def test_the_hourly_prune_drops_reset_records_past_their_window(tenant, clock, ask_from):
    ask_from(tenant.owner.email, "203.0.113.1")
    clock.shift(timedelta(minutes=30))
    ask_from(tenant.owner.email, "203.0.113.1")
    clock.shift(timedelta(minutes=31))
    # When the hourly job runs, an hour and a minute after the first request
    sign_in_records_prune()
    # Then only the request still inside the window is kept, so it still counts
    assert PasswordResetRequest.objects.count() == 1


# Sent from the queue (issue 13 part 7) ------------------------------------------------


def test_the_request_answers_before_the_email_goes_out(tenant, django_capture_on_commit_callbacks):
    # When the owner asks for a reset, the answer comes before anything is sent
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        page = Client().post(reverse("password_reset"), {"email": tenant.owner.email}, follow=True)
    assert CHECK_EMAIL in page_text(page)
    assert mail.outbox == []
    assert not OutgoingEmail.objects.exists()
    # Then once the request has committed, one email goes out through the queue
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert len(mail.outbox) == 1
    assert "/password-reset/" in mail.outbox[0].body
    # And with a plain-text part and the footer, and the link not kept after sending
    assert "This is a service email about your Practica account." in mail.outbox[0].body
    sent = OutgoingEmail.objects.get()
    assert sent.status == OutgoingEmail.Status.SENT
    assert sent.to == tenant.owner.email
    assert sent.text == sent.html == SECRET_REMOVED


def test_a_known_and_an_unknown_address_do_the_same_work_in_the_request(tenant):
    def queries_for(email: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            Client().post(reverse("password_reset"), {"email": email}, REMOTE_ADDR="203.0.113.9")
        # The same statements, apart from the values they carry and the savepoints' names
        return [
            re.sub(r'"s\d+_x\d+"', "?", re.sub(r"'[^']*'", "?", query["sql"])) for query in captured.captured_queries
        ]

    assert queries_for(tenant.owner.email) == queries_for("nobody@harbour.test")


def test_a_repeated_task_sends_the_email_once(tenant, ask_for_reset):
    ask_for_reset(tenant.owner.email)
    password_reset_email(PasswordResetRequest.objects.get().pk)
    assert len(mail.outbox) == 1
