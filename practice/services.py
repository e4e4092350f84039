"""Writes for practices, staff and sign-in. Each is one transaction with its audit row."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from .actor import Actor
from .audit import audit_write, diff_fields, snapshot
from .images import logo_normalise
from .models import InvoiceTemplate, Membership, PasswordResetRequest, Practice, Role, StaffInvite, User

INVITE_ALREADY_MEMBER = "That person is already a member of this practice."
INVITE_ALREADY_PENDING = "An invitation to that address is already waiting to be accepted."
INVITE_NOT_VALID = "This invitation link is not valid or has expired. Ask the practice for a new one."
INVITE_WRONG_ACCOUNT = "This invitation was sent to another email address. Sign out and open it again."
LAST_OWNER = "A practice needs at least one owner."
NPI_BAD = "An NPI is 10 digits."
STAFF_PROFILE_FIELDS = ("licence_number", "npi", "tax_id")
TOTP_BAD_TOKEN = "That code is not right. Check your authenticator app and try again."
# Advisory lock classes (first key of pg_advisory_xact_lock) for the reset throttle.
PASSWORD_RESET_LOCK_EMAIL = 9101
PASSWORD_RESET_LOCK_ADDRESS = 9102

PRACTICE_SETTINGS_FIELDS = (
    "name",
    "timezone",
    "address",
    "phone",
    "email",
    "session_idle_minutes",
    "day_start_hour",
    "day_end_hour",
)


def practice_create(*, name: str, slug: str, owner: User, **fields: Any) -> Practice:
    with transaction.atomic():
        practice = Practice.objects.create(name=name, slug=slug, **fields)
        Membership.objects.create(user=owner, practice=practice, role=Role.OWNER)
        audit_write(practice=practice, actor=owner, action="practice.created", obj=practice)
    return practice


def practice_settings_update(
    *, practice: Practice, actor: Actor | User, data: dict[str, Any], fields: tuple[str, ...]
) -> Practice:
    """Save the given settings of a practice and audit what changed."""
    with transaction.atomic():
        locked = Practice.objects.select_for_update().get(pk=practice.pk)
        before = snapshot(locked, fields)
        for field in fields:
            setattr(locked, field, data[field])
        locked.full_clean()
        locked.save(update_fields=list(fields))
        changes = diff_fields(before, snapshot(locked, fields))
        if changes:
            audit_write(
                practice=locked,
                actor=actor,
                action="practice.settings_changed",
                obj=locked,
                changes=changes,
            )
    return locked


INVOICE_TEMPLATE_FIELDS = (
    "theme_colour",
    "layout",
    "display_name",
    "address",
    "tax_id",
    "footer",
    "payment_instructions",
)


def invoice_template_update(
    *,
    practice: Practice,
    actor: Actor | User,
    data: dict[str, Any],
    logo: IO[bytes] | None = None,
    logo_size: int | None = None,
    remove_logo: bool = False,
) -> InvoiceTemplate:
    """Save Settings > Invoice template. A new logo is checked and re-encoded first
    (practice.images); one that is refused raises before anything is written, so the
    previous logo and every other setting stay as they were. The replaced file is deleted
    only after the commit, so a rollback never leaves the row naming a missing file."""
    png = logo_normalise(logo, size=logo_size) if logo is not None else None
    with transaction.atomic():
        # The practice row first (the lock order), so two first saves cannot both create.
        Practice.objects.select_for_update().get(pk=practice.pk)
        template, _created = InvoiceTemplate.objects.select_for_update().get_or_create(practice=practice)
        before = {**snapshot(template, INVOICE_TEMPLATE_FIELDS), "logo": template.logo.name}
        for field in INVOICE_TEMPLATE_FIELDS:
            setattr(template, field, data[field])
        template.theme_colour = template.theme_colour.lower()
        old_logo = template.logo.name
        if png is not None:
            # A fresh name per upload: a cached copy of the old logo can never show as the new.
            name = f"{practice.pk}-{secrets.token_hex(8)}.png"
            template.logo.save(name, ContentFile(png), save=False)
        elif remove_logo:
            template.logo = ""  # type: ignore[assignment]
        template.full_clean(exclude=["practice"])
        template.save()
        if old_logo and template.logo.name != old_logo:
            transaction.on_commit(lambda: default_storage.delete(old_logo))
        changes = diff_fields(before, {**snapshot(template, INVOICE_TEMPLATE_FIELDS), "logo": template.logo.name})
        if changes:
            audit_write(
                practice=practice,
                actor=actor,
                action="practice.invoice_template_changed",
                obj=template,
                changes=changes,
            )
    return template


def staff_invite(*, practice: Practice, invited_by: Actor | User, email: str, role: str) -> tuple[StaffInvite, str]:
    """Create an invitation and email its link (after commit). Returns (invite, raw token)."""
    inviter = Actor.coerce(invited_by)
    if inviter.user is None:
        raise ValueError("An invitation comes from a person, not a system job.")
    email = email.strip().lower()
    if Membership.objects.filter(practice=practice, user__email=email, is_active=True).exists():
        raise ValidationError({"email": INVITE_ALREADY_MEMBER})
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    try:
        with transaction.atomic():
            # An expired invite to the same address no longer blocks a new one.
            StaffInvite.objects.filter(
                practice=practice,
                email=email,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__lte=now,
            ).update(revoked_at=now)
            invite = StaffInvite.objects.create(
                practice=practice,
                email=email,
                role=role,
                token_hash=StaffInvite.hash_token(token),
                invited_by=inviter.user,
                created_at=now,
                expires_at=now + timedelta(days=settings.INVITE_VALID_DAYS),
            )
            audit_write(
                practice=practice,
                actor=inviter,
                action="staff.invited",
                obj=invite,
                changes={"email": email, "role": role},
            )
            from .emails import staff_invite_email_queue

            staff_invite_email_queue(invite=invite, token=token)
    except IntegrityError as exc:
        raise ValidationError({"email": INVITE_ALREADY_PENDING}) from exc
    return invite, token


def staff_invite_revoke(*, invite: StaffInvite, actor: Actor | User) -> None:
    with transaction.atomic():
        updated = StaffInvite.objects.filter(pk=invite.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit_write(practice=invite.practice, actor=actor, action="staff.invite_revoked", obj=invite)


def staff_invite_get_pending(token: str) -> StaffInvite | None:
    invite = StaffInvite.objects.select_related("practice").filter(token_hash=StaffInvite.hash_token(token)).first()
    if invite is None or not invite.is_pending:
        return None
    return invite


def staff_invite_accept(
    *,
    token: str,
    user: User | None,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    ip: str | None = None,
) -> tuple[User, Membership]:
    """Accept an invitation, as the signed-in user or as a new account with a password.
    The user is known only here (it may be made here), so the caller passes the request's
    address as ``ip`` rather than an Actor."""
    with transaction.atomic():
        invite = (
            StaffInvite.objects.select_for_update()
            .select_related("practice")
            .filter(token_hash=StaffInvite.hash_token(token))
            .first()
        )
        if invite is None or not invite.is_pending:
            raise ValidationError(INVITE_NOT_VALID)
        if user is None:
            if User.objects.filter(email=invite.email).exists():
                raise ValidationError(INVITE_WRONG_ACCOUNT)
            user = User.objects.create_user(invite.email, password, first_name=first_name, last_name=last_name)
        elif user.email != invite.email:
            raise ValidationError(INVITE_WRONG_ACCOUNT)
        membership, _ = Membership.objects.update_or_create(
            user=user, practice=invite.practice, defaults={"role": invite.role, "is_active": True}
        )
        invite.accepted_at = timezone.now()
        invite.accepted_by = user
        invite.save(update_fields=["accepted_at", "accepted_by"])
        audit_write(
            practice=invite.practice,
            actor=Actor.of_user(user, address=ip),
            action="staff.joined",
            obj=membership,
            changes={"role": invite.role},
        )
    return user, membership


def membership_change_role(*, membership: Membership, role: str, actor: Actor | User) -> Membership:
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        _lock_owners(locked.practice_id)
        if locked.role == Role.OWNER and role != Role.OWNER and _owner_count(locked.practice_id) <= 1:
            raise ValidationError(LAST_OWNER)
        before = locked.role
        locked.role = role
        locked.save(update_fields=["role"])
        audit_write(
            practice=locked.practice,
            actor=actor,
            action="staff.role_changed",
            obj=locked,
            changes={"role": [before, role]},
        )
    return locked


def membership_update_profile(*, membership: Membership, actor: Actor | User, data: dict[str, Any]) -> Membership:
    """The clinician's licence number, NPI and tax id in this practice (printed on the
    superbills of their sessions); audit what changed."""
    values = {f: " ".join(str(data.get(f) or "").split()) for f in STAFF_PROFILE_FIELDS}
    if values["npi"] and not (values["npi"].isascii() and values["npi"].isdigit() and len(values["npi"]) == 10):
        raise ValidationError({"npi": NPI_BAD})
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        before = {f: getattr(locked, f) for f in STAFF_PROFILE_FIELDS}
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(STAFF_PROFILE_FIELDS))
        changes = {f: [before[f], values[f]] for f in STAFF_PROFILE_FIELDS if before[f] != values[f]}
        if changes:
            audit_write(
                practice=locked.practice, actor=actor, action="staff.profile_changed", obj=locked, changes=changes
            )
    return locked


def membership_deactivate(*, membership: Membership, actor: Actor | User) -> None:
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        _lock_owners(locked.practice_id)
        if locked.role == Role.OWNER and _owner_count(locked.practice_id) <= 1:
            raise ValidationError(LAST_OWNER)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        audit_write(practice=locked.practice, actor=actor, action="staff.removed", obj=locked)


def _lock_owners(practice_id: int) -> None:
    list(
        Membership.objects.filter(practice_id=practice_id, role=Role.OWNER)
        .order_by("pk")
        .select_for_update()
        .values_list("pk", flat=True)
    )


def _owner_count(practice_id: int) -> int:
    return Membership.objects.filter(practice_id=practice_id, role=Role.OWNER, is_active=True).count()


def user_sessions_end_all(*, user: User) -> None:
    """Invalidate every session of the user (the hash of each no longer matches)."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


def user_password_change(*, user: User, password: str, practice: Practice | None, ip: str | None) -> None:
    """Set a new (already validated) password. Every session made before it ends, because the
    session hash includes the password; the caller keeps its own with update_session_auth_hash."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_write(practice=practice, actor=Actor.of_user(user, address=ip), action="auth.password_changed", obj=user)


def audit_sign_in(*, user: User, ip: str | None, action: str = "auth.signed_in") -> None:
    for membership in Membership.objects.filter(user=user, is_active=True).select_related("practice"):
        audit_write(practice=membership.practice, actor=Actor.of_user(user, address=ip), action=action, obj=user)


def password_reset_link(*, user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def totp_device_start(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the user, replacing any earlier unconfirmed one."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_device_confirm(*, user: User, token: str, ip: str | None) -> TOTPDevice:
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None or not device.verify_token(token.strip()):
            raise ValidationError({"token": TOTP_BAD_TOKEN})
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        for membership in Membership.objects.filter(user=user).select_related("practice"):
            audit_write(
                practice=membership.practice,
                actor=Actor.of_user(user, address=ip),
                action="auth.totp_enabled",
                obj=user,
            )
    return device


def totp_device_remove(*, user: User, ip: str | None) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        for membership in Membership.objects.filter(user=user).select_related("practice"):
            audit_write(
                practice=membership.practice,
                actor=Actor.of_user(user, address=ip),
                action="auth.totp_disabled",
                obj=user,
            )


def user_has_totp(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def password_reset_request(*, email: str, ip: str | None) -> bool:
    """Record a reset request for ``email`` and queue its email, unless over the limit.

    At most ``PASSWORD_RESET_EMAIL_LIMIT`` per email and ``PASSWORD_RESET_ADDRESS_LIMIT`` per
    client address in ``PASSWORD_RESET_WINDOW``, whether or not the email has an account (the
    answer must not tell). Two advisory locks (email, then address: always that order) make
    the count and the insert one step, so simultaneous requests cannot all see room.

    The account is looked up by the ``password_reset_email`` task after commit, not here: a
    known and an unknown address do the same work in the request, so its timing cannot tell
    them apart, and the request never waits for the mail server.
    """
    email = email.strip().lower()
    since = timezone.now() - settings.PASSWORD_RESET_WINDOW
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [PASSWORD_RESET_LOCK_EMAIL, email])
        if ip:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [PASSWORD_RESET_LOCK_ADDRESS, ip])
        recent = PasswordResetRequest.objects.filter(requested_at__gte=since)
        if recent.filter(email=email).count() >= settings.PASSWORD_RESET_EMAIL_LIMIT:
            return False
        if ip and recent.filter(ip_address=ip).count() >= settings.PASSWORD_RESET_ADDRESS_LIMIT:
            return False
        reset_request = PasswordResetRequest.objects.create(email=email, ip_address=ip)
        from .tasks import password_reset_email

        transaction.on_commit(lambda: password_reset_email.delay(reset_request.pk))
    return True


def sign_in_records_prune(*, now: datetime | None = None) -> tuple[int, int]:
    """Delete throttle records nobody counts any more: reset requests past their window, and
    axes' failure log past 30 days (the per-address limit reads only its last hour; the rest is
    kept a while for an admin looking into an attack). Returns the numbers deleted."""
    from axes.models import AccessFailureLog

    now = now or timezone.now()
    resets, _ = PasswordResetRequest.objects.filter(requested_at__lt=now - settings.PASSWORD_RESET_WINDOW).delete()
    failures, _ = AccessFailureLog.objects.filter(attempt_time__lt=now - timedelta(days=30)).delete()
    return resets, failures
