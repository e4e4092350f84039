from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from . import auth_views, outbox_views, views

# Staff pages of one practice live under /p/<practice_slug>/; PracticeMiddleware turns the
# slug into request.practice (or a 404 for a practice the user is not a member of).
practice_patterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/practice/", views.settings_practice, name="settings_practice"),
    path("settings/staff/", views.staff_list, name="staff"),
    path("settings/staff/<int:membership_id>/role/", views.staff_change_role, name="staff_change_role"),
    path("settings/staff/<int:membership_id>/profile/", views.staff_profile, name="staff_profile"),
    path("settings/staff/<int:membership_id>/remove/", views.staff_remove, name="staff_remove"),
    path("settings/staff/invites/<int:invite_id>/revoke/", views.staff_invite_revoke, name="staff_invite_revoke"),
    path("settings/security/", views.security, name="security"),
    path("settings/security/totp/start/", views.security_totp_start, name="security_totp_start"),
    path("settings/security/totp/remove/", views.security_totp_remove, name="security_totp_remove"),
    path("settings/audit/", views.audit_log, name="audit_log"),
    path("settings/automations/", views.automations, name="automations"),
    path("settings/automations/<slug:job_name>/run/", views.automation_run_now, name="automation_run_now"),
    path("settings/invoice-template/logo/", views.invoice_template_logo, name="invoice_template_logo"),
    path("clients/", include("clients.urls")),
    # billing's pages are under billing/, except its settings and a session's billing detail.
    path("", include("billing.urls")),
    path("", include("appointments.urls")),
    path("", include("payments.settings_urls")),
    # The Reports page and its reports (other apps add theirs under reports/ too).
    path("reports/", include("reports.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", auth_views.sign_in, name="signin"),
    path("signin/code/", auth_views.sign_in_code, name="signin_code"),
    path("signout/", auth_views.sign_out, name="signout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invite/<str:token>/", auth_views.invite_accept, name="invite_accept"),
    path("dev/outbox/", outbox_views.outbox, name="outbox"),
    path("dev/outbox/<int:message_id>/", outbox_views.outbox_message, name="outbox_message"),
    path("dev/outbox/<int:message_id>/html/", outbox_views.outbox_message_html, name="outbox_message_html"),
    path(
        "dev/outbox/<int:message_id>/attachments/<int:index>/",
        outbox_views.outbox_attachment,
        name="outbox_attachment",
    ),
    # Payment links: an invoice opened without signing in (billing.payment_links).
    path("pay/", include("billing.pay_urls")),
    # The client portal: clients and payers signed in by an emailed link (clients.portal).
    path("portal/", include("clients.portal_urls")),
    # Stripe's webhooks, platform and Connect events alike (payments.views).
    path("stripe/", include("payments.urls")),
    path("admin/", admin.site.urls),
    path("p/<slug:practice_slug>/", include(practice_patterns)),
]
