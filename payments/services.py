"""Online payments' writes. Stripe is reached only through payments.gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.money import to_stripe_amount
from practice.actor import Actor
from practice.audit import audit_write
from practice.models import Practice, User

from . import gateway
from .models import ConnectOnboarding, StripeAccount
from .webhooks import WebhookContext, WebhookIgnored

__all__ = [
    "account_updated_handle",
    "application_fee_amount",
    "connect_disconnect",
    "connect_login_link",
    "connect_onboarding_start",
    "stripe_account_known",
    "stripe_account_sync",
]

# Stripe's country for a practice's currency (the account's country decides its default currency).
_COUNTRY = {"USD": "US", "NZD": "NZ", "AUD": "AU", "GBP": "GB", "CAD": "CA", "EUR": "IE"}


def _practice_payments_sync(account: StripeAccount) -> None:
    enabled = account.disconnected_at is None and account.charges_enabled
    Practice.objects.filter(pk=account.practice_id).exclude(online_payments_enabled=enabled).update(
        online_payments_enabled=enabled
    )


def stripe_account_sync(*, account_id: str) -> StripeAccount | None:
    """Re-read a connected account from Stripe and keep its row (and the practice's online
    payments switch) in step. None when no practice has that account (an unknown account's
    event is ignored)."""
    if not StripeAccount.objects.filter(stripe_account_id=account_id).exists():
        return None
    fresh = gateway.account_retrieve(account_id)
    with transaction.atomic():
        account = StripeAccount.objects.select_for_update().filter(stripe_account_id=account_id).first()
        if account is None:
            return None
        account.charges_enabled = fresh.charges_enabled
        account.payouts_enabled = fresh.payouts_enabled
        account.details_submitted = fresh.details_submitted
        account.requirements = fresh.requirements
        account.save()
        _practice_payments_sync(account)
    return account


def connect_onboarding_start(*, practice: Practice, actor: User, return_url: str, refresh_url: str) -> str:
    """Create (once per practice) the Express account and a fresh onboarding link: its URL.

    The click's row is committed before Stripe is called. The account is created under the
    key of the earliest click still waiting for one, so a double click, a second tab or a
    retry after a timeout all name the same key and Stripe answers with the same account."""
    with transaction.atomic():
        Practice.objects.select_for_update().get(pk=practice.pk)
        live = StripeAccount.objects.filter(practice=practice, disconnected_at__isnull=True).first()
        anchor = None
        if live is None:
            anchor = (
                ConnectOnboarding.objects.filter(practice=practice, creates_account=True, stripe_account_id="")
                .order_by("pk")
                .first()
            )
        row = ConnectOnboarding.objects.create(
            practice=practice, created_by=actor, creates_account=live is None and anchor is None
        )
        anchor = anchor or (row if live is None else None)
    if live is not None:
        account_id = live.stripe_account_id
    else:
        assert anchor is not None
        email = actor.email
        country = _COUNTRY.get(practice.currency, "US")
        created = gateway.account_create(onboarding_id=anchor.pk, email=email, country=country, practice_id=practice.pk)
        account_id = created.id
        with transaction.atomic():
            ConnectOnboarding.objects.filter(pk=anchor.pk).update(stripe_account_id=account_id)
            StripeAccount.objects.update_or_create(
                practice=practice,
                defaults={
                    "stripe_account_id": account_id,
                    "charges_enabled": created.charges_enabled,
                    "payouts_enabled": created.payouts_enabled,
                    "details_submitted": created.details_submitted,
                    "requirements": created.requirements,
                    "disconnected_at": None,
                },
            )
    url, expires_at = gateway.account_link_create(
        onboarding_id=row.pk, account_id=account_id, refresh_url=refresh_url, return_url=return_url
    )
    row.stripe_account_id = account_id
    row.account_link_url = url
    row.account_link_expires_at = datetime.fromtimestamp(expires_at, tz=UTC)
    row.save(update_fields=["stripe_account_id", "account_link_url", "account_link_expires_at"])
    return url


DASHBOARD_OPENED = "stripe.dashboard_opened"


def connect_login_link(*, practice: Practice, actor: Actor | User) -> str:
    """A one-time link into the practice's Express dashboard (payouts, bank details).

    Each click writes its audit row first (who opened the account's dashboard, and from
    where), and that row's id keys the Stripe request: every POST's key comes from a local
    row, and this row is one per click, as a single-use link must be."""
    with transaction.atomic():
        account = StripeAccount.objects.get(practice=practice, disconnected_at__isnull=True)
        click = audit_write(practice=practice, action=DASHBOARD_OPENED, actor=actor, obj=account)
    return gateway.login_link_create(account_id=account.stripe_account_id, click_id=click.pk)


def connect_disconnect(*, practice: Practice) -> None:
    """Stop taking payments through the practice's account (the account stays at Stripe)."""
    with transaction.atomic():
        account = StripeAccount.objects.select_for_update().filter(practice=practice).first()
        if account is None or account.disconnected_at is not None:
            return
        account.disconnected_at = timezone.now()
        account.save(update_fields=["disconnected_at", "updated_at"])
        _practice_payments_sync(account)


def application_fee_amount(amount: Decimal, currency: str) -> int | None:
    """The platform's fee on a charge of ``amount``, in Stripe's minor units (None: no fee).

    STRIPE_PLATFORM_FEE_PERCENT of the amount plus STRIPE_PLATFORM_FEE_FIXED, rounded half
    up to the currency's unit, never more than the charge."""
    percent = Decimal(str(settings.STRIPE_PLATFORM_FEE_PERCENT or "0"))
    fixed = Decimal(str(settings.STRIPE_PLATFORM_FEE_FIXED or "0"))
    if percent <= 0 and fixed <= 0:
        return None
    charge = to_stripe_amount(amount, currency)
    fee = to_stripe_amount(fixed, currency) + int(
        (Decimal(charge) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )
    return min(fee, charge) or None


def account_updated_handle(context: WebhookContext) -> None:
    """account.updated: make the account's row match Stripe's current state (re-read, not the
    event's copy), so a late or repeated event changes nothing twice."""
    account_id = context.account or str(context.object["id"])
    if stripe_account_sync(account_id=account_id) is None:
        raise WebhookIgnored("The connected account belongs to no practice.")


def stripe_account_known(account_id: str) -> bool:
    return StripeAccount.objects.filter(stripe_account_id=account_id).exists()
