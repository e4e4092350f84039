"""Emails about staff accounts, rendered from HTML and text templates and sent through the
email queue (practice.mail)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.urls import reverse

from .mail import email_queue
from .models import OutgoingEmail, PasswordResetRequest, StaffInvite


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def staff_invite_email_queue(*, invite: StaffInvite, token: str) -> OutgoingEmail:
    """Queue the invitation email; call inside the transaction that created the invite."""
    link = site_url() + reverse("invite_accept", kwargs={"token": token})
    return email_queue(
        key=f"staff-invite:{invite.pk}",
        to=invite.email,
        subject=f"You are invited to join {invite.practice.name} on Practica",
        template="staff_invite",
        context={"invite": invite, "link": link, "days": settings.INVITE_VALID_DAYS},
        practice=invite.practice,
        about=invite,
        secret=True,
    )


PASSWORD_RESET_SUBJECT = "Reset your Practica password"


def password_reset_email_queue(*, reset_request: PasswordResetRequest) -> list[OutgoingEmail]:
    """Queue the reset email for each active account with the request's email (none for an
    unknown address). Keyed by the request, so a repeated task sends nothing more."""
    from .services import password_reset_link

    emails = []
    # Django's own rule: active accounts with a usable password, the email matched ignoring case.
    for user in PasswordResetForm().get_users(reset_request.email):
        emails.append(
            email_queue(
                key=f"password-reset:{reset_request.pk}:{user.pk}",
                to=user.email,
                subject=PASSWORD_RESET_SUBJECT,
                template="password_reset",
                context={"email": user.email, "link": password_reset_link(user=user, base_url=site_url())},
                about=user,
                secret=True,
            )
        )
    return emails
