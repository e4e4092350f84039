"""The client portal's own pages: sign in by an emailed link, choose a practice, sign out,
the practice's logo, and Profile. Billing and payments have theirs in their apps."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from practice import selectors as practice_selectors
from practice.audit import client_ip
from practice.text import EMAIL_MAX_LENGTH

from .portal import (
    PORTAL_IDLE_SIGNED_OUT,
    PORTAL_SIGNED_OUT,
    SESSION_IDENTITY,
    SESSION_IDENTITY_COUNT,
    PortalRequest,
    portal_identities,
    portal_refuses_staff,
    portal_required,
    portal_session_choose,
    portal_session_email,
    portal_session_end,
    portal_session_expired,
    portal_session_start,
)
from .portal_signin import (
    SignInLinkExpired,
    SignInLinkInvalid,
    SignInLinkUsed,
    portal_sign_in_link_peek,
    portal_sign_in_link_use,
    portal_sign_in_request,
    portal_signed_in_audit,
)

SIGNIN_SENT = (
    "If {email} can use a client portal, a sign-in link is on its way to it. The link works once, for 15 "
    "minutes. Nothing arrived? Check your spam folder, or ask your practice which email they have for you."
)
SIGNIN_THROTTLED = "Too many sign-in links have been asked for. Wait a while, then try again."
LINK_INVALID = "This sign-in link does not work. Check that it was copied whole, or ask for a new one."
LINK_EXPIRED = "This sign-in link has expired: links work for 15 minutes. Ask for a new one."
LINK_USED = "This sign-in link has been used already: each link signs in once. Ask for a new one."
NO_ACCESS = "This email has no client portal access any more. Contact your practice if you think this is a mistake."

_SESSION_SENT_TO = "portal_signin_sent_to"


class SignInForm(forms.Form):
    email = forms.EmailField(max_length=EMAIL_MAX_LENGTH, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


def _refused(request: HttpRequest, message: str, email: str = "", status: int = 410) -> HttpResponse:
    form = SignInForm(initial={"email": email})
    return render(request, "portal/signin_link_refused.html", {"message": message, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if not portal_sign_in_request(email=email, ip=client_ip(request)):
            context = {"form": form, "error": SIGNIN_THROTTLED}
            return render(request, "portal/signin.html", context, status=429)
        request.session[_SESSION_SENT_TO] = email.strip().lower()
        return redirect("portal:signin_sent")
    return render(request, "portal/signin.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
def signin_sent(request: HttpRequest) -> HttpResponse:
    email = request.session.get(_SESSION_SENT_TO)
    if not isinstance(email, str):
        return redirect("portal:signin")
    return render(request, "portal/signin_sent.html", {"message": SIGNIN_SENT.format(email=email)})


@require_http_methods(["GET", "POST"])
def signin_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a Sign in button (a mail scanner opening the link must not spend it);
    its POST spends the link and starts the portal session."""
    try:
        if request.method == "GET":
            link = portal_sign_in_link_peek(token=token)
            return render(request, "portal/signin_link.html", {"email": link.email})
        email = portal_sign_in_link_use(token=token)
    except SignInLinkUsed as used:
        return _refused(request, LINK_USED, used.email)
    except SignInLinkExpired as expired:
        return _refused(request, LINK_EXPIRED, expired.email)
    except SignInLinkInvalid:
        return _refused(request, LINK_INVALID, status=404)
    identities = portal_identities(email)
    if not identities:
        return _refused(request, NO_ACCESS, email, status=403)
    portal_session_start(request, email=email)
    request.session[SESSION_IDENTITY_COUNT] = len(identities)
    if len(identities) == 1:
        portal_session_choose(request, identities[0])
        portal_signed_in_audit(identity=identities[0], address=client_ip(request))
        return redirect("portal:home")
    return redirect("portal:choose")


@require_http_methods(["GET", "POST"])
def choose(request: HttpRequest) -> HttpResponse:
    """A person who is a client or payer at two practices (or both at one) picks one."""
    if request.user.is_authenticated:
        return portal_refuses_staff(request)
    email = portal_session_email(request)
    if email is None:
        return redirect("portal:signin")
    if portal_session_expired(request):
        portal_session_end(request)
        messages.info(request, PORTAL_IDLE_SIGNED_OUT)
        return redirect("portal:signin")
    identities = portal_identities(email)
    if not identities:
        portal_session_end(request)
        return _refused(request, NO_ACCESS, email, status=403)
    if request.method == "POST":
        chosen = next((i for i in identities if i.key == request.POST.get("identity")), None)
        if chosen is not None:
            portal_session_choose(request, chosen)
            portal_signed_in_audit(identity=chosen, address=client_ip(request))
            return redirect("portal:home")
    current = request.session.get(SESSION_IDENTITY)
    response = render(request, "portal/choose.html", {"identities": identities, "current": current})
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    if portal_session_email(request) is not None:
        portal_session_end(request)
        messages.info(request, PORTAL_SIGNED_OUT)
    return redirect("portal:signin")


@require_GET
@portal_required
def logo(request: PortalRequest) -> FileResponse:
    """The practice's invoice logo, for its own portal's header (logos are not served as a
    folder: another practice's is unreachable)."""
    template = practice_selectors.invoice_template_for(request.practice)
    if not template.logo or not template.logo.storage.exists(template.logo.name):
        raise Http404("No logo.")
    response = FileResponse(template.logo.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response
