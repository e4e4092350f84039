"""Billing in the platform admin: for support, to see what happened.

Every billing model is read-only here: money records (invoices and their lines, payments,
allocations, the ledger, client accounts, package purchases and draws, invoice counters)
and also billing items and packages, because every change to them goes through a service
that locks, validates, writes the ledger and the audit row (billing.services; Settings >
Packages in the app). Admin has no action that writes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from practice.admin import ReadOnlyAdmin

from .models import (
    BillingItem,
    ClientAccount,
    Export,
    Invoice,
    InvoiceCounter,
    InvoiceCreationSetting,
    InvoiceLine,
    InvoiceReminder,
    LedgerEntry,
    Package,
    PackageDraw,
    PackagePurchase,
    PackageRefund,
    Payment,
    PaymentAllocation,
    Refund,
    RefundAllocation,
    ReminderRule,
    SubmissionKey,
)

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
class BillingItemAdmin(ReadOnlyAdmin):
    # Read-only: a billing item's wording, date and amounts change through the invoice
    # services (adjusted on the Uninvoiced panel), which audit them.
    list_display = ["date", "description", "client", "practice", "kind", "amount", "currency", "invoice"]
    list_filter = ["kind", "practice", ("invoice", admin.EmptyFieldListFilter)]
    search_fields = ["description", "client__first_name", "client__last_name", "invoice__number"]
    list_select_related = ["practice", "client", "invoice"]
    date_hierarchy = "date"
    fields = ITEM_FIELDS
    readonly_fields = ITEM_FIELDS


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
        "dispute_status",
    ]
    list_filter = ["method", "status", "dispute_status", "practice"]
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
    list_filter = ["practice"]
    search_fields = ["practice__name", "practice__slug"]


@admin.register(InvoiceLine)
class InvoiceLineAdmin(ReadOnlyAdmin):
    list_display = ["invoice", "position", "date", "description", "units", "unit_price", "tax_percent", "amount"]
    list_filter = ["active", "invoice__practice"]
    search_fields = ["invoice__number", "description"]
    list_select_related = ["invoice"]


@admin.register(Package)
class PackageAdmin(ReadOnlyAdmin):
    # Read-only: packages are kept in Settings > Packages (billing.services.packages), which
    # checks the price and the service's practice and audits every change.
    list_display = ["name", "practice", "service", "sessions", "price", "valid_days", "is_archived"]
    list_filter = ["is_archived", "practice"]
    search_fields = ["name", "service__name"]
    list_select_related = ["practice", "service"]


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


@admin.register(PackageDraw)
class PackageDrawAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "purchase", "client", "service", "appointment"]
    list_filter = ["purchase__practice"]
    search_fields = ["client__first_name", "client__last_name", "purchase__package__name"]
    list_select_related = ["purchase", "client", "service", "appointment"]
    date_hierarchy = "created_at"


@admin.register(SubmissionKey)
class SubmissionKeyAdmin(ReadOnlyAdmin):
    # Support reads which form submission recorded what, and where a repeat was sent.
    list_display = ["created_at", "practice", "action", "key", "result_url", "created_by"]
    list_filter = ["action", "practice"]
    search_fields = ["key", "result_url"]
    list_select_related = ["practice", "created_by"]
    date_hierarchy = "created_at"


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    # Read-only: a refund moves money and the ledger; it is recorded on the payment page
    # (billing.services.refunds.refund_record), never edited.
    list_display = ["refunded_on", "client", "practice", "payment", "amount", "from_credit", "method", "reason"]
    list_filter = ["practice", "method"]
    search_fields = ["client__first_name", "client__last_name", "reason"]
    list_select_related = ["practice", "client", "payment"]
    date_hierarchy = "refunded_on"


@admin.register(RefundAllocation)
class RefundAllocationAdmin(ReadOnlyAdmin):
    list_display = ["refund", "invoice", "amount"]
    list_filter = ["refund__practice"]
    search_fields = ["invoice__number"]
    list_select_related = ["refund", "invoice"]


@admin.register(PackageRefund)
class PackageRefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "purchase", "credit_invoice", "sessions", "practice"]
    list_filter = ["practice"]
    search_fields = ["credit_invoice__number", "purchase__client__first_name", "purchase__client__last_name"]
    list_select_related = ["practice", "purchase", "credit_invoice"]
    date_hierarchy = "created_at"


@admin.register(ReminderRule)
class ReminderRuleAdmin(ReadOnlyAdmin):
    list_display = ["practice", "kind", "days", "repeat_times", "enabled", "subject"]
    list_filter = ["practice", "kind", "enabled"]
    list_select_related = ["practice"]


@admin.register(InvoiceReminder)
class InvoiceReminderAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "invoice", "rule", "occurrence", "to", "actor_label", "practice"]
    list_filter = ["practice"]
    search_fields = ["invoice__number", "to"]
    list_select_related = ["practice", "invoice", "rule"]
    date_hierarchy = "created_at"


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "practice", "requested_by", "status", "done", "total", "filename", "finished_at"]
    list_filter = ["practice", "status"]
    list_select_related = ["practice", "requested_by"]
    date_hierarchy = "created_at"


@admin.register(InvoiceCreationSetting)
class InvoiceCreationSettingAdmin(ReadOnlyAdmin):
    list_display = ["practice", "cadence", "weekday", "send_automatically", "updated_at"]
