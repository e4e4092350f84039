"""Settings > Services: the practice's price list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from practice.access import BILLING_ROLES, require_role
from practice.forms import apply_service_errors
from practice.models import TaxRate
from practice.types import PracticeRequest

from .. import services
from ..forms import ServiceForm
from ..models import Service
from .common import render_local


@require_role(*BILLING_ROLES)
def services_list(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    show_archived = request.GET.get("archived") == "1"
    rows = (
        Service.objects.filter(practice=practice, is_archived=show_archived).select_related("tax_rate").order_by("name")
    )
    return render_local(request, "appointments/services_list.html", {"services": rows, "show_archived": show_archived})


def _service_form_view(request: PracticeRequest, service: Service | None) -> HttpResponse:
    practice = request.practice
    initial = {}
    if service is None:
        default_rate = TaxRate.objects.filter(practice=practice, is_default=True, is_archived=False).first()
        initial = {"tax_rate": default_rate}
    form = ServiceForm(request.POST or None, instance=service, initial=initial, practice=practice)
    if request.method == "POST" and form.is_valid():
        try:
            if service is None:
                saved = services.service_create(
                    practice=practice,
                    actor=request.user,
                    data=form.cleaned_data,
                )
                messages.success(request, f"Service {saved.name} added.")
            else:
                saved = services.service_update(
                    service=service,
                    actor=request.user,
                    data=form.cleaned_data,
                )
                messages.success(request, f"Service {saved.name} saved.")
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("appointments:services", practice_slug=practice.slug)
    status = 400 if form.errors else 200
    return render_local(request, "appointments/service_form.html", {"form": form, "service": service}, status=status)


@require_role(*BILLING_ROLES)
def service_new(request: PracticeRequest) -> HttpResponse:
    return _service_form_view(request, None)


@require_role(*BILLING_ROLES)
def service_edit(request: PracticeRequest, service_id: int) -> HttpResponse:
    service = get_object_or_404(Service, pk=service_id, practice=request.practice)
    return _service_form_view(request, service)


@require_POST
@require_role(*BILLING_ROLES)
def service_archive(request: PracticeRequest, service_id: int) -> HttpResponse:
    practice = request.practice
    service = get_object_or_404(Service, pk=service_id, practice=practice)
    if request.POST.get("restore") == "1":
        services.service_restore(service=service, actor=request.user)
        messages.success(request, f"Service {service.name} is back on the price list.")
    else:
        outcome = services.service_archive(service=service, actor=request.user)
        if outcome == "archived":
            messages.success(
                request, f"Service {service.name} was archived: appointments use it, so it is kept for their history."
            )
        else:
            messages.success(request, f"Service {service.name} was deleted: no appointment used it.")
    return redirect("appointments:services", practice_slug=practice.slug)
