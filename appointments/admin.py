"""Platform admin for services, appointments, recurring series and billing details.

Admin is for platform staff doing support and corrections (practica.admin limits it to
superusers). Status changes and billing go through the app's services, so appointments'
status and billing details are read-only here: an edit in admin would skip the audit log
and the billing items that follow from them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Appointment, AppointmentService, Attendee, BillingDetail, RecurringSeries, Service


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "practice", "price", "payment_type", "default_duration_minutes", "is_archived"]
    list_filter = ["payment_type", "is_archived", "practice"]
    search_fields = ["name", "code", "practice__name", "practice__slug"]
    list_select_related = ["practice"]
    raw_id_fields = ["practice", "tax_rate"]


class AttendeeInline(admin.TabularInline):
    model = Attendee
    extra = 0
    raw_id_fields = ["client"]


class AppointmentServiceInline(admin.TabularInline):
    model = AppointmentService
    extra = 0
    raw_id_fields = ["service"]


class BillingDetailInline(admin.TabularInline):
    model = BillingDetail
    extra = 0
    # A tuple, not a list: one value fits the declared types of both attributes (lists are invariant).
    fields = ("client", "service", "units", "unit_price", "tax_percent")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
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
    raw_id_fields = ["practice", "clinician", "series"]
    readonly_fields = ["status", "completed_at", "created_at"]
    inlines = [AttendeeInline, AppointmentServiceInline, BillingDetailInline]


@admin.register(RecurringSeries)
class RecurringSeriesAdmin(admin.ModelAdmin):
    list_display = ["id", "practice", "rrule", "local_start", "timezone", "created_at"]
    list_filter = ["timezone", "practice"]
    search_fields = ["=id", "rrule", "practice__name", "practice__slug"]
    list_select_related = ["practice"]
    raw_id_fields = ["practice"]


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
