"""Settings > Packages, "Sell package" on a client and refunding unused sessions.

Owners, admins and billers; a clinician gets the 403 page. Another practice's package,
purchase or client is the same 404 as a missing one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clients.selectors import client_get_for_practice
from practice.access import BILLING_ROLES, require_role
from practice.forms import apply_service_errors
from practice.types import PracticeRequest

from .. import selectors, submission
from ..forms.packages import PackageForm, PackageRefundForm, PackageSellForm
from ..models import Invoice, Package, PackagePurchase
from ..services import (
    PACKAGE_REFUND_NOT_PAID,
    PackageData,
    package_create,
    package_refund_unused,
    package_sell,
    package_set_archived,
    package_update,
)

PACKAGE_ADDED = "Package {name} added."
PACKAGE_SAVED = "Package {name} saved. Packages already sold keep what they were sold with."
PACKAGE_ARCHIVED = "Package {name} archived: it is no longer offered, and packages already sold keep working."
PACKAGE_RESTORED = "Package {name} is offered again."
PACKAGE_SOLD = "Package {name} sold to {client}: {sessions} sessions."
PACKAGE_REFUNDED = "Refunded {sessions} session(s) through credit invoice {number}."
NOTHING_TO_REFUND = "No unused sessions are left to refund."
NO_PACKAGES = "Add a package in Settings > Packages first."


def _package(request: PracticeRequest, package_id: int) -> Package:
    try:
        return selectors.package_get_for_practice(request.practice, package_id)
    except Package.DoesNotExist:
        raise Http404("No such package.") from None


def _purchase(request: PracticeRequest, purchase_id: int) -> PackagePurchase:
    try:
        return selectors.purchase_get_for_practice(request.practice, purchase_id)
    except PackagePurchase.DoesNotExist:
        raise Http404("No such package.") from None


@require_role(*BILLING_ROLES)
def package_list(request: PracticeRequest) -> HttpResponse:
    archived = request.GET.get("archived") == "1"
    packages = selectors.packages_for_practice(request.practice, archived=archived)
    return render(request, "billing/package_list.html", {"packages": packages, "show_archived": archived})


def _package_form(request: PracticeRequest, package: Package | None) -> HttpResponse:
    practice = request.practice
    form = PackageForm(request.POST or None, practice=practice, package=package)
    if request.method == "POST" and form.is_valid():
        data = PackageData(**form.cleaned_data)
        try:
            if package is None:
                saved = package_create(practice=practice, actor=request.user, data=data)
                messages.success(request, PACKAGE_ADDED.format(name=saved.name))
            else:
                saved = package_update(package=package, actor=request.user, data=data)
                messages.success(request, PACKAGE_SAVED.format(name=saved.name))
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("billing:packages", practice_slug=practice.slug)
    status = 400 if form.errors else 200
    return render(request, "billing/package_form.html", {"form": form, "package": package}, status=status)


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
def package_new(request: PracticeRequest) -> HttpResponse:
    return _package_form(request, None)


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
def package_edit(request: PracticeRequest, package_id: int) -> HttpResponse:
    return _package_form(request, _package(request, package_id))


@require_POST
@require_role(*BILLING_ROLES)
def package_archive(request: PracticeRequest, package_id: int) -> HttpResponse:
    package = _package(request, package_id)
    restore = request.POST.get("restore") == "1"
    package_set_archived(package=package, actor=request.user, archived=not restore)
    messages.success(request, (PACKAGE_RESTORED if restore else PACKAGE_ARCHIVED).format(name=package.name))
    return redirect("billing:packages", practice_slug=request.practice.slug)


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
@submission.once("package.sold")
def package_sell_view(request: PracticeRequest, client_id: int) -> HttpResponse:
    """ "Sell package" on a client: the package's invoice (issued, or a draft), then its page."""
    practice = request.practice
    client = client_get_for_practice(practice, request.membership, client_id)
    form = PackageSellForm(request.POST or None, practice=practice)
    if request.method == "POST" and form.is_valid():
        package = form.cleaned_data["package"]
        try:
            purchase = package_sell(
                practice=practice,
                client=client,
                package=package,
                actor=request.user,
                issue=form.cleaned_data["issue"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, PACKAGE_SOLD.format(name=package.name, client=client.display_name, sessions=package.sessions)
            )
            return redirect(purchase.invoice.get_absolute_url())
    context: dict[str, Any] = {
        "client": client,
        "form": form,
        "summary": selectors.package_summary(practice, client),
        "no_packages": NO_PACKAGES if not form.fields["package"].queryset.exists() else "",  # type: ignore[attr-defined]
    }
    return render(request, "billing/package_sell.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
@submission.once("package.refunded")
def package_refund(request: PracticeRequest, purchase_id: int) -> HttpResponse:
    """Refund unused sessions of a sold package through a credit invoice."""
    purchase = _purchase(request, purchase_id)
    form = PackageRefundForm(request.POST or None, sessions_left=purchase.sessions_left)
    # What the page offers is a hint read without locks; whether a refund is allowed is
    # the service's decision, taken under its locks, and its refusal is shown as is.
    if purchase.invoice.status != Invoice.Status.PAID:
        not_possible = PACKAGE_REFUND_NOT_PAID
    elif purchase.sessions_left <= 0:
        not_possible = NOTHING_TO_REFUND
    else:
        not_possible = ""
    if request.method == "POST" and form.is_valid():
        try:
            credit = package_refund_unused(
                purchase=purchase,
                actor=request.user,
                sessions=form.cleaned_data["sessions"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request, PACKAGE_REFUNDED.format(sessions=form.cleaned_data["sessions"], number=credit.number)
            )
            return redirect(credit.get_absolute_url())
    refundable = not not_possible
    context = {"purchase": purchase, "form": form, "refundable": refundable, "not_possible": not_possible}
    return render(request, "billing/package_refund.html", context, status=400 if form.errors else 200)
