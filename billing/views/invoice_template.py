"""Settings > Invoice template (owner and admin): the look of invoices, credit invoices
and receipts, with a live preview of a made-up invoice that follows the form as it is
edited (htmx posts the form to the preview; nothing is saved until Save)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from practice import selectors as practice_selectors
from practice import services as practice_services
from practice.access import OWNER_OR_ADMIN, require_role
from practice.actor import Actor
from practice.audit import client_ip
from practice.forms import apply_service_errors
from practice.types import PracticeRequest

from ..documents.content import sample_document
from ..forms.invoice_template import InvoiceTemplateForm

INVOICE_TEMPLATE_SAVED = "Invoice template saved."


@require_role(*OWNER_OR_ADMIN)
def invoice_template(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    saved = practice_selectors.invoice_template_for(practice)
    form = InvoiceTemplateForm(request.POST or None, request.FILES or None, instance=saved)
    if request.method == "POST" and form.is_valid():
        logo = form.cleaned_data.get("logo")
        try:
            practice_services.invoice_template_update(
                practice=practice,
                actor=Actor.of_user(request.user, address=client_ip(request)),
                data=form.cleaned_data,
                logo=logo,
                logo_size=logo.size if logo else None,
                remove_logo=bool(form.cleaned_data.get("remove_logo")),
            )
        except ValidationError as exc:
            if getattr(exc, "code", "").startswith("logo_"):
                form.add_error("logo", exc.messages[0])
            else:
                apply_service_errors(form, exc)
        else:
            messages.success(request, INVOICE_TEMPLATE_SAVED)
            return redirect("billing:invoice_template", practice_slug=practice.slug)
    shown = form.template_for_preview(saved) if form.is_bound else saved
    context = {"form": form, "doc": sample_document(shown), "has_logo": bool(saved.logo)}
    return render(request, "billing/invoice_template.html", context, status=400 if form.errors else 200)


@require_POST
@require_role(*OWNER_OR_ADMIN)
def invoice_template_preview(request: PracticeRequest) -> HttpResponse:
    """The preview of the form as it stands (htmx swaps it in); nothing is saved."""
    saved = practice_selectors.invoice_template_for(request.practice)
    form = InvoiceTemplateForm(request.POST, instance=saved)
    form.is_valid()
    return render(
        request, "billing/_invoice_template_preview.html", {"doc": sample_document(form.template_for_preview(saved))}
    )
