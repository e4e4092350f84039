"""Staff pages of the practice itself: dashboard, settings, staff, security, audit log."""

from __future__ import annotations

import base64
import io

import segno
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import jobs, selectors, services
from .access import OWNER_ONLY, OWNER_OR_ADMIN, require_role
from .actor import Actor
from .audit import client_ip
from .forms import (
    AuditFilterForm,
    InviteForm,
    PracticeSettingsForm,
    RoleForm,
    StaffProfileForm,
    TokenForm,
    apply_service_errors,
)
from .models import Membership, Practice, StaffInvite
from .paging import CappedPaginator
from .types import AuthenticatedRequest, PracticeRequest

SETTINGS_SAVED = "Settings saved."
TOTP_REMOVE_NEEDS_PASSWORD = "Enter your current password to turn two-step sign-in off."


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    memberships = list(selectors.memberships_for_user(request.user))
    if not memberships:
        return render(request, "practice/no_practice.html")
    last = request.user.last_practice_id
    chosen = next((m for m in memberships if m.practice_id == last), None)
    if chosen is None and len(memberships) > 1:
        return render(request, "practice/choose.html", {"memberships": memberships})
    return redirect((chosen or memberships[0]).practice.get_absolute_url())


def dashboard(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    context = {"summary": selectors.dashboard_summary(practice, request.membership)}
    return render(request, "practice/dashboard.html", context)


def settings_index(request: PracticeRequest) -> HttpResponse:
    return render(request, "practice/settings_index.html")


def _settings_form_view(
    request: PracticeRequest, form_class: type[ModelForm[Practice]], fields: tuple[str, ...], template: str
) -> HttpResponse:
    practice = request.practice
    form = form_class(request.POST or None, instance=practice.__class__.objects.get(pk=practice.pk))
    if request.method == "POST" and form.is_valid():
        services.practice_settings_update(
            practice=practice,
            actor=Actor.of_user(request.user, address=client_ip(request)),
            data=form.cleaned_data,
            fields=fields,
        )
        messages.success(request, SETTINGS_SAVED)
        return redirect(request.path)
    return render(request, template, {"form": form})


@require_role(*OWNER_ONLY)
def settings_practice(request: PracticeRequest) -> HttpResponse:
    return _settings_form_view(
        request, PracticeSettingsForm, services.PRACTICE_SETTINGS_FIELDS, "practice/settings_practice.html"
    )


@require_role(*OWNER_ONLY)
def staff_list(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_invite(
                practice=practice,
                invited_by=Actor.of_user(request.user, address=client_ip(request)),
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect(request.path)
    context = {
        "form": form,
        "members": selectors.staff_for_practice(practice),
        "invites": selectors.pending_invites(practice),
        "role_form": RoleForm(),
    }
    return render(request, "practice/staff.html", context, status=400 if form.errors else 200)


@require_POST
@require_role(*OWNER_ONLY)
def staff_change_role(request: PracticeRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, pk=membership_id, practice=request.practice)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role from the list.")
        return redirect("staff", practice_slug=request.practice.slug)
    try:
        changed = services.membership_change_role(
            membership=membership,
            role=form.cleaned_data["role"],
            actor=Actor.of_user(request.user, address=client_ip(request)),
        )
        messages.success(request, f"{membership.user} is now {changed.get_role_display().lower()}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("staff", practice_slug=request.practice.slug)


@require_role(*OWNER_ONLY)
def staff_profile(request: PracticeRequest, membership_id: int) -> HttpResponse:
    """A staff member's licence number, NPI and tax id (for superbills)."""
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, practice=request.practice, is_active=True
    )
    initial = {f: getattr(membership, f) for f in services.STAFF_PROFILE_FIELDS}
    form = StaffProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update_profile(
                membership=membership,
                actor=Actor.of_user(request.user, address=client_ip(request)),
                data=form.cleaned_data,
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{membership.user.get_full_name() or membership.user} saved.")
            return redirect("staff", practice_slug=request.practice.slug)
    context = {"form": form, "member": membership}
    return render(request, "practice/staff_profile.html", context, status=400 if form.errors else 200)


@require_POST
@require_role(*OWNER_ONLY)
def staff_remove(request: PracticeRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, pk=membership_id, practice=request.practice, is_active=True)
    try:
        services.membership_deactivate(
            membership=membership, actor=Actor.of_user(request.user, address=client_ip(request))
        )
        messages.success(request, f"{membership.user} no longer has access to this practice.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("staff", practice_slug=request.practice.slug)


@require_POST
@require_role(*OWNER_ONLY)
def staff_invite_revoke(request: PracticeRequest, invite_id: int) -> HttpResponse:
    invite = get_object_or_404(StaffInvite, pk=invite_id, practice=request.practice)
    services.staff_invite_revoke(invite=invite, actor=Actor.of_user(request.user, address=client_ip(request)))
    messages.success(request, f"The invitation to {invite.email} was withdrawn.")
    return redirect("staff", practice_slug=request.practice.slug)


QR_SCALE = 4


def qr_svg_data_uri(text: str) -> str:
    """A QR code of ``text`` as an SVG data URI an <img> can show and a phone can scan.

    A standalone SVG needs its namespace (an <img> shows nothing without it), and both a
    size and a viewBox: the size gives the image its natural dimensions, the viewBox lets
    the browser scale the modules crisply to whatever box the page draws it in.
    """
    code = segno.make(text, error="m")
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=QR_SCALE, xmldecl=False, omitsize=True)
    side = code.symbol_size(scale=QR_SCALE)[0]
    svg = buffer.getvalue().decode().replace("<svg ", f'<svg width="{side}" height="{side}" ', 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def security(request: PracticeRequest) -> HttpResponse:
    user = request.user
    posted = request.POST.get("form") if request.method == "POST" else None
    password_form = PasswordChangeForm(user, request.POST if posted == "password" else None)
    token_form = TokenForm(request.POST if posted == "totp" else None)
    if posted == "password" and password_form.is_valid():
        services.user_password_change(
            user=user,
            password=password_form.cleaned_data["new_password1"],
            practice=request.practice,
            ip=client_ip(request),
        )
        # Keep this session; every other session of the user ends with the old password.
        update_session_auth_hash(request, password_form.user)
        messages.success(request, "Your password was changed. Other devices have been signed out.")
        return redirect(request.path)
    if posted == "totp" and token_form.is_valid():
        try:
            services.totp_device_confirm(user=user, token=token_form.cleaned_data["token"], ip=client_ip(request))
        except ValidationError as exc:
            token_form.add_error("token", " ".join(exc.messages))
        else:
            messages.success(request, "Two-step sign-in is on. You will be asked for a code at each sign-in.")
            return redirect(request.path)
    device = selectors.totp_device_pending(user)
    qr = None
    if device is not None:
        qr = qr_svg_data_uri(device.config_url)
    context = {
        "password_form": password_form,
        "token_form": token_form,
        "totp_on": services.user_has_totp(user),
        "pending_device": device,
        "pending_secret": base64.b32encode(device.bin_key).decode() if device else "",
        "qr": qr,
    }
    has_errors = password_form.errors or token_form.errors
    return render(request, "practice/security.html", context, status=400 if has_errors else 200)


@require_POST
def security_totp_start(request: PracticeRequest) -> HttpResponse:
    services.totp_device_start(user=request.user)
    return redirect("security", practice_slug=request.practice.slug)


@require_POST
def security_totp_remove(request: PracticeRequest) -> HttpResponse:
    # Someone at an unlocked screen must not be able to turn the second step off.
    if not request.user.check_password(request.POST.get("password", "")):
        messages.error(request, TOTP_REMOVE_NEEDS_PASSWORD)
        return redirect("security", practice_slug=request.practice.slug)
    services.totp_device_remove(user=request.user, ip=client_ip(request))
    messages.success(request, "Two-step sign-in is off.")
    return redirect("security", practice_slug=request.practice.slug)


@require_role(*OWNER_OR_ADMIN)
def audit_log(request: PracticeRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.audit_rows(request.practice, **filters)
    page = CappedPaginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "practice/audit_log.html", {"form": form, "page": page})


@require_GET
def invoice_template_logo(request: PracticeRequest) -> FileResponse:
    """The practice's invoice logo, to its own staff only (the settings page's preview and
    printed invoices show it). Logos live under MEDIA_ROOT, which is not served as a
    folder: another practice's logo is a 404 like a missing one."""
    template = selectors.invoice_template_for(request.practice)
    if not template.logo or not template.logo.storage.exists(template.logo.name):
        raise Http404("No logo.")
    response = FileResponse(template.logo.open("rb"), content_type="image/png")
    # The URL names the file (?v=), and a new upload gets a new name.
    response["Cache-Control"] = "private, max-age=86400"
    return response


RUN_NOW_DONE = "{label} ran for {day}."
RUN_NOW_FAILED = "{label} failed: {error}"
RUN_NOW_ALREADY = "{label} has already run today ({day}); it runs again tomorrow."


@require_role(*OWNER_OR_ADMIN)
def automations(request: PracticeRequest) -> HttpResponse:
    rows = jobs.automation_rows(request.practice)
    return render(request, "practice/automations.html", {"rows": rows, "catch_up_days": jobs.CATCH_UP_DAYS - 1})


@require_POST
@require_role(*OWNER_OR_ADMIN)
def automation_run_now(request: PracticeRequest, job_name: str) -> HttpResponse:
    job = jobs.get_job(job_name)
    if job is None:
        raise Http404("No such automation.")
    practice = request.practice
    run = jobs.job_run_now(
        practice=practice, job_name=job.name, actor=Actor.of_user(request.user, address=client_ip(request))
    )
    day = practice.local_today()
    if run is None:
        messages.info(request, RUN_NOW_ALREADY.format(label=job.label, day=day.isoformat()))
    elif run.status == run.Status.FAILED:
        messages.error(request, RUN_NOW_FAILED.format(label=job.label, error=run.error))
    else:
        messages.success(request, RUN_NOW_DONE.format(label=job.label, day=day.isoformat()))
    return redirect("automations", practice_slug=practice.slug)
