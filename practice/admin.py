from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from .models import (
    AuditLog,
    InvoiceTemplate,
    JobRun,
    Membership,
    OutboxMessage,
    OutgoingEmail,
    OutgoingEmailAttachment,
    PasswordResetRequest,
    Practice,
    StaffInvite,
    TaxRate,
    User,
)
from .services import user_has_totp


def _platform_admins_only(request: HttpRequest) -> bool:
    # Django admin is for platform staff; practice owners work in the app itself. A superuser
    # who turned two-step sign-in on must have given a code in this session.
    user = request.user
    if not (user.is_active and user.is_superuser):
        return False
    # OTPMiddleware gives every request's user is_verified().
    return not user_has_totp(user) or bool(user.is_verified())  # type: ignore[union-attr,attr-defined]


ADMIN_PLATFORM_ONLY = "Django admin is for platform staff only. Practice settings are under Settings."


def _admin_sign_in(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    # Admin has no sign-in page of its own: the staff sign-in (throttled, with the second
    # step) is the only way in. Someone signed in without admin rights is told so.
    if request.user.is_authenticated:
        return render(request, "403.html", {"message": ADMIN_PLATFORM_ONLY}, status=403)
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("signin"))


admin.site.has_permission = _platform_admins_only  # type: ignore[method-assign]
admin.site.login = _admin_sign_in  # type: ignore[method-assign,assignment]
admin.site.site_header = "Practica platform admin"
admin.site.site_title = "Practica admin"


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records: viewable, never added, changed or deleted through admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["practice"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_superuser", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined", "session_generation"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Platform access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined", "session_generation")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "currency", "created_at"]
    list_filter = ["currency", "timezone"]
    search_fields = ["name", "slug", "email"]
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "practice", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "practice"]
    search_fields = ["user__email", "practice__name"]
    autocomplete_fields = ["user", "practice"]


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["name", "practice", "percent", "is_default", "is_archived"]
    list_filter = ["is_default", "is_archived", "practice"]
    search_fields = ["name", "practice__name"]
    list_select_related = ["practice"]


@admin.register(StaffInvite)
class StaffInviteAdmin(ReadOnlyAdmin):
    list_display = ["email", "practice", "role", "created_at", "expires_at", "accepted_at", "revoked_at"]
    list_filter = ["role", "practice"]
    search_fields = ["email", "practice__name"]
    exclude = ["token_hash"]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "practice", "actor_label", "action", "object_type", "object_repr", "ip_address"]
    list_filter = ["action", "practice", "object_type"]
    search_fields = ["actor_label", "action", "object_repr", "object_id"]
    date_hierarchy = "created_at"
    list_select_related = ["practice"]


@admin.register(PasswordResetRequest)
class PasswordResetRequestAdmin(ReadOnlyAdmin):
    """Reset emails sent in the last hour (the throttle's records; older ones are pruned)."""

    list_display = ["requested_at", "email", "ip_address"]
    search_fields = ["email", "ip_address"]


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """Every email queued, with its status and last error (practice.mail)."""

    list_display = ["created_at", "practice", "topic", "to", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "topic"]
    search_fields = ["to", "subject", "key"]
    date_hierarchy = "created_at"
    list_select_related = ["practice"]


@admin.register(OutgoingEmailAttachment)
class OutgoingEmailAttachmentAdmin(ReadOnlyAdmin):
    list_display = ["email", "position", "filename", "content_type", "renderer", "object_id"]
    exclude = ["content"]
    list_select_related = ["email"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Development only: emails kept for the Outbox page."""

    list_display = ["created_at", "to", "subject"]
    search_fields = ["to", "subject"]
    exclude = ["raw"]


@admin.register(InvoiceTemplate)
class InvoiceTemplateAdmin(ReadOnlyAdmin):
    """Read only: a practice changes its invoice template on its own Settings page, where
    the logo is checked and re-encoded."""

    list_display = ["practice", "layout", "theme_colour", "updated_at"]
    list_select_related = ["practice"]


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["local_date", "job", "practice", "status", "attempts", "started_at", "finished_at"]
    list_filter = ["status", "job"]
    search_fields = ["practice__name", "job"]
    list_select_related = ["practice"]
