"""Reads of billing, always scoped to a practice (or a portal client): one module per
page or subject, every public name re-exported here so callers write
``billing.selectors.<name>``.

- invoices: invoices and payments by id, and facts about one invoice
- clients: one client's Billing tab and what the portal reads of them
- uninvoiced: what is billed but not invoiced yet
- home: the Billing page's tabs
- packages: Settings > Packages and a client's packages
- ledger: a client's account history and the Credits tab's trails
- search: the header's search over clients and invoices
- reminders: invoice reminders due on a day, a practice's rules, reminders sent
- portal: the client portal's invoices (scoped by clients.portal.portal_scope)
- portal_documents: the portal's Documents page (receipts of a client's payments)
- autopay: what a client's AutoPay may charge on a night
"""

from .autopay import AutoPayDue, autopay_amount_due
from .clients import (
    ClientBalance,
    client_account,
    client_balance,
    client_header_figures,
    client_invoices,
    client_open_invoices,
    client_payments,
    clients_for_invoicing,
    clients_with_money,
    invoice_payable,
    overdue_sum,
)
from .home import (
    CREDIT_STATUSES,
    INVOICE_STATUSES,
    PAYMENT_STATUSES,
    BillingTotals,
    billing_totals,
    credit_list,
    invoice_list,
    overdue_on,
    payment_list,
    uninvoiced_list,
)
from .invoices import (
    appointment_get_for_practice,
    billing_state_from_items,
    currency_in_use,
    invoice_get_for_practice,
    invoice_has_billing_items,
    invoice_numbering_started,
    invoices_visible,
    open_invoices_oldest_first,
    package_refund_sessions,
    payment_get_for_practice,
)
from .ledger import (
    CLIENT_LIST_PAGE_SIZE,
    HISTORY_PAGE_SIZE,
    AccountHistory,
    ClientBillingFigures,
    CreditTrail,
    CreditUse,
    HistoryRow,
    PeriodHistory,
    client_account_history,
    client_account_history_between,
    client_billing_figures,
    client_invoices_page,
    client_payments_page,
    credit_rows,
    credit_trails,
    credits_page_rows,
)
from .packages import (
    PackageLine,
    PackageSummary,
    package_get_for_practice,
    package_summary,
    packages_for_practice,
    purchase_get_for_practice,
)
from .portal import (
    PortalInvoiceRow,
    portal_invoice_get,
    portal_invoice_rows,
    portal_invoices,
    portal_owed,
    portal_status,
    portal_unpaid,
    portal_unpaid_count,
)
from .portal_documents import (
    RECEIPTS_PAGE_SIZE,
    portal_receipt_payment,
    portal_receipts,
    portal_receipts_page,
)
from .reminders import (
    invoice_reminders_sent,
    remindable_invoices,
    reminder_recipient,
    reminder_rules,
    reminders_due,
)
from .search import SEARCH_LIMIT, SearchResults, global_search
from .uninvoiced import (
    BulkPreviewRow,
    appointment_uninvoiced_by_client,
    billing_detail_invoiced,
    client_uninvoiced_items,
    uninvoiced_by_client,
    uninvoiced_client_count,
    uninvoiced_total,
)

__all__ = [
    "CLIENT_LIST_PAGE_SIZE",
    "CREDIT_STATUSES",
    "HISTORY_PAGE_SIZE",
    "INVOICE_STATUSES",
    "PAYMENT_STATUSES",
    "RECEIPTS_PAGE_SIZE",
    "SEARCH_LIMIT",
    "AccountHistory",
    "AutoPayDue",
    "BillingTotals",
    "BulkPreviewRow",
    "ClientBalance",
    "ClientBillingFigures",
    "CreditTrail",
    "CreditUse",
    "HistoryRow",
    "PackageLine",
    "PackageSummary",
    "PeriodHistory",
    "PortalInvoiceRow",
    "SearchResults",
    "appointment_get_for_practice",
    "appointment_uninvoiced_by_client",
    "autopay_amount_due",
    "billing_detail_invoiced",
    "billing_state_from_items",
    "billing_totals",
    "client_account",
    "client_account_history",
    "client_account_history_between",
    "client_balance",
    "client_billing_figures",
    "client_header_figures",
    "client_invoices",
    "client_invoices_page",
    "client_open_invoices",
    "client_payments",
    "client_payments_page",
    "client_uninvoiced_items",
    "clients_for_invoicing",
    "clients_with_money",
    "credit_list",
    "credit_rows",
    "credit_trails",
    "credits_page_rows",
    "currency_in_use",
    "global_search",
    "invoice_get_for_practice",
    "invoice_has_billing_items",
    "invoice_list",
    "invoice_numbering_started",
    "invoice_payable",
    "invoice_reminders_sent",
    "invoices_visible",
    "open_invoices_oldest_first",
    "overdue_on",
    "overdue_sum",
    "package_get_for_practice",
    "package_refund_sessions",
    "package_summary",
    "packages_for_practice",
    "payment_get_for_practice",
    "payment_list",
    "portal_invoice_get",
    "portal_invoice_rows",
    "portal_invoices",
    "portal_owed",
    "portal_receipt_payment",
    "portal_receipts",
    "portal_receipts_page",
    "portal_status",
    "portal_unpaid",
    "portal_unpaid_count",
    "purchase_get_for_practice",
    "remindable_invoices",
    "reminder_recipient",
    "reminder_rules",
    "reminders_due",
    "uninvoiced_by_client",
    "uninvoiced_client_count",
    "uninvoiced_list",
    "uninvoiced_total",
]
