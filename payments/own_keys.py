"""A self-hosted practice's own Stripe keys (Settings > Online payments > Use your own Stripe
keys): the second way to take payments, instead of connecting an account through the
platform.

The keys are checked before anything is saved: their shape (sk_/pk_ of one mode, test or
live), then a test call with the secret key (GET /v1/account, through the gateway), whose
answer names the account they belong to. That account id goes on the practice's
StripeAccount row, so the rest of the app keeps naming an account; the gateway, asking
``own_secret_key``, calls for it with the practice's key and no Stripe-Account header.

Stripe's events of such an account carry no ``account`` (it is nobody's connected account),
so each practice gets its own webhook endpoint, /stripe/webhook/<webhook_token>/, verified
with the signing secret of the endpoint the practice adds in its Stripe dashboard
(``own_webhook_endpoint``). The path names the practice, so one HMAC with one secret checks
an event, instead of trying every practice's secret on every delivery.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from practice.actor import Actor
from practice.audit import audit_write
from practice.field_encryption import FieldDecryptError, decrypt_text, encrypt_text
from practice.models import Practice, User

from . import gateway
from .models import StripeAccount, StripeOwnKeys
from .services import _practice_payments_sync

SECRET_KEY_FORMAT = "Enter your secret key: it starts with sk_live_ or sk_test_."
PUBLISHABLE_KEY_FORMAT = "Enter your publishable key: it starts with pk_live_ or pk_test_."
WEBHOOK_SECRET_FORMAT = "Enter the endpoint's signing secret: it starts with whsec_."
MODES_DIFFER = (
    "The secret key is a {secret} mode key and the publishable key a {publishable} mode key: "
    "enter the two keys of one mode."
)
KEY_REJECTED = (
    "Stripe did not accept this secret key, so nothing was saved. Copy the secret key from your "
    "Stripe dashboard (Developers > API keys); a key that was rolled no longer works."
)
KEY_NOT_CHECKED = "Stripe could not be reached to check the key, so nothing was saved. Try again in a moment."
ACCOUNT_TAKEN = "These keys belong to a Stripe account that another practice uses. Nothing was saved."
CONNECTED_ALREADY = (
    "This practice takes payments through its connected Stripe account. Disconnect it before using your own keys."
)
KEYS_SAVED = "Your Stripe keys are saved."
KEYS_REMOVED = "Your Stripe keys are removed. Online payments are off."
KEY_UNREADABLE = (
    "This practice's own Stripe key cannot be read: FIELD_ENCRYPTION_KEY changed since it was saved. "
    "Enter the keys again in Settings > Online payments."
)

OWN_KEYS_SAVED = "stripe.own_keys_saved"
OWN_KEYS_REPLACED = "stripe.own_keys_replaced"
OWN_KEYS_REMOVED = "stripe.own_keys_removed"

_SECRET_KEY = re.compile(r"sk_(test|live)_[A-Za-z0-9_]{8,240}")
_PUBLISHABLE_KEY = re.compile(r"pk_(test|live)_[A-Za-z0-9_]{8,240}")
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_+/=]{8,240}")


def own_keys_of(practice: Practice) -> StripeOwnKeys | None:
    return StripeOwnKeys.objects.select_related("account").filter(account__practice=practice).first()


def own_secret_key(account_id: str) -> str | None:
    """The secret key of the practice whose own account this is; None for a connected
    account (the gateway's lookup, registered in apps.py)."""
    token = (
        StripeOwnKeys.objects.filter(account__stripe_account_id=account_id)
        .values_list("secret_key_encrypted", flat=True)
        .first()
    )
    if not token:
        return None
    try:
        return decrypt_text(token)
    except FieldDecryptError:
        raise gateway.OwnKeyUnreadable(KEY_UNREADABLE) from None


def _readable(token: str) -> str:
    """A stored secret, or blank when this environment's key cannot open it (entered again then)."""
    try:
        return decrypt_text(token) if token else ""
    except FieldDecryptError:
        return ""


@dataclass(frozen=True)
class OwnEndpoint:
    """A practice's own webhook endpoint: its account, and the secret its events are signed
    with (blank until the practice enters it)."""

    account_id: str
    secret: str


def own_webhook_endpoint(token: str) -> OwnEndpoint | None:
    row = (
        StripeOwnKeys.objects.filter(webhook_token=token)
        .values_list("account__stripe_account_id", "webhook_secret_encrypted")
        .first()
    )
    if row is None:
        return None
    account_id, secret = row
    # An unreadable secret verifies nothing: every event is refused until it is entered again.
    return OwnEndpoint(account_id=account_id, secret=_readable(secret))


def _mode(match: re.Match[str]) -> str:
    return match.group(1)


def _masks(keys: StripeOwnKeys | None) -> dict[str, str]:
    if keys is None:
        return {"account": "", "secret_key": "", "publishable_key": "", "webhook_secret": ""}
    return {
        "account": keys.account.stripe_account_id,
        "secret_key": keys.secret_key_masked,
        "publishable_key": keys.publishable_key_masked,
        "webhook_secret": keys.webhook_secret_masked,
    }


def own_keys_save(
    *,
    practice: Practice,
    actor: Actor | User,
    secret_key: str = "",
    publishable_key: str = "",
    webhook_secret: str = "",
) -> StripeOwnKeys:
    """Save (or replace) the practice's own keys; a blank value keeps the current one.

    Raises ValidationError, saving nothing, when a key has the wrong shape, the two keys are
    of different modes, Stripe refuses the secret key or cannot be asked, the account is
    another practice's, or the practice takes payments through a connected account. A new
    secret key is checked with Stripe before the transaction (no lock held over a network
    call); the account it names is then written with the keys, and the audit row says
    which keys changed (masked)."""
    current = own_keys_of(practice)
    secret_key, publishable_key, webhook_secret = secret_key.strip(), publishable_key.strip(), webhook_secret.strip()
    secret = secret_key or (_readable(current.secret_key_encrypted) if current else "")
    publishable = publishable_key or (_readable(current.publishable_key_encrypted) if current else "")

    errors: dict[str, str] = {}
    secret_match = _SECRET_KEY.fullmatch(secret)
    publishable_match = _PUBLISHABLE_KEY.fullmatch(publishable)
    if secret_match is None:
        errors["secret_key"] = SECRET_KEY_FORMAT
    if publishable_match is None:
        errors["publishable_key"] = PUBLISHABLE_KEY_FORMAT
    if webhook_secret and _WEBHOOK_SECRET.fullmatch(webhook_secret) is None:
        errors["webhook_secret"] = WEBHOOK_SECRET_FORMAT
    if errors:
        raise ValidationError(errors)
    assert secret_match is not None and publishable_match is not None
    if _mode(secret_match) != _mode(publishable_match):
        raise ValidationError(
            {"publishable_key": MODES_DIFFER.format(secret=_mode(secret_match), publishable=_mode(publishable_match))}
        )
    if current is None and _connected_elsewhere(practice):
        raise ValidationError(CONNECTED_ALREADY)

    checked: gateway.Account | None = None
    if current is None or secret_key:
        try:
            checked = gateway.account_for_key(secret)
        except gateway.KeyRefused:
            raise ValidationError({"secret_key": KEY_REJECTED}) from None
        except gateway.StripeError:
            raise ValidationError(KEY_NOT_CHECKED) from None

    with transaction.atomic():
        Practice.objects.select_for_update().get(pk=practice.pk)
        before = own_keys_of(practice)
        if before is None and _connected_elsewhere(practice):
            raise ValidationError(CONNECTED_ALREADY)
        masks_before = _masks(before)
        account = StripeAccount.objects.filter(practice=practice).first()
        if checked is not None:
            if StripeAccount.objects.filter(stripe_account_id=checked.id).exclude(practice=practice).exists():
                raise ValidationError(ACCOUNT_TAKEN)
            account, _ = StripeAccount.objects.update_or_create(
                practice=practice,
                defaults={
                    "stripe_account_id": checked.id,
                    "charges_enabled": checked.charges_enabled,
                    "payouts_enabled": checked.payouts_enabled,
                    "details_submitted": checked.details_submitted,
                    "requirements": checked.requirements,
                    "disconnected_at": None,
                },
            )
        assert account is not None
        keys = before or StripeOwnKeys(
            account=account, webhook_token=secrets.token_urlsafe(24), created_by=Actor.coerce(actor).user
        )
        keys.account = account
        keys.livemode = _mode(secret_match) == "live"
        keys.secret_key_encrypted = encrypt_text(secret)
        keys.secret_key_last4 = secret[-4:]
        keys.publishable_key_encrypted = encrypt_text(publishable)
        keys.publishable_key_last4 = publishable[-4:]
        if webhook_secret:
            keys.webhook_secret_encrypted = encrypt_text(webhook_secret)
            keys.webhook_secret_last4 = webhook_secret[-4:]
        keys.save()
        _practice_payments_sync(account)
        masks_after = _masks(keys)
        audit_write(
            practice=practice,
            action=OWN_KEYS_REPLACED if before is not None else OWN_KEYS_SAVED,
            actor=actor,
            obj=account,
            changes={k: [masks_before[k], v] for k, v in masks_after.items() if masks_before[k] != v},
        )
    return keys


def own_keys_remove(*, practice: Practice, actor: Actor | User) -> bool:
    """Forget the practice's own keys: online payments stop, its webhook endpoint answers
    404, and the account stays with Stripe. False when there were none."""
    with transaction.atomic():
        Practice.objects.select_for_update().get(pk=practice.pk)
        keys = own_keys_of(practice)
        if keys is None:
            return False
        account = keys.account
        masks = _masks(keys)
        keys.delete()
        account.disconnected_at = timezone.now()
        account.save(update_fields=["disconnected_at", "updated_at"])
        _practice_payments_sync(account)
        audit_write(
            practice=practice,
            action=OWN_KEYS_REMOVED,
            actor=actor,
            obj=account,
            changes={k: [v, ""] for k, v in masks.items() if v},
        )
    return True


def _connected_elsewhere(practice: Practice) -> bool:
    """Whether the practice takes payments through a connected account (not its own keys)."""
    return StripeAccount.objects.filter(practice=practice, disconnected_at__isnull=True, own_keys__isnull=True).exists()
