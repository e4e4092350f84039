"""Reads of the reports, each an aggregate in PostgreSQL (see common for the scope rule)."""

from .aging import BUCKETS, AgingRow, AgingTotals, aging_all_rows, aging_rows, aging_totals
from .balances import BalanceRow, BalanceTotals, balance_all_rows, balance_rows, balance_totals
from .common import Scope, SqlRows
from .payments import PaymentsReport, PaymentsRow, payments_report
from .revenue import Revenue, RevenueRow, revenue_breakdown, revenue_months, revenue_report

__all__ = [
    "BUCKETS",
    "AgingRow",
    "AgingTotals",
    "BalanceRow",
    "BalanceTotals",
    "PaymentsReport",
    "PaymentsRow",
    "Revenue",
    "RevenueRow",
    "Scope",
    "SqlRows",
    "aging_all_rows",
    "aging_rows",
    "aging_totals",
    "balance_all_rows",
    "balance_rows",
    "balance_totals",
    "payments_report",
    "revenue_breakdown",
    "revenue_months",
    "revenue_report",
]
