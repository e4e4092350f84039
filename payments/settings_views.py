"""Settings > Online payments: connect the practice's Stripe account (or, self-hosted, use
the practice's own Stripe keys), and whether payers may pay part of an invoice (owner and
admin)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from billing.forms.numbers import plain
from billing.inputs import ENTER_AMOUNT, parse_amount
from billing.submission import (
    PAGE_OUT_OF_DATE,
    AlreadySubmitted,
    submission_claim,
    submission_key_of,
)
from practice.access import OWNER_OR_ADMIN, require_role
from practice.actor import Actor
from practice.audit import client_ip
from practice.forms import apply_service_errors
from practice.models import Practice
from practice.types import PracticeRequest

from . import gateway, own_keys, part_payments, services
from .models import OnlinePaymentSettings, StripeAccount, StripeOwnKeys

STRIPE_UNREACHABLE = "Stripe could not be reached, so nothing changed. Try again in a moment."
USES_OWN_KEYS = "This practice takes payments with its own Stripe keys. Remove them before connecting an account."


def _url(request: PracticeRequest, name: str) -> str:
    return reverse(f"payments:{name}", kwargs={"practice_slug": request.practice.slug})


def _stripe_origins() -> list[str]:
    """Where this page's forms lead after the app's redirect: the browser checks the page's
    form-action against every hop, so Stripe's hosted onboarding and dashboard are listed."""
    origins = ["https://connect.stripe.com"]
    if settings.STRIPE_API_BASE:
        parts = urlsplit(settings.STRIPE_API_BASE)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


class PartPaymentsForm(forms.Form):
    part_payments_allowed = forms.BooleanField(
        label="Allow part-payments",
        required=False,
        help_text="A payer may pay part of an invoice online (from the payment link, or with Take payment).",
    )
    part_payment_minimum = forms.CharField(
        label="Least amount a payer may pay",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="An invoice owing less than this is paid in full.",
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice

    def clean_part_payment_minimum(self) -> Decimal | None:
        raw = (self.cleaned_data.get("part_payment_minimum") or "").strip()
        if not raw:
            return None
        try:
            return parse_amount(raw, "part_payment_minimum", locale=self.practice.locale)
        except ValidationError:
            raise ValidationError(ENTER_AMOUNT) from None


def _part_payments_form(practice: Practice) -> PartPaymentsForm:
    row = OnlinePaymentSettings.objects.filter(practice=practice).first()
    initial: dict[str, object] = {"part_payments_allowed": False, "part_payment_minimum": ""}
    if row is not None:
        initial["part_payments_allowed"] = row.part_payments_allowed
        if row.part_payment_minimum > 0:
            initial["part_payment_minimum"] = plain(row.part_payment_minimum, practice.locale)
    return PartPaymentsForm(initial=initial, practice=practice)


class OwnKeysForm(forms.Form):
    """The practice's own Stripe keys. Secrets are never put back into the page: a blank
    field keeps the key already saved (when replacing)."""

    secret_key = forms.CharField(
        label="Secret key",
        required=False,
        max_length=255,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="From your Stripe dashboard, Developers > API keys: sk_live_… or sk_test_….",
    )
    publishable_key = forms.CharField(
        label="Publishable key",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="pk_live_… or pk_test_…, of the same mode as the secret key.",
    )
    webhook_secret = forms.CharField(
        label="Webhook signing secret",
        required=False,
        max_length=255,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "whsec_…: the signing secret of the endpoint you add in Stripe (Developers > Webhooks) "
            "at this practice's webhook address, shown once the keys are saved."
        ),
    )

    def __init__(self, *args: Any, replacing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if replacing:
            for field in self.fields.values():
                field.help_text = f"{field.help_text} Leave blank to keep the one saved."


def _online_payments_page(
    request: PracticeRequest,
    form: PartPaymentsForm | None = None,
    keys_form: OwnKeysForm | None = None,
    status: int = 200,
) -> HttpResponse:
    account = StripeAccount.objects.filter(practice=request.practice).first()
    keys = own_keys.own_keys_of(request.practice)
    context = {
        "account": account,
        "Status": StripeAccount.Status,
        "part_payments_form": form or _part_payments_form(request.practice),
        "own_keys": keys,
        "own_keys_form": keys_form or OwnKeysForm(replacing=keys is not None),
        "own_webhook_url": _own_webhook_url(request, keys) if keys else "",
    }
    response = render(request, "payments/online_payments.html", context, status=status)
    response._csp_update = {"form-action": _stripe_origins()}  # type: ignore[attr-defined]
    return response


def _own_webhook_url(request: PracticeRequest, keys: StripeOwnKeys) -> str:
    return request.build_absolute_uri(reverse("stripe_webhook_practice", kwargs={"token": keys.webhook_token}))


@require_role(*OWNER_OR_ADMIN)
def online_payments(request: PracticeRequest) -> HttpResponse:
    return _online_payments_page(request)


@require_role(*OWNER_OR_ADMIN)
@require_POST
def part_payments_save(request: PracticeRequest) -> HttpResponse:
    form = PartPaymentsForm(request.POST, practice=request.practice)
    if form.is_valid():
        try:
            part_payments.online_payment_settings_update(
                practice=request.practice,
                actor=request.user,
                allowed=form.cleaned_data["part_payments_allowed"],
                minimum=form.cleaned_data["part_payment_minimum"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, part_payments.SETTINGS_SAVED)
            return redirect(_url(request, "online_payments"))
    return _online_payments_page(request, form, status=400)


@require_role(*OWNER_OR_ADMIN)
@require_POST
def own_keys_save(request: PracticeRequest) -> HttpResponse:
    replacing = own_keys.own_keys_of(request.practice) is not None
    form = OwnKeysForm(request.POST, replacing=replacing)
    if form.is_valid():
        try:
            own_keys.own_keys_save(
                practice=request.practice,
                actor=Actor.of_user(request.user, address=client_ip(request)),
                secret_key=form.cleaned_data["secret_key"],
                publishable_key=form.cleaned_data["publishable_key"],
                webhook_secret=form.cleaned_data["webhook_secret"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, own_keys.KEYS_SAVED)
            return redirect(_url(request, "online_payments"))
    return _online_payments_page(request, keys_form=form, status=400)


@require_role(*OWNER_OR_ADMIN)
def own_keys_remove(request: PracticeRequest) -> HttpResponse:
    keys = own_keys.own_keys_of(request.practice)
    if keys is None:
        return redirect(_url(request, "online_payments"))
    if request.method == "POST":
        own_keys.own_keys_remove(
            practice=request.practice, actor=Actor.of_user(request.user, address=client_ip(request))
        )
        messages.success(request, own_keys.KEYS_REMOVED)
        return redirect(_url(request, "online_payments"))
    return render(request, "payments/own_keys_remove.html", {"own_keys": keys})


def _uses_own_keys(request: PracticeRequest) -> bool:
    """Connect's actions do not apply to a practice that takes payments with its own keys."""
    if own_keys.own_keys_of(request.practice) is None:
        return False
    messages.error(request, USES_OWN_KEYS)
    return True


@require_role(*OWNER_OR_ADMIN)
@require_POST
def connect_start(request: PracticeRequest) -> HttpResponse:
    if _uses_own_keys(request):
        return redirect(_url(request, "online_payments"))
    key = submission_key_of(request)
    if key is None:
        messages.error(request, PAGE_OUT_OF_DATE)
        return redirect(_url(request, "online_payments"))
    try:
        with transaction.atomic():
            claim = submission_claim(practice=request.practice, key=key, action="stripe setup", actor=request.user)
    except AlreadySubmitted as first:
        return redirect(first.result_url or _url(request, "online_payments"))
    return_url = request.build_absolute_uri(_url(request, "connect_return"))
    refresh_url = request.build_absolute_uri(_url(request, "connect_refresh"))
    try:
        url = services.connect_onboarding_start(
            practice=request.practice, actor=request.user, return_url=return_url, refresh_url=refresh_url
        )
    except gateway.StripeError:
        claim.delete()  # the same form may try again: the account's key stays the same
        messages.error(request, STRIPE_UNREACHABLE)
        return redirect(_url(request, "online_payments"))
    claim.result_url = url[:500]
    claim.save(update_fields=["result_url"])
    return redirect(url)


@require_role(*OWNER_OR_ADMIN)
def connect_refresh(request: PracticeRequest) -> HttpResponse:
    """Stripe sends the browser here when an onboarding link was used or expired: a fresh one."""
    if _uses_own_keys(request):
        return redirect(_url(request, "online_payments"))
    return_url = request.build_absolute_uri(_url(request, "connect_return"))
    refresh_url = request.build_absolute_uri(_url(request, "connect_refresh"))
    try:
        url = services.connect_onboarding_start(
            practice=request.practice, actor=request.user, return_url=return_url, refresh_url=refresh_url
        )
    except gateway.StripeError:
        messages.error(request, STRIPE_UNREACHABLE)
        return redirect(_url(request, "online_payments"))
    return redirect(url)


@require_role(*OWNER_OR_ADMIN)
def connect_return(request: PracticeRequest) -> HttpResponse:
    """Back from onboarding: the account's state is read again from Stripe, never taken
    from the redirect."""
    account = StripeAccount.objects.filter(practice=request.practice, disconnected_at__isnull=True).first()
    if account is not None:
        try:
            services.stripe_account_sync(account_id=account.stripe_account_id)
        except gateway.StripeError:
            messages.error(request, STRIPE_UNREACHABLE)
    return redirect(_url(request, "online_payments"))


@require_role(*OWNER_OR_ADMIN)
@require_POST
def connect_dashboard(request: PracticeRequest) -> HttpResponse:
    if _uses_own_keys(request):
        return redirect(_url(request, "online_payments"))
    if not StripeAccount.objects.filter(practice=request.practice, disconnected_at__isnull=True).exists():
        return redirect(_url(request, "online_payments"))
    try:
        actor = Actor.of_user(request.user, address=client_ip(request))
        url = services.connect_login_link(practice=request.practice, actor=actor)
    except gateway.StripeError:
        messages.error(request, STRIPE_UNREACHABLE)
        return redirect(_url(request, "online_payments"))
    return redirect(url)


@require_role(*OWNER_OR_ADMIN)
def connect_disconnect(request: PracticeRequest) -> HttpResponse:
    if own_keys.own_keys_of(request.practice) is not None:
        return redirect(_url(request, "own_keys_remove"))
    account = StripeAccount.objects.filter(practice=request.practice, disconnected_at__isnull=True).first()
    if account is None:
        return redirect(_url(request, "online_payments"))
    if request.method == "POST":
        services.connect_disconnect(practice=request.practice)
        messages.success(request, "Stripe disconnected. Online payments are off.")
        return redirect(_url(request, "online_payments"))
    return render(request, "payments/disconnect.html", {"account": account})
