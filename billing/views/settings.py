"""Billing's settings pages: Settings > Billing details and its tax rates (owner and
admin), and Settings > Invoice numbering and terms (owner)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from practice.access import OWNER_ONLY, OWNER_OR_ADMIN, require_role
from practice.actor import Actor
from practice.audit import client_ip
from practice.forms import apply_service_errors
from practice.models import TaxRate
from practice.types import PracticeRequest
from practice.views import SETTINGS_SAVED

from .. import services
from ..forms.settings import BillingDetailsForm, InvoiceNumberingForm, TaxRateForm


def _billing_details_page(
    request: PracticeRequest, form: BillingDetailsForm, tax_form: TaxRateForm, status: int = 200
) -> HttpResponse:
    practice = request.practice
    rates = TaxRate.objects.filter(practice=practice).order_by("is_archived", "name")
    context = {"form": form, "tax_form": tax_form, "tax_rates": rates}
    return render(request, "billing/billing_details.html", context, status=status)


@require_role(*OWNER_OR_ADMIN)
def billing_details(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    locked = services.currency_is_locked(practice)
    instance = practice.__class__.objects.get(pk=practice.pk)
    form = BillingDetailsForm(request.POST or None, instance=instance, currency_locked=locked)
    if request.method == "POST" and form.is_valid():
        try:
            services.billing_details_update(
                practice=practice,
                actor=request.user,
                data=form.cleaned_data,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Billing details saved.")
            return redirect("billing:billing_details", practice_slug=practice.slug)
    return _billing_details_page(request, form, TaxRateForm(locale=practice.locale), status=400 if form.errors else 200)


@require_role(*OWNER_OR_ADMIN)
def tax_rate_new(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    form = TaxRateForm(request.POST or None, locale=practice.locale)
    if request.method == "POST" and form.is_valid():
        try:
            rate = services.tax_rate_create(
                practice=practice,
                actor=request.user,
                name=form.cleaned_data["name"],
                percent=form.cleaned_data["percent"],
                is_default=form.cleaned_data["is_default"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Tax rate {rate} added.")
            return redirect("billing:billing_details", practice_slug=practice.slug)
    status = 400 if form.errors else 200
    return render(request, "billing/tax_rate_form.html", {"form": form, "tax_rate": None}, status=status)


@require_role(*OWNER_OR_ADMIN)
def tax_rate_edit(request: PracticeRequest, tax_rate_id: int) -> HttpResponse:
    practice = request.practice
    rate = get_object_or_404(TaxRate, pk=tax_rate_id, practice=practice)
    form = TaxRateForm(request.POST or None, instance=rate, locale=practice.locale)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.tax_rate_update(
                tax_rate=rate,
                actor=request.user,
                name=form.cleaned_data["name"],
                percent=form.cleaned_data["percent"],
                is_default=form.cleaned_data["is_default"],
                is_archived=form.cleaned_data["is_archived"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Tax rate {saved} saved.")
            return redirect("billing:billing_details", practice_slug=practice.slug)
    status = 400 if form.errors else 200
    return render(request, "billing/tax_rate_form.html", {"form": form, "tax_rate": rate}, status=status)


@require_role(*OWNER_ONLY)
def invoice_numbering(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    form = InvoiceNumberingForm(request.POST or None, instance=practice.__class__.objects.get(pk=practice.pk))
    if request.method == "POST" and form.is_valid():
        services.invoice_numbering_update(
            practice=practice, actor=Actor.of_user(request.user, address=client_ip(request)), data=form.cleaned_data
        )
        messages.success(request, SETTINGS_SAVED)
        return redirect(request.path)
    return render(request, "billing/invoice_numbering.html", {"form": form})
