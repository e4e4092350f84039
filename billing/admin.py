"""Billing in the platform admin: for support, to see what happened.

Money records (invoices and their lines, payments, allocations, the ledger, client
accounts, package purchases, invoice counters) are read-only here: every change to them
goes through billing.services, which locks, writes the ledger and the audit row. Admin
has no action that writes money. A billing item may have its description or date
corrected while it is uninvoiced; once on an invoice the invoice is the record.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from practica.admin import ReadOnlyAdmin
from practica.audit import audit_write
from practica.models import User

from .models import (
    BillingItem,
    ClientAccount,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    LedgerEntry,
    Package,
    PackagePurchase,
    Payment,
    PaymentAllocation,
)
from .services_packages import SERVICE_NOT_IN_PRACTICE

LINE_FIELDS: tuple[str, ...] = (
    "position",
    "date",
    "description",
    "units",
    "unit_price",
    "tax_percent",
    "net",
    "tax",
    "amount",
    "active",
)
ITEM_FIELDS: tuple[str, ...] = (
    "practice",
    "client",
    "appointment",
    "service",
    "kind",
    "date",
    "description",
    "units",
    "unit_price",
    "tax_percent",
    "net",
    "tax",
    "amount",
    "currency",
    "invoice",
    "created_at",
    "updated_at",
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = LINE_FIELDS
    readonly_fields = LINE_FIELDS


class AllocationInline(ReadOnlyInline):
    model = PaymentAllocation
    fields = ("invoice", "amount")
    readonly_fields = ("invoice", "amount")


class InvoiceAllocationInline(ReadOnlyInline):
    model = PaymentAllocation
    fk_name = "invoice"
    fields = ("payment", "amount")
    readonly_fields = ("payment", "amount")
    verbose_name_plural = "payments allocated"


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "practice",
        "client",
        "kind",
        "status",
        "issue_date",
        "due_date",
        "total",
        "amount_paid",
        "balance",
        "currency",
    ]
    list_filter = ["status", "kind", "practice", "currency"]
    search_fields = ["number", "bill_to_name", "bill_to_email", "client__first_name", "client__last_name"]
    list_select_related = ["practice", "client"]
    date_hierarchy = "issue_date"
    inlines = [InvoiceLineInline, InvoiceAllocationInline]


@admin.register(BillingItem)
class BillingItemAdmin(admin.ModelAdmin):
    list_display = ["date", "description", "client", "practice", "kind", "amount", "currency", "invoice"]
    list_filter = ["kind", "practice", ("invoice", admin.EmptyFieldListFilter)]
    search_fields = ["description", "client__first_name", "client__last_name", "invoice__number"]
    list_select_related = ["practice", "client", "invoice"]
    date_hierarchy = "date"
    fields = ITEM_FIELDS
    # Amounts are computed by the billing rules (billing.money); only the wording and the
    # date of an uninvoiced item can be corrected here.
    editable = ("date", "description")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is not None and obj.invoice_id is None:
            return [f for f in ITEM_FIELDS if f not in self.editable]
        return list(ITEM_FIELDS)

    def save_model(self, request: HttpRequest, obj: BillingItem, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        changes = {
            name: [str(form.initial.get(name, "")), str(form.cleaned_data.get(name, ""))] for name in form.changed_data
        }
        actor = request.user if isinstance(request.user, User) else None
        audit_write(practice=obj.practice, actor=actor, action="billing_item.admin_edited", obj=obj, changes=changes)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.invoice_id is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "received_on",
        "client",
        "practice",
        "method",
        "status",
        "amount",
        "allocated",
        "credited",
        "currency",
    ]
    list_filter = ["method", "status", "practice"]
    search_fields = ["reference", "client__first_name", "client__last_name"]
    list_select_related = ["practice", "client"]
    date_hierarchy = "received_on"
    inlines = [AllocationInline]


@admin.register(PaymentAllocation)
class PaymentAllocationAdmin(ReadOnlyAdmin):
    list_display = ["payment", "invoice", "amount"]
    search_fields = ["invoice__number", "payment__reference"]
    list_select_related = ["payment", "invoice"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "client", "practice", "kind", "balance_delta", "credit_delta", "currency", "invoice"]
    list_filter = ["kind", "practice"]
    search_fields = ["client__first_name", "client__last_name", "invoice__number", "memo", "actor_label"]
    list_select_related = ["practice", "client", "invoice"]
    date_hierarchy = "created_at"


@admin.register(ClientAccount)
class ClientAccountAdmin(ReadOnlyAdmin):
    list_display = ["client", "practice", "balance", "credit_balance"]
    list_filter = ["practice"]
    search_fields = ["client__first_name", "client__last_name"]
    list_select_related = ["practice", "client"]


@admin.register(InvoiceCounter)
class InvoiceCounterAdmin(ReadOnlyAdmin):
    list_display = ["practice", "next_number"]
    list_select_related = ["practice"]


class PackageAdminForm(forms.ModelForm):
    class Meta:
        model = Package
        fields = ["practice", "name", "service", "sessions", "price", "valid_days", "is_archived"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        practice, service = data.get("practice"), data.get("service")
        if practice is not None and service is not None and service.practice_id != practice.pk:
            self.add_error("service", SERVICE_NOT_IN_PRACTICE)
        return data


@admin.register(Package)
class PackageAdmin(admin.ModelAdmin):
    form = PackageAdminForm
    list_display = ["name", "practice", "service", "sessions", "price", "valid_days", "is_archived"]
    list_filter = ["is_archived", "practice"]
    search_fields = ["name", "service__name"]
    list_select_related = ["practice", "service"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Archive instead: sold packages point at it.
        return False


@admin.register(PackagePurchase)
class PackagePurchaseAdmin(ReadOnlyAdmin):
    list_display = [
        "package",
        "client",
        "practice",
        "sessions_total",
        "sessions_used",
        "sessions_refunded",
        "expires_on",
        "invoice",
        "created_at",
    ]
    list_filter = ["practice"]
    search_fields = ["package__name", "client__first_name", "client__last_name", "invoice__number"]
    list_select_related = ["practice", "client", "package", "invoice"]
