"""Signing in to the client portal by an emailed one-time link, and staff's Portal invitation.

A person enters their email; ``portal_sign_in_request`` records the request (counted for
throttling, known email or not) and, after commit, the ``portal_sign_in_email`` task looks
the email up and emails a link only when someone with portal access has it. The request
itself does the same work for a known and an unknown email, so neither its answer nor its
timing tells them apart.

A link holds a random token; only its SHA-256 is stored. It signs in once, within
``PORTAL_SIGNIN_LINK_MINUTES`` of the request (a staff invitation's within
``PORTAL_INVITE_VALID_DAYS``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from practice.actor import Actor
from practice.audit import audit_write
from practice.mail import email_queue
from practice.models import Practice

from .models import Client, PortalAccess, PortalSignInLink
from .portal import PortalIdentity, portal_identities

# Advisory lock namespaces (pg_advisory_xact_lock's first key); practice.services uses 1 and 2.
_LOCK_EMAIL = 15_001
_LOCK_ADDRESS = 15_002

INVITE_NO_EMAIL = "Add an email address for this client (or their payer) before sending a portal invitation."
INVITE_ARCHIVED = "This client is archived: restore them before sending a portal invitation."


class SignInLinkInvalid(Exception):
    """Not a link we sent (or one pruned long ago)."""


class SignInLinkExpired(Exception):
    """A link of ours past its time. ``email`` is whom it was for (to offer a new one)."""

    def __init__(self, email: str) -> None:
        super().__init__(email)
        self.email = email


class SignInLinkUsed(SignInLinkExpired):
    """A link of ours that has signed in already."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_sign_in_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("portal:signin_link", kwargs={"token": token})


def portal_sign_in_request(*, email: str, ip: str | None) -> bool:
    """Record a request for a sign-in link to ``email`` and queue its email (after commit);
    False, and nothing recorded, when the email or the address is over its limit.

    Two advisory locks (email, then address: always that order) make the count and the
    insert one step, so simultaneous requests cannot all see room."""
    email = email.strip().lower()
    since = timezone.now() - settings.PORTAL_SIGNIN_WINDOW
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_EMAIL, email])
        if ip:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_ADDRESS, ip])
        recent = PortalSignInLink.objects.filter(requested_at__gte=since, invitation=False)
        if recent.filter(email=email).count() >= settings.PORTAL_SIGNIN_EMAIL_LIMIT:
            return False
        if ip and recent.filter(ip_address=ip).count() >= settings.PORTAL_SIGNIN_ADDRESS_LIMIT:
            return False
        link = PortalSignInLink.objects.create(email=email, ip_address=ip)
        from .tasks import portal_sign_in_email

        transaction.on_commit(lambda: portal_sign_in_email.delay(link.pk))
    return True


def _only_practice(identities: list[PortalIdentity]) -> Practice | None:
    practices = {identity.practice.pk: identity.practice for identity in identities}
    return next(iter(practices.values())) if len(practices) == 1 else None


def portal_sign_in_link_send(*, link_id: int) -> bool:
    """Give the request ``link_id`` a token and email its link, when its email has portal
    access somewhere (otherwise nothing is sent). Safe to run twice: the email is queued
    once under the request's key, and a request that has its token keeps it."""
    with transaction.atomic():
        link = PortalSignInLink.objects.select_for_update().filter(pk=link_id).first()
        if link is None or link.token_hash is not None:
            return False
        identities = portal_identities(link.email)
        if not identities:
            return False
        token = secrets.token_urlsafe(32)
        link.token_hash = _hash(token)
        link.expires_at = link.requested_at + timedelta(minutes=settings.PORTAL_SIGNIN_LINK_MINUTES)
        link.save(update_fields=["token_hash", "expires_at"])
        practice = _only_practice(identities)
        email_queue(
            key=f"portal-signin:{link.pk}",
            to=link.email,
            subject=f"Your sign-in link for {practice.name if practice else 'your client portal'}",
            template="portal_signin",
            context={
                "url": portal_sign_in_url(token),
                "minutes": settings.PORTAL_SIGNIN_LINK_MINUTES,
                "practice": practice,
                "practices": sorted({identity.practice.name for identity in identities}),
            },
            practice=practice,
            about=link,
            secret=True,
        )
    return True


def portal_sign_in_link_use(*, token: str, now: datetime | None = None) -> str:
    """Spend the link holding ``token`` and return the email it signs in; raises
    SignInLinkInvalid, SignInLinkExpired or SignInLinkUsed (and spends nothing)."""
    now = now or timezone.now()
    with transaction.atomic():
        link = PortalSignInLink.objects.select_for_update().filter(token_hash=_hash(token)).first()
        if link is None or link.expires_at is None:
            raise SignInLinkInvalid
        if link.used_at is not None:
            raise SignInLinkUsed(link.email)
        if link.expires_at <= now:
            raise SignInLinkExpired(link.email)
        link.used_at = now
        link.save(update_fields=["used_at"])
    return link.email


def portal_sign_in_link_peek(*, token: str) -> PortalSignInLink:
    """The link holding ``token`` without spending it (the page with the Sign in button:
    opening the email's link must not spend it, as mail scanners open links too)."""
    link = PortalSignInLink.objects.filter(token_hash=_hash(token)).first()
    if link is None or link.expires_at is None:
        raise SignInLinkInvalid
    if link.used_at is not None:
        raise SignInLinkUsed(link.email)
    if link.expires_at <= timezone.now():
        raise SignInLinkExpired(link.email)
    return link


def portal_signed_in_audit(*, identity: PortalIdentity, address: str | None) -> None:
    """The audit row of a portal sign-in (written when the person starts using an identity)."""
    audit_write(
        practice=identity.practice,
        actor=Actor.of_portal(identity.email, address=address),
        action="portal.signed_in",
        obj=identity.client or identity.payer,
    )


def portal_invitation_send(*, client: Client, actor: Actor) -> PortalSignInLink:
    """Grant ``client`` portal access (if not already on) and email a Portal invitation with
    a sign-in link to their billing email (the payer's, when they have one). Audited."""
    email = client.billing_email.strip().lower()
    if client.status != Client.Status.ACTIVE:
        raise ValueError(INVITE_ARCHIVED)
    if not email:
        raise ValueError(INVITE_NO_EMAIL)
    now = timezone.now()
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        access, created = PortalAccess.objects.get_or_create(
            client=locked, defaults={"practice_id": locked.practice_id, "granted_by": actor.user, "granted_at": now}
        )
        granted = created or access.revoked_at is not None
        if access.revoked_at is not None:
            access.revoked_at = None
            access.granted_at = now
            access.granted_by = actor.user
        access.invited_at = now
        access.save()
        token = secrets.token_urlsafe(32)
        link = PortalSignInLink.objects.create(
            email=email,
            ip_address=actor.address,
            requested_at=now,
            token_hash=_hash(token),
            expires_at=now + timedelta(days=settings.PORTAL_INVITE_VALID_DAYS),
            invitation=True,
        )
        practice = locked.practice
        email_queue(
            key=f"portal-invitation:{link.pk}",
            to=email,
            subject=f"{practice.name} invites you to its client portal",
            template="portal_invitation",
            context={
                "url": portal_sign_in_url(token),
                "days": settings.PORTAL_INVITE_VALID_DAYS,
                "practice": practice,
                "signin_url": settings.SITE_URL.rstrip("/") + reverse("portal:signin"),
            },
            practice=practice,
            about=locked,
            secret=True,
            created_by=actor.user,
        )
        audit_write(
            practice=practice,
            actor=actor,
            action="client.portal_invited",
            obj=locked,
            changes={"to": email, "access_granted": granted},
        )
    return link


def portal_access_revoke(*, client: Client, actor: Actor) -> None:
    """Turn portal access off: the client's (and, through them, their payer's) portal
    sessions end at their next request. Audited."""
    with transaction.atomic():
        changed = PortalAccess.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if changed:
            audit_write(practice=client.practice, actor=actor, action="client.portal_revoked", obj=client)


def portal_sign_in_links_prune(*, now: datetime | None = None) -> int:
    """Delete sign-in requests nobody counts and no link can use any more."""
    now = now or timezone.now()
    cutoff = now - max(settings.PORTAL_SIGNIN_WINDOW, timedelta(days=settings.PORTAL_INVITE_VALID_DAYS))
    deleted, _ = PortalSignInLink.objects.filter(requested_at__lt=cutoff).delete()
    return deleted
