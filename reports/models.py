"""What the Revenue report reads: each practice's figures summed per local day, kept by the
database as money moves.

Summing a year of a large practice from billing's rows means spreading every payment,
refund and write-off of the year over its invoice's lines (by service, by clinician): at
100,000 invoices that is half a second. ``RevenueDay`` holds those sums per day, so a
report of any period adds up a few thousand rows.

The rows are derived, never the record: billing's tables are. Triggers on those tables
(reports/migrations/0001_initial.py) write a ``RevenueStale`` mark for each day a change
touches, in the changing transaction; reports.selectors.revenue works out the marked days
again before it reads. A mark with no day asks for the practice's every day (its time zone
changed, or the way figures are worked out did).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

from practice.models import Practice

# Parts of an invoice are exact fractions (a payment spread over three lines): kept to 12
# places, far below a cent whatever a year of them adds up to.
_DIGITS: Any = {"max_digits": 26, "decimal_places": 12, "default": Decimal("0")}


class RevenueDay(models.Model):
    """One day of a practice's revenue, in one of three parts:

    - ``total``: the practice's whole figures of the day (no service, no clinician), as
      the Revenue report's months read them: invoiced and credit invoices by issue date,
      write-offs by their local day, whole payments and refunds.
    - ``line``: the day's figures on invoices, each spread over the invoice's lines in
      proportion to their amounts, per line's service and its session's clinician.
    - ``off``: what was on no invoice (an overpayment kept as credit, credit refunded).

    ``line`` and ``off`` add up to ``total`` (to far less than a cent).
    """

    class Part(models.TextChoices):
        TOTAL = "total", "Total"
        LINE = "line", "On invoice lines"
        OFF = "off", "On no invoice"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    part = models.CharField(max_length=5, choices=Part.choices)
    # Ids only: the rows are rebuilt from billing's, and a name is read when shown.
    service_id = models.BigIntegerField(null=True)
    clinician_id = models.BigIntegerField(null=True)
    invoiced = models.DecimalField(**_DIGITS)
    credits = models.DecimalField(**_DIGITS)
    written_off = models.DecimalField(**_DIGITS)
    collected = models.DecimalField(**_DIGITS)
    refunds = models.DecimalField(**_DIGITS)

    class Meta:
        indexes = [models.Index(fields=["practice", "part", "day"], name="revenueday_practice_part_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "day", "part", "service_id", "clinician_id"],
                name="revenueday_one_row",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.part} {self.service_id} {self.clinician_id}"


class RevenueStale(models.Model):
    """A day of a practice whose RevenueDay rows no longer hold (``day`` None: every day).
    Written by the triggers; no uniqueness, so two transactions marking the same day never
    wait for each other."""

    practice_id = models.BigIntegerField()
    day = models.DateField(null=True)

    class Meta:
        indexes = [models.Index(fields=["practice_id"], name="revenuestale_practice")]

    def __str__(self) -> str:
        return f"{self.practice_id} {self.day or 'every day'}"
