"""Emails about staff accounts, rendered from HTML and text templates and sent through the
email queue (practice.mail)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from .mail import email_queue
from .models import OutgoingEmail, StaffInvite


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
