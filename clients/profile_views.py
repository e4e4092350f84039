"""The client portal's Profile page: the signed-in client (or payer) changes their name,
phone and email; a new email waits for the link sent to it (clients.profile).

The confirmation link opens only in the portal session of the person who asked for it:
another person's link, an expired one or one already used is the same 404 page, which
says what to do next.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from practice.actor import Actor
from practice.audit import client_ip
from practice.forms import apply_service_errors

from . import profile
from .forms import PortalProfileForm
from .portal import PortalRequest, portal_required, portal_session_email_changed


def _person(request: PortalRequest) -> profile.Person:
    identity = request.portal
    return identity.client if identity.client is not None else identity.payer  # type: ignore[return-value]


def _actor(request: PortalRequest) -> Actor:
    return Actor.of_portal(request.portal.email, address=client_ip(request))


@require_http_methods(["GET", "POST"])
@portal_required
def profile_page(request: PortalRequest) -> HttpResponse:
    person = _person(request)
    initial = {"first_name": person.first_name, "last_name": person.last_name, "phone": person.phone}
    waiting = profile.email_change_pending(person)
    # The form offers the address waiting for its link, so saving the form again keeps it.
    initial["email"] = waiting.new_email if waiting is not None else person.email
    form = PortalProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = profile.profile_update(
                person=person,
                actor=_actor(request),
                first_name=data["first_name"],
                last_name=data["last_name"],
                phone=data["phone"],
                email=data["email"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if result.email_change is not None:
                messages.success(
                    request,
                    profile.EMAIL_CHANGE_SENT.format(new=result.email_change.new_email, old=result.person.email),
                )
            elif waiting is not None and data["email"].strip().lower() == person.email.lower():
                messages.success(
                    request, profile.EMAIL_CHANGE_CANCELLED.format(new=waiting.new_email, old=person.email)
                )
            elif result.changed:
                messages.success(request, profile.PROFILE_SAVED)
            else:
                messages.info(request, profile.PROFILE_UNCHANGED)
            return redirect("portal:profile")
    context = {
        "title": "Profile",
        "form": form,
        "person": person,
        "waiting": waiting,
        "waiting_text": profile.EMAIL_CHANGE_PENDING.format(new=waiting.new_email, old=person.email)
        if waiting is not None
        else "",
    }
    return render(request, "clients/portal/profile.html", context, status=400 if form.errors else 200)


@require_POST
@portal_required
def email_change_cancel(request: PortalRequest) -> HttpResponse:
    person = _person(request)
    change = profile.email_change_cancel(person=person, actor=_actor(request))
    if change is not None:
        messages.success(request, profile.EMAIL_CHANGE_CANCELLED.format(new=change.new_email, old=person.email))
    return redirect("portal:profile")


def _link_invalid(request: PortalRequest) -> HttpResponse:
    context = {"title": "Link not valid", "message": profile.EMAIL_CHANGE_LINK_INVALID}
    return render(request, "clients/portal/email_link_invalid.html", context, status=404)


@require_http_methods(["GET", "POST"])
@portal_required
def email_confirm(request: PortalRequest, token: str) -> HttpResponse:
    person = _person(request)
    change = profile.email_change_for_link(person=person, token=token)
    if change is None:
        return _link_invalid(request)
    if request.method == "POST":
        try:
            change = profile.email_change_confirm(person=person, actor=_actor(request), token=token)
        except ValidationError:
            return _link_invalid(request)
        # The session was opened for the old address: it now belongs to the new one.
        portal_session_email_changed(request, change.new_email)
        messages.success(request, profile.EMAIL_CHANGE_DONE.format(new=change.new_email))
        return redirect("portal:profile")
    context: dict[str, object] = {"title": "Confirm your new email", "change": change, "person": person}
    return render(request, "clients/portal/email_confirm.html", context)
