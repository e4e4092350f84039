"""The portal's Profile: a client (or payer) changes their own name, phone and email.

Name and phone change at once. A new email is not used until the person proves they
receive mail there: ``profile_update`` records an ``EmailChange`` and emails a link to the
new address; until the link is opened (``email_change_confirm``), the old address stays
the one they sign in with and the one invoices, statements and receipts go to. The link
works once, for ``EMAIL_CHANGE_VALID_HOURS``, and only in the portal session of the person
who asked; asking again replaces it. Once the change is made, the old address is told,
so a change nobody asked for does not go unnoticed.

Every change is written to the audit log in the same transaction, naming the portal
person (``Actor.of_portal``). Bad input raises ValidationError before anything is written.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from practice.actor import Actor
from practice.audit import audit_write, diff_fields, snapshot
from practice.emails import site_url
from practice.mail import email_queue
from practice.text import LINE_BREAKS, SINGLE_LINE

from .models import Client, EmailChange, Payer
from .services import NAME_REQUIRED

# Error messages and notices a person sees (tests assert on them).
PROFILE_SAVED = "Your details are saved."
PROFILE_UNCHANGED = "Nothing to save: your details are as they were."
EMAIL_REQUIRED = "Enter your email address: it is how you sign in."
PHONE_BAD = "Enter a phone number using digits, spaces and + ( ) - . only."
PHONE_TOO_LONG = "Enter a phone number of at most 40 characters."
NAME_TOO_LONG = "Enter at most 100 characters."
EMAIL_CHANGE_SENT = "We sent a link to {new} to confirm it. Until you open it, we keep using {old}."
EMAIL_CHANGE_PENDING = "Waiting for you to confirm {new}: open the link we sent there. Until then, we use {old}."
EMAIL_CHANGE_TOO_MANY = "You have asked for several links in the last hour. Wait a while, then try again."
EMAIL_CHANGE_LINK_INVALID = "This link has expired, was already used or was replaced by a newer one."
EMAIL_CHANGE_DONE = "Your email is now {new}. Use it to sign in from now on."
EMAIL_CHANGE_CANCELLED = "The change to {new} is cancelled. We keep using {old}."

EMAIL_CHANGE_VALID_HOURS = 24
# Links to new addresses a person may ask for in an hour: each is an email to an address
# the practice has not seen, so a signed-in person must not be able to send many.
EMAIL_CHANGE_HOURLY_LIMIT = 5
PHONE_SHAPE = re.compile(r"[0-9+()\-. ]*[0-9][0-9+()\-. ]*")
NAME_MAX_LENGTH = 100
PHONE_MAX_LENGTH = 40

Person = Client | Payer
PROFILE_FIELDS = ("first_name", "last_name", "phone")


@dataclass(frozen=True)
class ProfileResult:
    person: Person
    changed: bool
    # The change waiting for its link, when this update asked for one.
    email_change: EmailChange | None


def _owner(person: Person) -> Q:
    return Q(client=person) if isinstance(person, Client) else Q(payer=person)


def _action(person: Person, what: str) -> str:
    return f"{'client' if isinstance(person, Client) else 'payer'}.{what}"


def _check(*, first_name: str, last_name: str, phone: str, email: str) -> None:
    errors: dict[str, list[str]] = {}
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if not value:
            errors[field] = [NAME_REQUIRED]
        elif len(value) > NAME_MAX_LENGTH:
            errors[field] = [NAME_TOO_LONG]
        elif any(char in LINE_BREAKS for char in value):
            errors[field] = [SINGLE_LINE]
    if len(phone) > PHONE_MAX_LENGTH:
        errors["phone"] = [PHONE_TOO_LONG]
    elif phone and not PHONE_SHAPE.fullmatch(phone):
        errors["phone"] = [PHONE_BAD]
    if not email:
        errors["email"] = [EMAIL_REQUIRED]
    else:
        try:
            validate_email(email)
        except ValidationError as exc:
            errors["email"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)


def email_change_pending(person: Person) -> EmailChange | None:
    """The person's change of email waiting for its link, if the link still works."""
    return (
        EmailChange.objects.filter(_owner(person), confirmed_at__isnull=True, cancelled_at__isnull=True)
        .filter(expires_at__gt=timezone.now())
        .first()
    )


def profile_update(
    *, person: Person, actor: Actor, first_name: str, last_name: str, phone: str, email: str
) -> ProfileResult:
    """Save the person's name and phone; for a new email, send the confirmation link and
    leave the email as it is. Giving back the current email cancels a change waiting; giving
    the one waiting leaves it waiting (its link still works; no second one is sent)."""
    first_name, last_name, phone = first_name.strip(), last_name.strip(), " ".join(phone.split())
    email = email.strip().lower()
    _check(first_name=first_name, last_name=last_name, phone=phone, email=email)
    model = type(person)
    now = timezone.now()
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=person.pk)
        before = snapshot(locked, PROFILE_FIELDS)
        locked.first_name, locked.last_name, locked.phone = first_name, last_name, phone
        changes = diff_fields(before, snapshot(locked, PROFILE_FIELDS))
        if changes:
            locked.save(update_fields=list(PROFILE_FIELDS))
            audit_write(
                practice=locked.practice, actor=actor, action=_action(locked, "updated"), obj=locked, changes=changes
            )
        change = None
        waiting = EmailChange.objects.filter(_owner(locked), confirmed_at__isnull=True, cancelled_at__isnull=True)
        if email == locked.email.lower():
            for row in waiting.filter(expires_at__gt=now):
                # The person put their email back: the change they asked for is off.
                audit_write(
                    practice=locked.practice,
                    actor=actor,
                    action=_action(locked, "email_change_cancelled"),
                    obj=locked,
                    changes={"email": row.new_email},
                )
                changes["email_change"] = ["cancelled"]
            waiting.update(cancelled_at=now)
        elif waiting.filter(expires_at__gt=now, new_email=email).exists():
            pass  # the form shows the address waiting for its link: saving it again is not a new ask
        else:
            change = _email_change_request(person=locked, actor=actor, new_email=email, now=now)
            changes["email_change"] = [email]
    return ProfileResult(person=locked, changed=bool(changes), email_change=change)


def _email_change_request(*, person: Person, actor: Actor, new_email: str, now: datetime) -> EmailChange:
    asked = EmailChange.objects.filter(_owner(person), requested_at__gt=now - timedelta(hours=1)).count()
    if asked >= EMAIL_CHANGE_HOURLY_LIMIT:
        raise ValidationError({"email": EMAIL_CHANGE_TOO_MANY})
    # One change waits at a time (a unique index says so): a new request replaces the last.
    EmailChange.objects.filter(_owner(person), confirmed_at__isnull=True, cancelled_at__isnull=True).update(
        cancelled_at=now
    )
    token = secrets.token_urlsafe(32)
    change = EmailChange.objects.create(
        practice=person.practice,
        client=person if isinstance(person, Client) else None,
        payer=person if isinstance(person, Payer) else None,
        new_email=new_email,
        token_hash=EmailChange.hash_token(token),
        requested_at=now,
        expires_at=now + timedelta(hours=EMAIL_CHANGE_VALID_HOURS),
    )
    audit_write(
        practice=person.practice,
        actor=actor,
        action=_action(person, "email_change_requested"),
        obj=person,
        changes={"email": [person.email, new_email]},
    )
    link = site_url() + reverse("portal:email_confirm", kwargs={"token": token})
    email_queue(
        key=f"email-change:{change.pk}",
        to=new_email,
        subject=f"Confirm your new email for {person.practice.name}",
        template="email_change_confirm",
        context={"link": link, "hours": EMAIL_CHANGE_VALID_HOURS, "practice_name": person.practice.name},
        practice=person.practice,
        about=person,
        secret=True,
    )
    return change


def email_change_for_link(*, person: Person, token: str) -> EmailChange | None:
    """The change the link ``token`` confirms, if it is this person's and still works."""
    change = EmailChange.objects.filter(_owner(person), token_hash=EmailChange.hash_token(token)).first()
    return change if change is not None and change.is_pending else None


def email_change_confirm(*, person: Person, actor: Actor, token: str) -> EmailChange:
    """Make the new email the person's own (the link was opened in their session), and
    tell the old address."""
    with transaction.atomic():
        change = (
            EmailChange.objects.select_for_update()
            .filter(_owner(person), token_hash=EmailChange.hash_token(token))
            .first()
        )
        if change is None or not change.is_pending:
            raise ValidationError(EMAIL_CHANGE_LINK_INVALID)
        locked = type(person).objects.select_for_update().get(pk=person.pk)
        old = locked.email
        locked.email = change.new_email
        locked.save(update_fields=["email"])
        change.confirmed_at = timezone.now()
        change.save(update_fields=["confirmed_at"])
        audit_write(
            practice=locked.practice,
            actor=actor,
            action=_action(locked, "email_changed"),
            obj=locked,
            changes={"email": [old, change.new_email]},
        )
        if old:
            email_queue(
                key=f"email-changed:{change.pk}",
                to=old,
                subject=f"Your email for {locked.practice.name} was changed",
                template="email_changed",
                context={"new_email": change.new_email, "practice_name": locked.practice.name},
                practice=locked.practice,
                about=locked,
            )
    return change


def email_change_cancel(*, person: Person, actor: Actor) -> EmailChange | None:
    """Call off the change waiting for its link (the link stops working)."""
    with transaction.atomic():
        change = (
            EmailChange.objects.select_for_update()
            .filter(_owner(person), confirmed_at__isnull=True, cancelled_at__isnull=True)
            .first()
        )
        if change is None:
            return None
        change.cancelled_at = timezone.now()
        change.save(update_fields=["cancelled_at"])
        audit_write(
            practice=person.practice,
            actor=actor,
            action=_action(person, "email_change_cancelled"),
            obj=person,
            changes={"email": change.new_email},
        )
    return change
