"""Inviting staff by email, accepting, revoking, roles and removal (issue 3 part 7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from practice.access import ROLE_REFUSED
from practice.models import Membership, Role, StaffInvite, User
from practice.services import (
    INVITE_ALREADY_MEMBER,
    INVITE_ALREADY_PENDING,
    INVITE_NOT_VALID,
    LAST_OWNER,
)
from tests.helpers import signed_in, url
from tests.practice.helpers import dashboard_url, page_text, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a good long password"


@pytest.fixture
def invite_by_owner(tenant, django_capture_on_commit_callbacks):
    """Send an invitation from Settings > Staff as the owner; returns the response."""

    def invite(email: str, role: str = Role.CLINICIAN):
        owner = signed_in(tenant.owner)
        with django_capture_on_commit_callbacks(execute=True):
            return owner.post(url(tenant.practice, "staff"), {"email": email, "role": role}, follow=True)

    return invite


def invite_link(email: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [email])
    match = re.search(r"https?://[^/\s]+(/invite/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_owner_invites_someone_and_an_email_with_a_link_is_sent(tenant, invite_by_owner):
    response = invite_by_owner("new.person@example.test", Role.BILLER)
    assert "Invitation sent to new.person@example.test." in page_text(response)
    assert "new.person@example.test · Biller" in page_text(response)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["new.person@example.test"]
    assert "Harbour Street Therapy" in email.subject
    assert "as biller" in email.body
    assert "valid for 7 days" in email.body
    assert StaffInvite.objects.get().role == Role.BILLER


def test_a_new_person_sets_name_and_password_and_lands_on_the_dashboard_with_that_role(tenant, invite_by_owner):
    invite_by_owner("new.person@example.test", Role.BILLER)
    link = invite_link("new.person@example.test")
    browser = Client()
    # When the invited person opens the link
    page = browser.get(link)
    assert "Join Harbour Street Therapy" in page_text(page)
    assert "biller" in page_text(page)
    # And chooses a name and a password
    response = browser.post(
        link,
        {"first_name": "Nora", "last_name": "Newman", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )
    # Then she is on the practice's dashboard, signed in, as a biller
    assert response.redirect_chain[-1][0] == dashboard_url(tenant.practice)
    assert "Welcome to Harbour Street Therapy." in page_text(response)
    assert "Nora Newman · Biller" in page_text(response)
    membership = Membership.objects.get(user__email="new.person@example.test", practice=tenant.practice)
    assert membership.role == Role.BILLER
    # And the password she chose signs her in later
    assert sign_in(Client(), "new.person@example.test", NEW_PASSWORD).status_code == 302
    # And the link does not work a second time
    assert INVITE_NOT_VALID in page_text(Client().get(link))


def test_a_short_password_on_the_invite_page_is_a_field_error_and_nothing_is_created(tenant, invite_by_owner):
    invite_by_owner("new.person@example.test")
    link = invite_link("new.person@example.test")
    response = Client().post(
        link, {"first_name": "Nora", "last_name": "Newman", "password1": "Sh0rt!pass", "password2": "Sh0rt!pass"}
    )
    assert response.status_code == 200
    assert "at least 12 characters" in page_text(response)
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_the_link_is_valid_for_7_days(tenant, invite_by_owner, clock):
    invite_by_owner("new.person@example.test")
    link = invite_link("new.person@example.test")
    clock.shift(timedelta(days=6, hours=23))
    assert "Join Harbour Street Therapy" in page_text(Client().get(link))
    clock.shift(timedelta(hours=1, minutes=1))
    # After 7 days the page says the invitation is not valid, and joining is refused
    expired = Client().get(link)
    assert expired.status_code == 404
    assert INVITE_NOT_VALID in page_text(expired)
    Client().post(link, {"first_name": "N", "last_name": "N", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert not User.objects.filter(email="new.person@example.test").exists()


def test_an_expired_invitation_can_be_sent_again(tenant, invite_by_owner, clock):
    invite_by_owner("new.person@example.test")
    clock.shift(timedelta(days=8))
    response = invite_by_owner("new.person@example.test")
    assert "Invitation sent" in page_text(response)
    assert "Join Harbour Street Therapy" in page_text(Client().get(invite_link("new.person@example.test")))


def test_an_existing_user_must_sign_in_to_accept(tenant, other_tenant, invite_by_owner):
    # Given the owner of the other practice is invited to this one as an admin
    invited = other_tenant.owner
    invite_by_owner(invited.email, Role.ADMIN)
    link = invite_link(invited.email)
    browser = Client()
    # When she opens the link without being signed in, she is asked to sign in
    response = browser.get(link)
    assert response.status_code == 302
    assert response.url == f"{reverse('signin')}?next={link}"
    assert not Membership.objects.filter(user=invited, practice=tenant.practice).exists()
    # And after signing in she comes back to the invitation and accepts it
    back = browser.post(reverse("signin"), {"username": invited.email, "password": "practica-demo", "next": link})
    assert back.url == link
    assert "Accept and join" in page_text(browser.get(link))
    joined = browser.post(link, follow=True)
    assert joined.redirect_chain[-1][0] == dashboard_url(tenant.practice)
    assert Membership.objects.get(user=invited, practice=tenant.practice).role == Role.ADMIN
    # And she still belongs to her own practice
    assert browser.get(dashboard_url(other_tenant.practice)).status_code == 200


def test_someone_else_signed_in_cannot_accept_the_invitation(tenant, other_tenant, invite_by_owner):
    invite_by_owner("new.person@example.test")
    link = invite_link("new.person@example.test")
    intruder = signed_in(other_tenant.biller)
    intruder.post(link)
    assert not Membership.objects.filter(user=other_tenant.biller, practice=tenant.practice).exists()
    assert StaffInvite.objects.get().accepted_at is None


def test_a_second_pending_invitation_to_the_same_address_is_a_field_error(tenant, invite_by_owner):
    invite_by_owner("new.person@example.test")
    response = invite_by_owner("NEW.person@example.test", Role.ADMIN)
    assert response.status_code == 400
    assert INVITE_ALREADY_PENDING in page_text(response)
    assert StaffInvite.objects.count() == 1
    assert len(mail.outbox) == 1


def test_inviting_a_current_member_is_a_field_error(tenant, invite_by_owner):
    response = invite_by_owner(tenant.biller.email)
    assert response.status_code == 400
    assert INVITE_ALREADY_MEMBER in page_text(response)
    assert mail.outbox == []


def test_an_invalid_email_is_a_field_error(tenant, invite_by_owner):
    response = invite_by_owner("not-an-email")
    assert response.status_code == 400
    assert "Enter a valid email address." in page_text(response)
    assert StaffInvite.objects.count() == 0


def test_the_owner_withdraws_an_invitation_and_its_link_stops_working(tenant, invite_by_owner):
    invite_by_owner("new.person@example.test")
    link = invite_link("new.person@example.test")
    invite = StaffInvite.objects.get()
    owner = signed_in(tenant.owner)
    response = owner.post(url(tenant.practice, "staff_invite_revoke", invite_id=invite.pk), follow=True)
    assert "The invitation to new.person@example.test was withdrawn." in page_text(response)
    assert "Waiting to accept" not in page_text(response)
    assert INVITE_NOT_VALID in page_text(Client().get(link))


def test_the_owner_changes_a_role(tenant):
    owner = signed_in(tenant.owner)
    membership = Membership.objects.get(user=tenant.clinician, practice=tenant.practice)
    response = owner.post(
        url(tenant.practice, "staff_change_role", membership_id=membership.pk), {"role": Role.ADMIN}, follow=True
    )
    assert "is now admin" in page_text(response)
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN
    # The clinician can now open the audit log, which admins may see
    assert signed_in(tenant.clinician).get(url(tenant.practice, "audit_log")).status_code == 200


def test_the_owner_removes_a_member_who_then_loses_access(tenant):
    owner = signed_in(tenant.owner)
    biller = signed_in(tenant.biller)
    membership = Membership.objects.get(user=tenant.biller, practice=tenant.practice)
    response = owner.post(url(tenant.practice, "staff_remove", membership_id=membership.pk), follow=True)
    assert "no longer has access to this practice" in page_text(response)
    assert tenant.biller.email not in page_text(owner.get(url(tenant.practice, "staff")))
    assert biller.get(dashboard_url(tenant.practice)).status_code == 404


def test_the_last_owner_cannot_be_removed_or_demoted(tenant):
    owner = signed_in(tenant.owner)
    mine = Membership.objects.get(user=tenant.owner, practice=tenant.practice)
    demote = owner.post(
        url(tenant.practice, "staff_change_role", membership_id=mine.pk), {"role": Role.CLINICIAN}, follow=True
    )
    assert LAST_OWNER in page_text(demote)
    remove = owner.post(url(tenant.practice, "staff_remove", membership_id=mine.pk), follow=True)
    assert LAST_OWNER in page_text(remove)
    mine.refresh_from_db()
    assert (mine.role, mine.is_active) == (Role.OWNER, True)


def test_with_two_owners_one_may_step_down(tenant):
    Membership.objects.filter(user=tenant.admin, practice=tenant.practice).update(role=Role.OWNER)
    owner = signed_in(tenant.owner)
    mine = Membership.objects.get(user=tenant.owner, practice=tenant.practice)
    owner.post(url(tenant.practice, "staff_change_role", membership_id=mine.pk), {"role": Role.ADMIN})
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN


def test_a_removed_owner_does_not_count_as_an_owner(tenant):
    # Given a second owner who was removed from the practice
    second = Membership.objects.get(user=tenant.admin, practice=tenant.practice)
    Membership.objects.filter(pk=second.pk).update(role=Role.OWNER, is_active=False)
    # When the remaining owner tries to step down, she is refused
    owner = signed_in(tenant.owner)
    mine = Membership.objects.get(user=tenant.owner, practice=tenant.practice)
    response = owner.post(
        url(tenant.practice, "staff_change_role", membership_id=mine.pk), {"role": Role.ADMIN}, follow=True
    )
    assert LAST_OWNER in page_text(response)
    mine.refresh_from_db()
    assert mine.role == Role.OWNER


@pytest.mark.parametrize("role", [Role.ADMIN, Role.BILLER, Role.CLINICIAN])
def test_only_the_owner_may_invite(tenant, role, django_capture_on_commit_callbacks):
    client = signed_in(tenant.member(role))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(tenant.practice, "staff"), {"email": "x@example.test", "role": Role.OWNER})
    assert response.status_code == 403
    assert ROLE_REFUSED in page_text(response)
    assert StaffInvite.objects.count() == 0
    assert mail.outbox == []
