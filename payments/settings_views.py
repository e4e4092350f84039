"""Settings > Online payments: connect the practice's Stripe account, and whether payers may
pay part of an invoice (owner and admin)."""

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

from . import gateway, part_payments, services
from .models import OnlinePaymentSettings, StripeAccount

STRIPE_UNREACHABLE = "Stripe could not be reached, so nothing changed. Try again in a moment."


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


def _online_payments_page(request: PracticeRequest, form: PartPaymentsForm, status: int = 200) -> HttpResponse:
    account = StripeAccount.objects.filter(practice=request.practice).first()
    context = {"account": account, "Status": StripeAccount.Status, "part_payments_form": form}
    response = render(request, "payments/online_payments.html", context, status=status)
    response._csp_update = {"form-action": _stripe_origins()}  # type: ignore[attr-defined]
    return response


@require_role(*OWNER_OR_ADMIN)
def online_payments(request: PracticeRequest) -> HttpResponse:
    return _online_payments_page(request, _part_payments_form(request.practice))


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
def connect_start(request: PracticeRequest) -> HttpResponse:
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
    account = StripeAccount.objects.filter(practice=request.practice, disconnected_at__isnull=True).first()
    if account is None:
        return redirect(_url(request, "online_payments"))
    if request.method == "POST":
        services.connect_disconnect(practice=request.practice)
        messages.success(request, "Stripe disconnected. Online payments are off.")
        return redirect(_url(request, "online_payments"))
    return render(request, "payments/disconnect.html", {"account": account})
