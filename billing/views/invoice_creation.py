"""Settings > Invoice creation (owner and admin)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from practice.access import OWNER_OR_ADMIN, require_role
from practice.actor import Actor
from practice.audit import client_ip
from practice.forms import apply_service_errors
from practice.types import PracticeRequest

from .. import services
from ..forms.invoice_creation import InvoiceCreationForm

INVOICE_CREATION_SAVED = "Invoice creation saved."


@require_role(*OWNER_OR_ADMIN)
def invoice_creation(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    form = InvoiceCreationForm(request.POST or None, setting=services.invoice_creation_setting(practice))
    if request.method == "POST" and form.is_valid():
        try:
            services.invoice_creation_setting_save(
                practice=practice,
                actor=Actor.of_user(request.user, address=client_ip(request)),
                cadence=form.cleaned_data["cadence"],
                weekday=form.cleaned_data["weekday"],
                send_automatically=form.cleaned_data["send_automatically"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, INVOICE_CREATION_SAVED)
            return redirect("billing:invoice_creation", practice_slug=practice.slug)
    status = 400 if form.errors else 200
    return render(request, "billing/invoice_creation.html", {"form": form}, status=status)
