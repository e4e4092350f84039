"""The client portal, under /portal/ and the ``portal`` URL namespace.

Its pages live with the app that owns their data: sign-in, the practice chooser and the
profile here (clients), Billing and Documents in billing.portal_urls, Payment methods and
AutoPay in payments.portal_urls. The includes name those modules as strings (as
practice.urls does): clients never imports an app above it. Every view is wrapped in
clients.portal.portal_required except the sign-in pages themselves.
"""

from django.urls import URLPattern, URLResolver, include, path

from . import portal_views, profile_views

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("signin/", portal_views.signin, name="signin"),
    path("signin/sent/", portal_views.signin_sent, name="signin_sent"),
    path("signin/link/<str:token>/", portal_views.signin_link, name="signin_link"),
    path("choose/", portal_views.choose, name="choose"),
    path("signout/", portal_views.signout, name="signout"),
    path("logo/", portal_views.logo, name="logo"),
    path("profile/", profile_views.profile_page, name="profile"),
    path("profile/email/cancel/", profile_views.email_change_cancel, name="email_change_cancel"),
    path("profile/email/<str:token>/", profile_views.email_confirm, name="email_confirm"),
    # Billing (the portal's home, at /portal/) and Documents.
    path("", include("billing.portal_urls")),
    # Payment methods, AutoPay and paying online.
    path("", include("payments.portal_urls")),
]
