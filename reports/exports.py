"""Each report as a CSV file: the same figures as the page, every row (not one page),
money as plain decimals, text made safe from spreadsheet formulas (practice.csv_export)."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse

from practice.csv_export import csv_money, csv_response, csv_text
from practice.models import Practice

from .forms import Period
from .selectors import (
    BUCKETS,
    BalanceRow,
    PaymentsReport,
    PaymentsRow,
    Revenue,
    RevenueRow,
    Scope,
    aging_all_rows,
    aging_totals,
    balance_all_rows,
    balance_totals,
)


def _filename(practice: Practice, slug: str, period: Period) -> str:
    if period.start and period.end:
        return f"{slug}-{period.start:%Y-%m-%d}-to-{period.end:%Y-%m-%d}.csv"
    if period.start or period.end:
        return f"{slug}-{(period.start or period.end):%Y-%m-%d}.csv"
    return f"{slug}-{practice.local_today():%Y-%m-%d}.csv"


def aging_csv(scope: Scope, period: Period) -> StreamingHttpResponse:
    practice = scope.practice
    header = ["Client", "Open invoices", *[label for _key, label in BUCKETS], "Total"]

    def lines() -> Iterator[list[str]]:
        for row in aging_all_rows(scope, period):
            yield [
                csv_text(row.name),
                str(row.invoices),
                *[csv_money(practice, amount) for amount in row.buckets()],
                csv_money(practice, row.total),
            ]
        # The totals last, computed by the database like the rows (not summed here).
        total = aging_totals(scope, period).row
        yield [
            "Total",
            str(total.invoices),
            *[csv_money(practice, a) for a in total.buckets()],
            csv_money(practice, total.total),
        ]

    return csv_response(_filename(practice, "aging", period), header, lines())


def balances_csv(scope: Scope, period: Period) -> StreamingHttpResponse:
    practice = scope.practice
    header = ["Client", "Open invoices", "Oldest issued", "Owed", "Overdue"]
    if scope.is_practice:
        header += ["Credit", "Owed less credit"]

    def cells(row: BalanceRow) -> list[str]:
        found = [
            csv_text(row.name),
            str(row.invoices),
            csv_text(row.oldest),
            csv_money(practice, row.owed),
            csv_money(practice, row.overdue),
        ]
        if scope.is_practice:
            found += [csv_money(practice, row.credit), csv_money(practice, row.net)]
        return found

    def lines() -> Iterator[list[str]]:
        for row in balance_all_rows(scope, period):
            yield cells(row)
        yield cells(balance_totals(scope, period).row)

    return csv_response(_filename(practice, "balances", period), header, lines())


REVENUE_HEADER = [
    "Table",
    "Row",
    "Invoiced",
    "Credits",
    "Write-offs",
    "Net billed",
    "Collected",
    "Refunds",
    "Net collected",
]


def revenue_csv(scope: Scope, period: Period, report: Revenue) -> StreamingHttpResponse:
    """The months, then by service and by clinician, each row saying which table it is of."""
    practice = scope.practice

    def cells(table: str, label: str, row: RevenueRow) -> list[str]:
        return [
            table,
            label,
            *[
                csv_money(practice, amount)
                for amount in (
                    row.invoiced,
                    row.credits,
                    row.written_off,
                    row.net_billed,
                    row.collected,
                    row.refunds,
                    row.net_collected,
                )
            ],
        ]

    def lines() -> Iterator[list[str]]:
        for row in report.months:
            yield cells("Month", f"{row.key:%Y-%m}", row)
        yield cells("Month", "Total", report.total)
        for row in report.by_service:
            yield cells("Service", csv_text(row.label), row)
        for row in report.by_clinician:
            yield cells("Clinician", csv_text(row.label), row)

    return csv_response(_filename(practice, "revenue", period), REVENUE_HEADER, lines())


def payments_csv(scope: Scope, period: Period, report: PaymentsReport) -> StreamingHttpResponse:
    practice = scope.practice
    header = ["Table", "Row", "Payments", "Received", "Refunded", "Stripe fees", "Net"]

    def cells(table: str, label: str, row: PaymentsRow) -> list[str]:
        return [
            table,
            label,
            str(row.payments),
            *[csv_money(practice, amount) for amount in (row.received, row.refunded, row.fees, row.net)],
        ]

    def lines() -> Iterator[list[str]]:
        for row in report.by_method:
            yield cells("Method", csv_text(row.label), row)
        for row in report.by_day:
            yield cells("Day", row.key.isoformat(), row)
        yield cells("Total", "Total", report.total)

    return csv_response(_filename(practice, "payments", period), header, lines())
