"""Clients and payers in the platform admin (support and corrections).

Platform staff reading or changing a client record leave the same audit trail as
practice staff do (DESIGN.md, Security: every read of a client record is audited).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from practice.actor import Actor
from practice.admin import ReadOnlyAdmin
from practice.audit import audit_write, client_ip
from practice.models import User

from .models import (
    AutoPayApproval,
    AutoPayConsent,
    AutoPayEnrolment,
    AutoPaySkip,
    Client,
    EmailChange,
    Payer,
    PortalAccess,
    PortalSignInLink,
)
from .selectors import clinicians_for_practice
from .services import CLINICIAN_NOT_IN_PRACTICE, PAYER_NOT_IN_PRACTICE


def _admin_actor(request: HttpRequest) -> Actor:
    # The admin site lets in signed-in superusers only (practice/admin.py), never AnonymousUser.
    return Actor.of_user(cast(User, request.user), address=client_ip(request))


class ClientAdminForm(forms.ModelForm):
    """The app's own rules hold in admin too: payer and clinicians of the same practice."""

    class Meta:
        model = Client
        fields = [
            "practice",
            "status",
            "first_name",
            "last_name",
            "preferred_name",
            "email",
            "phone",
            "address",
            "date_of_birth",
            "clinicians",
            "payer",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean() returns; its declared type allows None
        practice = data.get("practice")
        if practice is None:
            return data
        payer = data.get("payer")
        if payer is not None and payer.practice_id != practice.pk:
            self.add_error("payer", PAYER_NOT_IN_PRACTICE)
        clinicians = list(data.get("clinicians") or [])
        allowed = set(clinicians_for_practice(practice).values_list("pk", flat=True))
        if any(u.pk not in allowed for u in clinicians):
            self.add_error("clinicians", CLINICIAN_NOT_IN_PRACTICE)
        return data


class ClientInline(admin.TabularInline):
    model = Client
    fk_name = "payer"
    extra = 0
    fields = ["first_name", "last_name", "email", "status"]
    readonly_fields = ["first_name", "last_name", "email", "status"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "relationship", "practice", "created_at"]
    list_filter = ["relationship", "practice"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    list_select_related = ["practice"]
    autocomplete_fields = ["practice"]
    readonly_fields = ["created_at"]
    inlines = [ClientInline]

    def save_model(self, request: HttpRequest, obj: Payer, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_write(
            practice=obj.practice,
            actor=_admin_actor(request),
            action="payer.changed_in_admin",
            obj=obj,
            changes={"fields": list(form.changed_data)},
        )


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientAdminForm
    list_display = ["last_name", "first_name", "preferred_name", "email", "phone", "status", "payer", "practice"]
    list_display_links = ["last_name", "first_name"]
    list_filter = ["status", "practice"]
    search_fields = ["first_name", "last_name", "preferred_name", "email", "phone", "payer__email"]
    list_select_related = ["practice", "payer"]
    autocomplete_fields = ["practice", "payer"]
    raw_id_fields = ["clinicians"]
    readonly_fields = ["created_at"]
    fieldsets = (
        (None, {"fields": ("practice", "status")}),
        ("Name", {"fields": ("first_name", "last_name", "preferred_name")}),
        ("Contact", {"fields": ("email", "phone", "address", "date_of_birth")}),
        ("Care and billing", {"fields": ("clinicians", "payer")}),
        ("Dates", {"fields": ("created_at",)}),
    )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "GET":
            found = Client.objects.filter(pk=object_id) if object_id.isdigit() else Client.objects.none()
            client = found.select_related("practice").first()
            if client is not None:
                audit_write(
                    practice=client.practice,
                    actor=_admin_actor(request),
                    action="client.viewed",
                    obj=client,
                    changes={"section": "admin"},
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit_write(
            practice=obj.practice,
            actor=_admin_actor(request),
            action="client.changed_in_admin",
            obj=obj,
            changes={"fields": list(form.changed_data)},
        )


@admin.register(PortalAccess)
class PortalAccessAdmin(ReadOnlyAdmin):
    """Granted and revoked from the client's Settings tab (audited there), not here."""

    list_display = ["client", "practice", "granted_at", "revoked_at", "invited_at"]
    list_filter = ["practice"]
    list_select_related = ["client", "practice"]


@admin.register(PortalSignInLink)
class PortalSignInLinkAdmin(ReadOnlyAdmin):
    """Portal sign-in requests, for support looking into "I never got the email"; the token
    itself is never stored."""

    list_display = ["email", "requested_at", "invitation", "expires_at", "used_at", "ip_address"]
    search_fields = ["email"]
    exclude = ["token_hash"]


@admin.register(EmailChange)
class EmailChangeAdmin(ReadOnlyAdmin):
    """Changes of email asked for on the portal's Profile (audited there), for support
    looking into "my new address never got the link"; the token itself is never shown."""

    list_display = ["new_email", "client", "payer", "practice", "requested_at", "expires_at", "confirmed_at"]
    list_filter = ["practice"]
    list_select_related = ["client", "payer", "practice"]
    search_fields = ["new_email"]
    exclude = ["token_hash"]


# AutoPay is turned on and off, skipped and approved by the client in the portal or by
# staff from the client's Settings tab (each audited there, with its consent): read only here.


@admin.register(AutoPayEnrolment)
class AutoPayEnrolmentAdmin(ReadOnlyAdmin):
    list_display = [
        "client",
        "practice",
        "started_at",
        "include_balance",
        "max_per_night",
        "failures_in_a_row",
        "paused_at",
        "ended_at",
    ]
    list_filter = ["practice"]
    list_select_related = ["client", "practice"]


@admin.register(AutoPayConsent)
class AutoPayConsentAdmin(ReadOnlyAdmin):
    list_display = ["client", "given_by", "channel", "staff", "email", "terms_version", "ip_address", "given_at"]
    list_filter = ["channel", "given_by"]
    list_select_related = ["client", "staff"]


@admin.register(AutoPaySkip)
class AutoPaySkipAdmin(ReadOnlyAdmin):
    list_display = ["enrolment", "night", "created_at", "created_by"]


@admin.register(AutoPayApproval)
class AutoPayApprovalAdmin(ReadOnlyAdmin):
    list_display = ["enrolment", "night", "amount", "created_at"]
