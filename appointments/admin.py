"""Platform admin for services, appointments, recurring series and billing details.

Admin is for platform staff doing support and corrections (practice.admin limits it to
superusers). Appointments, their attendees, services and billing details, and recurring
series are read-only here: a change to a time, a clinician, an attendee or a service must
go through appointments.services, which checks the status, keeps billing details and items
in step and writes the audit log. Services (the price list) stay editable, with the same
practice rule the app keeps: a service's tax rate is one of its own practice.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from practice.admin import ReadOnlyAdmin

from .models import Appointment, AppointmentService, Attendee, BillingDetail, RecurringSeries, Service

TAX_RATE_OTHER_PRACTICE = "Choose a tax rate of the service's own practice."


class ServiceAdminForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "practice",
            "name",
            "code",
            "default_duration_minutes",
            "price",
            "tax_rate",
            "payment_type",
            "copay_kind",
            "copay_amount",
            "copay_percent",
            "is_archived",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean() returns; its declared type allows None
        # On a change the practice is read-only, so it is the instance's.
        practice = data.get("practice") or (self.instance.practice if self.instance.practice_id else None)
        tax_rate = data.get("tax_rate")
        if practice is not None and tax_rate is not None and tax_rate.practice_id != practice.pk:
            self.add_error("tax_rate", TAX_RATE_OTHER_PRACTICE)
        return data


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceAdminForm
    list_display = ["name", "code", "practice", "price", "payment_type", "default_duration_minutes", "is_archived"]
    list_filter = ["payment_type", "is_archived", "practice"]
    search_fields = ["name", "code", "practice__name", "practice__slug"]
    list_select_related = ["practice"]
    raw_id_fields = ["practice", "tax_rate"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Appointments and billing details of one practice point at it: it never moves.
        return ["practice"] if obj is not None else []


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AttendeeInline(ReadOnlyInline):
    model = Attendee
    fields = readonly_fields = ("client",)


class AppointmentServiceInline(ReadOnlyInline):
    model = AppointmentService
    fields = readonly_fields = ("service",)


class BillingDetailInline(ReadOnlyInline):
    model = BillingDetail
    # A tuple, not a list: one value fits the declared types of both attributes (lists are invariant).
    fields = ("client", "service", "units", "unit_price", "tax_percent")
    readonly_fields = fields


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["id", "start", "end", "clinician", "practice", "status", "location", "series"]
    list_filter = ["status", "location", "practice"]
    search_fields = [
        "=id",
        "practice__name",
        "practice__slug",
        "clinician__email",
        "clients__first_name",
        "clients__last_name",
    ]
    date_hierarchy = "start"
    list_select_related = ["practice", "clinician", "series"]
    inlines = [AttendeeInline, AppointmentServiceInline, BillingDetailInline]


@admin.register(RecurringSeries)
class RecurringSeriesAdmin(ReadOnlyAdmin):
    list_display = ["id", "practice", "rrule", "local_start", "timezone", "created_at"]
    list_filter = ["timezone", "practice"]
    search_fields = ["=id", "rrule", "practice__name", "practice__slug"]
    list_select_related = ["practice"]


@admin.register(BillingDetail)
class BillingDetailAdmin(admin.ModelAdmin):
    """Read-only: a change must flow to uninvoiced items, which only the service does."""

    list_display = ["id", "appointment", "client", "service", "units", "unit_price", "tax_percent"]
    list_filter = ["service__payment_type", "appointment__practice"]
    search_fields = ["=appointment__id", "client__first_name", "client__last_name", "service__name", "service__code"]
    list_select_related = ["appointment", "client", "service"]
    readonly_fields = ["appointment", "client", "service", "units", "unit_price", "tax_percent"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attendee)
class AttendeeAdmin(ReadOnlyAdmin):
    list_display = ["appointment", "client"]
    search_fields = ["client__first_name", "client__last_name", "client__email"]
    list_filter = ["appointment__practice"]
    list_select_related = ["appointment", "client"]


@admin.register(AppointmentService)
class AppointmentServiceAdmin(ReadOnlyAdmin):
    list_display = ["appointment", "service"]
    search_fields = ["service__name", "service__code"]
    list_filter = ["appointment__practice"]
    list_select_related = ["appointment", "service"]
