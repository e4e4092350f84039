"""Emails about staff accounts, rendered from HTML and text templates."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import StaffInvite
from .text import one_line


def send_templated_email(*, to: list[str], subject: str, template: str, context: dict[str, Any]) -> None:
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    # A header cannot hold a line break (Django refuses to send it): a name stored before
    # line breaks were refused must not stop the e-mail.
    message = EmailMultiAlternatives(one_line(subject), text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    message.send()


def site_url() -> str:
    return settings.SITE_URL.rstrip("/")


def staff_invite_email_send(*, invite: StaffInvite, token: str) -> None:
    link = site_url() + reverse("invite_accept", kwargs={"token": token})
    send_templated_email(
        to=[invite.email],
        subject=f"You are invited to join {invite.practice.name} on Practica",
        template="staff_invite",
        context={"invite": invite, "link": link, "days": settings.INVITE_VALID_DAYS},
    )
