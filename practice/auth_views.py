"""Staff sign-in and sign-out, the second factor, password reset and invitations."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .audit import client_ip
from .forms import InviteAcceptForm, SignInForm, TokenForm
from .middleware import SESSION_LAST_SEEN, SESSION_SIGNED_IN_AT
from .models import User

PENDING_USER = "practica_pending_user"
PENDING_AT = "practica_pending_at"
PENDING_NEXT = "practica_pending_next"
PENDING_SECONDS = 5 * 60
CODE_EXPIRED = "The sign-in took too long. Enter your email and password again."
SIGNED_OUT = "You have signed out."


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _complete_sign_in(request: HttpRequest, user: User, backend: str) -> None:
    # login() gives the session a new id, so a session id planted before sign-in is useless.
    login(request, user, backend=backend)
    now = time.time()
    request.session[SESSION_SIGNED_IN_AT] = now
    request.session[SESSION_LAST_SEEN] = now
    services.audit_sign_in(user=user, ip=client_ip(request))


@sensitive_post_parameters()
@csrf_protect
@never_cache
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignInForm(request, data=request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next")
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if services.user_has_totp(user):
            request.session.cycle_key()
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_AT] = time.time()
            request.session[PENDING_NEXT] = _safe_next(request, next_url)
            return redirect("signin_code")
        _complete_sign_in(request, user, user.backend)  # type: ignore[attr-defined]  # set by authenticate()
        return HttpResponseRedirect(_safe_next(request, next_url))
    return render(request, "registration/signin.html", {"form": form, "next": next_url or ""})


@sensitive_post_parameters()
@csrf_protect
@never_cache
def sign_in_code(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    if not user_id or time.time() - started > PENDING_SECONDS:
        for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
            request.session.pop(key, None)
        if user_id:
            messages.error(request, CODE_EXPIRED)
        return redirect("signin")
    user = get_user_model().objects.get(pk=user_id)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None and device.verify_token(form.cleaned_data["token"]):
            next_url = request.session.get(PENDING_NEXT)
            for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
                request.session.pop(key, None)
            _complete_sign_in(request, user, "django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request, next_url))
        form.add_error("token", services.TOTP_BAD_TOKEN)
    return render(request, "registration/signin_code.html", {"form": form})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    user = request.user
    logout(request)
    if user.is_authenticated:
        # Signing out here signs out every other browser of this user too.
        services.user_sessions_end_all(user=user)
    messages.info(request, SIGNED_OUT)
    return redirect("signin")


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # Known, unknown and throttled addresses get the same answer after the same work: the
        # account is looked up and emailed by a task after commit (services.password_reset_request).
        services.password_reset_request(email=form.cleaned_data["email"], ip=client_ip(self.request))
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


@sensitive_post_parameters()
@never_cache
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    invite = services.staff_invite_get_pending(token)
    if invite is None:
        return render(request, "registration/invite_invalid.html", {"message": services.INVITE_NOT_VALID}, status=404)
    user = request.user if request.user.is_authenticated else None
    existing = get_user_model().objects.filter(email=invite.email).exists()
    if user is None and existing:
        messages.info(request, "Sign in with your account to accept the invitation.")
        return redirect(f"{reverse('signin')}?next={request.path}")
    form = InviteAcceptForm(request.POST or None, email=invite.email) if user is None else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            if form is None:
                joined, membership = services.staff_invite_accept(token=token, user=user, ip=client_ip(request))
            else:
                joined, membership = services.staff_invite_accept(
                    token=token,
                    user=None,
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                    password=form.cleaned_data["password1"],
                    ip=client_ip(request),
                )
                _complete_sign_in(request, joined, "django.contrib.auth.backends.ModelBackend")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("home")
        messages.success(request, f"Welcome to {membership.practice.name}.")
        return redirect(membership.practice.get_absolute_url())
    return render(request, "registration/invite_accept.html", {"invite": invite, "form": form})
