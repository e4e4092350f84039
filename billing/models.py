"""Billing items (what a client owes for a session before it is invoiced) and invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Service
from clients.models import Client
from practice.models import Practice

from .statuses import status_badge

# Why a status move is refused: what the biller reads (and the tests assert on).
NOT_DRAFT = "Only a draft invoice can be issued."
DRAFT_ONLY_DELETE = "Only a draft can be deleted; void an open invoice instead."
VOID_PAID = (
    "A paid or partly paid invoice cannot be voided. Open the payment and use Record refund to "
    "give the money back (the invoice then owes it again and can be voided), or issue a credit "
    "invoice for the part you want to take back."
)
VOID_NOT_OPEN = "Only an open invoice can be voided."
WRITE_OFF_NOT_OPEN = "Only an open invoice with a balance can be written off."
PAYMENT_ALREADY_REVERSED = "This payment was already deleted."
PAYMENT_HAS_REFUNDS = (
    "Money from this payment has been refunded, so it cannot be deleted: the refund is a fact the "
    "deletion would erase. Record a refund for the rest instead."
)
CARD_NOT_DELETED = "A card payment is refunded, not deleted."
REFUND_PAYMENT_DELETED = "This payment was deleted, so there is nothing to refund."
DISPUTE_NOT_CARD = "Only a card payment can be disputed."
DISPUTE_CLOSED = "This payment's dispute is closed ({outcome}); its outcome does not change."
# Moves only the services make, on the figures they have just changed: a programming error.
NOT_SETTLED = "Only an open invoice that owes nothing can become paid."
NOT_REOPENED = "Only a paid invoice that owes something again can reopen."


def _refuse(refusal: str | None) -> None:
    if refusal is not None:
        raise ValidationError(refusal)


class InvoiceCounter(models.Model):
    """The next invoice number of a practice. Numbers are taken with this row locked,
    inside the issuing transaction, so a failed issue rolls its number back: no gaps,
    no duplicates, whatever the concurrency."""

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="invoice_counter")
    next_number = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.practice}: next {self.next_number}"


class Invoice(models.Model):
    """An invoice (or, with ``kind=credit``, a credit invoice) of one client.

    Invariants (in the database): ``total = subtotal + tax``; for an invoice every amount
    is >= 0 and ``balance = total - credit_applied - amount_paid - written_off`` >= 0
    (``written_off``: what "Write off" closed without payment; such an invoice is
    ``paid`` with a balance of 0 and reads "Written off"); a credit invoice
    has ``total <= 0`` and takes no payments; a number exists exactly when the invoice has
    left draft, and is unique in its practice. "Partially paid" and "overdue" are derived.
    An invoice the invoice creation run made carries the run's local day
    (``creation_run_date``): a client gets at most one such invoice per run day, so a run
    killed and run again, or run twice at once, invoices nobody twice.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", "Invoice"
        CREDIT = "credit", "Credit invoice"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        VOID = "void", "Void"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="invoices")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.INVOICE)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField(max_length=40, null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    # A client's or payer's full name: first and last names are 100 each.
    bill_to_name = models.CharField(max_length=255, blank=True)
    bill_to_email = models.EmailField(blank=True)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    subtotal = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    tax = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    total = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    credit_applied = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    amount_paid = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    balance = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    # db_default too: rows written by raw SQL (and older code) get 0 / "" rather than NULL.
    written_off = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"), db_default=Decimal("0"))
    write_off_reason = models.CharField(max_length=255, blank=True, db_default="")
    written_off_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True, help_text="Why a credit invoice was issued.")
    apply_credit_on_issue = models.BooleanField(default=False)
    void_reason = models.CharField(max_length=255, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The practice's local day whose invoice creation run made this invoice; null for the rest.
    creation_run_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "status", "-created_at"], name="invoice_practice_status"),
            models.Index(fields=["practice", "client"], name="invoice_practice_client"),
            models.Index(fields=["practice", "-issue_date", "-id"], name="invoice_practice_issued"),
            # The Billing page's outstanding and overdue totals read only this index (an
            # index-only scan of the open invoices), never the whole table.
            models.Index(
                fields=["practice", "due_date"],
                include=["balance"],
                condition=models.Q(kind="invoice", status="open", balance__gt=0),
                name="invoice_open_balance",
            ),
            # The Credits tab: credit invoices newest first.
            models.Index(
                fields=["practice", "-issue_date", "-id"],
                condition=models.Q(kind="credit"),
                name="invoice_credit_issued",
            ),
            # The Revenue report's write-offs of a period: the few invoices written off, by
            # when, rather than a scan of every invoice.
            models.Index(
                fields=["practice", "written_off_at"],
                condition=models.Q(written_off__gt=0),
                name="invoice_written_off",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["practice", "number"], name="invoice_unique_number"),
            models.UniqueConstraint(fields=["practice", "sequence"], name="invoice_unique_sequence"),
            models.UniqueConstraint(
                fields=["client", "creation_run_date"],
                condition=models.Q(creation_run_date__isnull=False),
                name="invoice_one_per_client_and_run_day",
            ),
            models.CheckConstraint(
                condition=models.Q(total=models.F("subtotal") + models.F("tax")), name="invoice_total_sum"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", number__isnull=True)
                | (~models.Q(status="draft") & models.Q(number__isnull=False)),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="invoice")
                | models.Q(status="void", credit_applied=0, amount_paid=0, balance=0, written_off=0)
                | models.Q(
                    subtotal__gte=0,
                    tax__gte=0,
                    credit_applied__gte=0,
                    amount_paid__gte=0,
                    written_off__gte=0,
                    balance__gte=0,
                    balance=models.F("total")
                    - models.F("credit_applied")
                    - models.F("amount_paid")
                    - models.F("written_off"),
                ),
                name="invoice_amounts_consistent",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="credit")
                | models.Q(total__lte=0, credit_applied=0, amount_paid=0, balance=0, written_off=0),
                name="credit_invoice_amounts",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="paid") | models.Q(balance=0), name="invoice_paid_means_zero_balance"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("billing:invoice", kwargs={"practice_slug": self.practice.slug, "invoice_id": self.pk})

    @property
    def is_credit(self) -> bool:
        return self.kind == self.Kind.CREDIT

    @property
    def status_code(self) -> str:
        """The status code a biller reads (billing.statuses): the stored status, or issued,
        written_off, overdue or partially_paid. The Billing page's list computes the same in
        SQL (billing.selectors.home._derived_status); the two must agree."""
        if self.status == self.Status.OPEN and self.is_credit:
            return "issued"
        if self.status == self.Status.PAID and self.written_off > 0:
            return "written_off"
        if self.status == self.Status.OPEN:
            if self.due_date and self.due_date < self.practice.local_today() and self.balance > 0:
                return "overdue"
            if self.amount_paid > 0 or self.credit_applied > 0:
                return "partially_paid"
        return str(self.status)

    @property
    def display_status(self) -> str:
        """The status a biller reads: Draft, Open, Partially paid, Overdue, Paid, Void, Issued."""
        return status_badge(self.status_code)[0]

    def can_edit(self) -> bool:
        return self.status == self.Status.DRAFT or (
            self.status == self.Status.OPEN and self.amount_paid == 0 and self.written_off == 0 and not self.is_credit
        )

    def can_take_payment(self) -> bool:
        """Add payment, Apply credit and Mark as paid: an open invoice that owes something."""
        return self.kind == self.Kind.INVOICE and self.status == self.Status.OPEN and self.balance > 0

    # --- status moves ---------------------------------------------------------------------
    # draft -> open (issue); open -> paid once nothing is owed (settle: paid in full, by
    # credit, or written off); paid -> open once something is owed again (reopen: a payment
    # deleted or refunded); open or paid -> void. A credit invoice goes draft -> open -> void
    # only; a draft is deleted, not voided. ``can_<move>()`` is what a page offers,
    # ``<move>_refusal()`` why not (the message a service raises), and ``mark_<move>()``
    # makes the move or raises ValidationError with that message; the caller saves.

    def issue_refusal(self) -> str | None:
        return None if self.status == self.Status.DRAFT else NOT_DRAFT

    def can_issue(self) -> bool:
        return self.issue_refusal() is None

    def mark_issued(self, *, sequence: int, number: str, issue_date: date, due_date: date | None) -> None:
        """Draft -> open, with the number taken from the practice's counter."""
        _refuse(self.issue_refusal())
        self.sequence, self.number = sequence, number
        self.issue_date = issue_date
        self.due_date = due_date
        self.status = self.Status.OPEN
        self.issued_at = timezone.now()

    def delete_draft_refusal(self) -> str | None:
        return None if self.status == self.Status.DRAFT else DRAFT_ONLY_DELETE

    def can_delete_draft(self) -> bool:
        return self.delete_draft_refusal() is None

    def can_settle(self) -> bool:
        return self.kind == self.Kind.INVOICE and self.status == self.Status.OPEN and self.balance == 0

    def mark_settled(self) -> None:
        """Open -> paid: nothing is owed any more."""
        _refuse(None if self.can_settle() else NOT_SETTLED)
        self.status = self.Status.PAID
        self.paid_at = timezone.now()

    def can_reopen(self) -> bool:
        return self.status == self.Status.PAID and self.balance > 0

    def mark_reopened(self) -> None:
        """Paid -> open: something is owed again."""
        _refuse(None if self.can_reopen() else NOT_REOPENED)
        self.status = self.Status.OPEN
        self.paid_at = None

    def settle(self) -> None:
        """The status the balance calls for, after the figures moved: paid when an open
        invoice owes nothing, open again when a paid one owes something; else unchanged."""
        if self.can_settle():
            self.mark_settled()
        elif self.can_reopen():
            self.mark_reopened()

    def write_off_refusal(self) -> str | None:
        return None if self.can_take_payment() else WRITE_OFF_NOT_OPEN

    def can_write_off(self) -> bool:
        return self.write_off_refusal() is None

    def mark_written_off(self, reason: str) -> Decimal:
        """Open -> paid without payment: what is still owed moves to ``written_off``.
        Returns that amount."""
        _refuse(self.write_off_refusal())
        amount = self.balance
        self.written_off += amount
        self.balance = Decimal("0")
        self.write_off_reason = reason[:255]
        self.written_off_at = timezone.now()
        self.mark_settled()
        return amount

    def void_refusal(self) -> str | None:
        if self.amount_paid > 0:
            return VOID_PAID
        if self.status not in (self.Status.OPEN, self.Status.PAID):
            return VOID_NOT_OPEN
        return None

    def can_void(self) -> bool:
        return self.void_refusal() is None

    def mark_void(self, reason: str) -> None:
        """Open or paid -> void: it no longer owes or credits anything (the caller has
        written the reversing ledger entries)."""
        _refuse(self.void_refusal())
        self.status = self.Status.VOID
        self.void_reason = reason.strip()[:255]
        self.voided_at = timezone.now()
        self.written_off = Decimal("0")
        self.credit_applied = Decimal("0")
        self.balance = Decimal("0")


class InvoiceLine(models.Model):
    """A snapshot of one billing item (or a free line) on an invoice.

    ``active`` is cleared when the invoice is voided; the partial unique index on
    ``billing_item`` where active means an item is on at most one non-void invoice.
    Amounts are rounded per line (billing.money); a credit invoice's lines are negative.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    billing_item = models.ForeignKey(
        "BillingItem", null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_lines"
    )
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    date = models.DateField(null=True, blank=True)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=200)
    units = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=3)
    tax_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"))
    net = models.DecimalField(max_digits=14, decimal_places=3)
    tax = models.DecimalField(max_digits=14, decimal_places=3)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    # The clinician of the session the line bills (its item's appointment's), None for a
    # line typed by hand or a package: whose share of the invoice the line is. Kept by the
    # database (migration 0020), whatever the code that writes the line sets.
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        # A clinician's lines and their amounts, read without the table (reports: shares).
        indexes = [
            models.Index(
                fields=["clinician", "invoice"],
                include=["amount"],
                condition=models.Q(clinician__isnull=False),
                name="line_clinician_invoice",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["billing_item"],
                condition=models.Q(active=True, billing_item__isnull=False),
                name="line_item_on_one_live_invoice",
            ),
            models.CheckConstraint(
                condition=models.Q(amount=models.F("net") + models.F("tax")), name="line_amount_is_net_plus_tax"
            ),
            models.CheckConstraint(condition=models.Q(units__gt=0), name="line_units_positive"),
            models.CheckConstraint(condition=models.Q(tax_percent__gte=0, tax_percent__lte=100), name="line_tax_range"),
        ]

    def __str__(self) -> str:
        return f"{self.description} {self.amount}"


class BillingItem(models.Model):
    """One billable line for one client: a service of a completed session, a no-show or
    late-cancellation fee, or a line added by hand.

    Invariants (in the database): one item per (appointment, client, service) for
    sessions and one per (appointment, client, kind) for fees; ``net + tax = amount``;
    amounts are never negative. Amounts are rounded per line (billing.money). An item is
    uninvoiced while ``invoice`` is empty; voiding an invoice empties it again.
    """

    class Kind(models.TextChoices):
        SESSION = "session", "Session"
        NO_SHOW_FEE = "no_show_fee", "No-show fee"
        LATE_CANCEL_FEE = "late_cancel_fee", "Late-cancellation fee"
        MANUAL = "manual", "Added by hand"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="billing_items")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="billing_items")
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="billing_items"
    )
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SESSION)
    date = models.DateField(help_text="The session's date in the practice's timezone.")
    description = models.CharField(max_length=200)
    units = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=3)
    tax_percent = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"))
    net = models.DecimalField(max_digits=14, decimal_places=3)
    tax = models.DecimalField(max_digits=14, decimal_places=3)
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="billing_items")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["date", "id"]
        indexes = [
            models.Index(
                fields=["practice", "client"], condition=models.Q(invoice__isnull=True), name="item_uninvoiced"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "client", "service"],
                condition=models.Q(kind="session"),
                name="item_one_per_session_service",
            ),
            models.UniqueConstraint(
                fields=["appointment", "client", "kind"],
                condition=models.Q(kind__in=["no_show_fee", "late_cancel_fee"]),
                name="item_one_fee_per_attendee",
            ),
            models.CheckConstraint(
                condition=models.Q(amount=models.F("net") + models.F("tax")), name="item_amount_is_net_plus_tax"
            ),
            models.CheckConstraint(
                condition=models.Q(net__gte=0, tax__gte=0, unit_price__gte=0, units__gt=0),
                name="item_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="session") | models.Q(appointment__isnull=False, service__isnull=False),
                name="item_session_has_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.description} {self.amount} {self.currency}"

    @property
    def is_invoiced(self) -> bool:
        return self.invoice_id is not None


class Payment(models.Model):
    """Money received from a client (or their payer), allocated to invoices.

    ``amount = allocated + credited`` where ``credited`` is the overpayment that became
    credit. A hand payment is never deleted: it is reversed (status ``reversed``) with a
    reason, and the ledger gets reversing entries. ``refunded`` is what Refund rows gave
    back (0 <= refunded <= amount, in the database); a payment with refunds cannot be
    deleted, since the money handed back is a fact the reversal would erase.

    ``dispute_status`` follows the card processor's dispute of a card payment (never of a
    hand payment, in the database): open while the cardholder's bank decides, then won or
    lost for good. A lost dispute's money is a Refund (reason "Dispute lost"); the status
    itself moves no money.
    """

    class Method(models.TextChoices):
        CASH = "cash", "Cash"
        CHEQUE = "cheque", "Cheque"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CARD_TERMINAL = "card_terminal", "Card terminal"
        INSURANCE = "insurance", "Insurance"
        OTHER = "other", "Other"
        CARD_ONLINE = "card_online", "Card online"
        CARD_ON_FILE = "card_on_file", "Card on file"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REVERSED = "reversed", "Reversed"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    class DisputeStatus(models.TextChoices):
        NONE = "none", "Not disputed"
        OPEN = "open", "Disputed"
        WON = "won", "Dispute won"
        LOST = "lost", "Dispute lost"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="payments")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    allocated = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    credited = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    refunded = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"), db_default=Decimal("0"))
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, choices=Method.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUCCEEDED)
    received_on = models.DateField()
    reference = models.CharField(max_length=120, blank=True)
    # The processor's id of the charge (a Stripe PaymentIntent), blank for a hand payment:
    # unique per practice so a webhook and a redirect can never both record one payment.
    external_id = models.CharField(max_length=255, blank=True, default="")
    reversal_reason = models.CharField(max_length=255, blank=True)
    dispute_status = models.CharField(
        max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.NONE, db_default=DisputeStatus.NONE
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["practice", "-received_on", "-id"], name="payment_practice_received"),
            # The Credits tab: payments that left credit, newest first.
            models.Index(
                fields=["practice", "-received_on", "-id"],
                condition=models.Q(credited__gt=0),
                name="payment_credited_received",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(
                    allocated__gte=0, credited__gte=0, amount=models.F("allocated") + models.F("credited")
                ),
                name="payment_amount_is_allocated_plus_credited",
            ),
            models.CheckConstraint(
                condition=models.Q(refunded__gte=0, refunded__lte=models.F("amount")),
                name="payment_refunded_within_amount",
            ),
            models.UniqueConstraint(
                fields=["practice", "external_id"],
                condition=~models.Q(external_id=""),
                name="payment_external_id_once_per_practice",
            ),
            # Only a card payment is disputed (at the card processor), and only with a known state.
            models.CheckConstraint(
                condition=models.Q(dispute_status="none")
                | models.Q(dispute_status__in=["open", "won", "lost"], method__in=["card_online", "card_on_file"]),
                name="payment_dispute_status_of_card",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.amount} {self.currency} on {self.received_on}"

    def can_refund(self) -> bool:
        """Record refund: a hand payment, not deleted, with something left to give back."""
        return (
            self.status in (self.Status.SUCCEEDED, self.Status.PARTIALLY_REFUNDED)
            and self.method not in (self.Method.CARD_ONLINE, self.Method.CARD_ON_FILE)
            and self.refunded < self.amount
        )

    # --- status moves: succeeded -> reversed (a hand payment deleted); succeeded or
    # partially refunded -> partially refunded or refunded. As Invoice's: ``can_<move>()``,
    # ``<move>_refusal()``, ``mark_<move>()`` raising ValidationError; the caller saves.

    def reverse_refusal(self) -> str | None:
        if self.status == self.Status.REVERSED:
            return PAYMENT_ALREADY_REVERSED
        if self.refunded > 0:
            return PAYMENT_HAS_REFUNDS
        if self.method in (self.Method.CARD_ONLINE, self.Method.CARD_ON_FILE):
            return CARD_NOT_DELETED
        return None

    def can_reverse(self) -> bool:
        """Delete payment is offered on a succeeded hand payment with nothing refunded."""
        return self.status == self.Status.SUCCEEDED and self.reverse_refusal() is None

    def mark_reversed(self, reason: str) -> None:
        _refuse(self.reverse_refusal())
        self.status = self.Status.REVERSED
        self.reversal_reason = reason.strip()[:255]
        self.reversed_at = timezone.now()

    # --- dispute moves: none -> open -> won or lost (an inquiry may also close back to
    # none, and the processor may report a dispute already decided). Won and lost are final.

    def dispute_refusal(self, status: str) -> str | None:
        if self.method not in (self.Method.CARD_ONLINE, self.Method.CARD_ON_FILE):
            return DISPUTE_NOT_CARD
        if self.dispute_status in (self.DisputeStatus.WON, self.DisputeStatus.LOST) and status != self.dispute_status:
            return DISPUTE_CLOSED.format(outcome=self.get_dispute_status_display().lower())
        return None

    def mark_dispute(self, status: str) -> None:
        _refuse(self.dispute_refusal(status))
        self.dispute_status = self.DisputeStatus(status)

    @property
    def is_disputed(self) -> bool:
        """A dispute is open: the bank holds the money until it decides."""
        return self.dispute_status == self.DisputeStatus.OPEN

    def refund_refusal(self) -> str | None:
        return REFUND_PAYMENT_DELETED if self.status == self.Status.REVERSED else None

    def mark_refunded(self, amount: Decimal) -> None:
        """``amount`` more given back: refunded in full or in part. The check constraint
        refuses ``refunded > amount`` should the service's checks be wrong."""
        _refuse(self.refund_refusal())
        self.refunded += amount
        self.status = self.Status.REFUNDED if self.refunded == self.amount else self.Status.PARTIALLY_REFUNDED


class PaymentAllocation(models.Model):
    """The part ``amount`` of a payment that paid one invoice; ``refunded`` of it was
    handed back (a Refund), so the invoice counts ``amount - refunded`` as paid."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    refunded = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"), db_default=Decimal("0"))

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(refunded__gte=0, refunded__lte=models.F("amount")),
                name="allocation_refunded_within_amount",
            ),
            models.UniqueConstraint(fields=["payment", "invoice"], name="allocation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of {self.payment_id} to {self.invoice_id}"


class LedgerEntry(models.Model):
    """One movement of money for one client. Never updated or deleted (a trigger refuses).

    ``balance_delta`` changes what the client owes; ``credit_delta`` changes their credit
    balance. The client's balance is the sum of ``balance_delta`` and their credit the
    sum of ``credit_delta``; nothing else is the source of those figures.
    """

    class Kind(models.TextChoices):
        INVOICE_ISSUED = "invoice_issued", "Invoice issued"
        INVOICE_ADJUSTED = "invoice_adjusted", "Invoice edited"
        INVOICE_VOIDED = "invoice_voided", "Invoice voided"
        PAYMENT = "payment", "Payment"
        PAYMENT_REVERSED = "payment_reversed", "Payment reversed"
        REFUND = "refund", "Refund"
        CREDIT_ISSUED = "credit_issued", "Credit issued"
        CREDIT_APPLIED = "credit_applied", "Credit applied"
        CREDIT_RETURNED = "credit_returned", "Credit returned"
        WRITE_OFF = "write_off", "Write-off"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="ledger_entries")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    balance_delta = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    credit_delta = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries")
    memo = models.CharField(max_length=255, blank=True)
    actor_label = models.CharField(max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["practice", "client", "created_at"], name="ledger_client_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.balance_delta}/{self.credit_delta} {self.currency}"


class ClientAccount(models.Model):
    """The running balance and credit balance of one client.

    A cache of the ledger sums, written in the same transaction as each ledger entry so the
    database can refuse a balance or a credit that would go below zero (a check constraint
    cannot see a SUM). ``ledger_verify`` proves the two agree.
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="account")
    balance = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    credit_balance = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="account_balance_not_negative"),
            models.CheckConstraint(condition=models.Q(credit_balance__gte=0), name="account_credit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.client}: owes {self.balance}, credit {self.credit_balance}"


class Package(models.Model):
    """A prepaid bundle: ``sessions`` of ``service`` for ``price``, optionally expiring."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="packages")
    name = models.CharField(max_length=120)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    sessions = models.PositiveSmallIntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=3)
    valid_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Expires this many days after sale.")
    is_archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(sessions__gt=0), name="package_sessions_positive"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="package_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class PackagePurchase(models.Model):
    """A package sold to a client. Sessions are drawn by PackageDraw rows."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="package_purchases")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="package_purchases")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="purchases")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="package_purchase")
    sessions_total = models.PositiveSmallIntegerField()
    sessions_used = models.PositiveSmallIntegerField(default=0)
    sessions_refunded = models.PositiveSmallIntegerField(default=0)
    expires_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions_used__lte=models.F("sessions_total") - models.F("sessions_refunded")),
                name="package_not_overdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.package} for {self.client}"

    @property
    def sessions_left(self) -> int:
        return self.sessions_total - self.sessions_used - self.sessions_refunded


class PackageDraw(models.Model):
    """One completed session paid for by a package instead of a billing item."""

    purchase = models.ForeignKey(PackagePurchase, on_delete=models.PROTECT, related_name="draws")
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="package_draws")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment", "client", "service"], name="draw_one_per_session"),
        ]

    def __str__(self) -> str:
        return f"Draw of {self.purchase_id} by appointment {self.appointment_id}"


class SubmissionKey(models.Model):
    """One submission of a money form (or, later, an online payment), recorded in the same
    transaction as the rows it made.

    Invariant (in the database): a key is used once per practice. A repeat of the same key
    (a double click, a retried POST, the form submitted again from the same page) creates
    nothing and is answered with the first submission's ``result_url`` and
    ``result_message``. See billing/submission.py.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    action = models.CharField(max_length=60)
    result_url = models.CharField(max_length=500, blank=True)
    result_message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "key"], name="submission_key_once_per_practice"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.key}"


class Refund(models.Model):
    """Money handed back (cash, cheque, bank transfer...) from one hand payment.

    ``amount = from_credit + sum(allocations)``: ``from_credit`` came out of the unused
    credit the payment created, each RefundAllocation out of what it paid on one invoice
    (which owes that again). In the database: amount > 0, 0 <= from_credit <= amount; the
    payment's ``refunded`` (<= its amount) is the sum of its refunds, kept under the
    payment's row lock.
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="refunds")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=14, decimal_places=3)
    from_credit = models.DecimalField(max_digits=14, decimal_places=3, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    refunded_on = models.DateField()
    method = models.CharField(max_length=16, choices=Payment.Method.choices)
    reason = models.CharField(max_length=255)
    # The processor's id of the refund (a Stripe Refund), blank for one recorded by hand:
    # unique per practice so a webhook delivered twice records one refund.
    external_id = models.CharField(max_length=255, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["refunded_on", "id"]
        # The refunds of some days (reports: the days whose Revenue figures are worked out again).
        indexes = [models.Index(fields=["practice", "refunded_on"], name="refund_practice_refunded")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(from_credit__gte=0, from_credit__lte=models.F("amount")),
                name="refund_from_credit_within_amount",
            ),
            models.CheckConstraint(condition=~models.Q(reason=""), name="refund_has_reason"),
            models.UniqueConstraint(
                fields=["practice", "external_id"],
                condition=~models.Q(external_id=""),
                name="refund_external_id_once_per_practice",
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} {self.currency} of payment {self.payment_id}"


class RefundAllocation(models.Model):
    """The part of a refund taken back from one invoice the payment had paid."""

    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="refund_allocations")
    amount = models.DecimalField(max_digits=14, decimal_places=3)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_allocation_positive"),
            models.UniqueConstraint(fields=["refund", "invoice"], name="refund_allocation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of refund {self.refund_id} from {self.invoice_id}"


class PackageRefund(models.Model):
    """Unused sessions of a package given back through one credit invoice.

    Voiding that credit invoice (allowed only while its credit is unused) undoes the
    refund: the purchase's ``sessions_refunded`` goes down by ``sessions`` in the same
    transaction, so the client gets the sessions back as they lose the credit.
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    purchase = models.ForeignKey(PackagePurchase, on_delete=models.PROTECT, related_name="refunds")
    credit_invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="package_refund")
    sessions = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(sessions__gt=0), name="package_refund_sessions_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sessions} sessions of {self.purchase_id} on {self.credit_invoice_id}"


class ReminderRule(models.Model):
    """One reminder a practice emails about an open invoice, timed from its due date
    (Settings > Invoice reminders; the timing and the placeholders are in billing.reminders).

    Invariants (in the database): ``days`` is 0 exactly for ``on_due`` and 1..365 for the
    other kinds; ``repeat_times`` is set (1..12) exactly for ``repeat``. A rule is turned
    off, never deleted, once a reminder has been sent from it (InvoiceReminder protects it).
    """

    class Kind(models.TextChoices):
        BEFORE_DUE = "before_due", "Days before the due date"
        ON_DUE = "on_due", "On the due date"
        AFTER_DUE = "after_due", "Days after the due date"
        REPEAT = "repeat", "Then repeat every few days"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="reminder_rules")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    days = models.PositiveSmallIntegerField(default=0)
    repeat_times = models.PositiveSmallIntegerField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    subject = models.CharField(max_length=200)
    message = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="on_due", days=0)
                | (~models.Q(kind="on_due") & models.Q(days__gte=1, days__lte=365)),
                name="reminder_rule_days_fit_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="repeat", repeat_times__gte=1, repeat_times__lte=12)
                | (~models.Q(kind="repeat") & models.Q(repeat_times__isnull=True)),
                name="reminder_rule_repeats_fit_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.days}) of {self.practice_id}"


class InvoiceReminder(models.Model):
    """A reminder emailed about one invoice: from a rule (its ``occurrence``-th sending,
    1 but for a repeating rule) or by hand (``rule`` empty; occurrence counts the hand
    sends of the invoice).

    Invariant (in the database): one row per (invoice, rule, occurrence), and per
    (invoice, occurrence) among the hand sends, so each reminder is sent at most once
    however often the background job or a button asks; the email's key is derived from
    this row (``invoice-reminder:<id>``).
    """

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="reminders")
    rule = models.ForeignKey(ReminderRule, null=True, blank=True, on_delete=models.PROTECT, related_name="sent")
    occurrence = models.PositiveSmallIntegerField()
    email = models.ForeignKey(
        "practice.OutgoingEmail", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.CharField(max_length=320)
    actor_label = models.CharField(max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(occurrence__gte=1), name="invoice_reminder_occurrence_positive"),
            models.UniqueConstraint(
                fields=["invoice", "rule", "occurrence"],
                condition=models.Q(rule__isnull=False),
                name="invoice_reminder_once_per_rule",
            ),
            models.UniqueConstraint(
                fields=["invoice", "occurrence"],
                condition=models.Q(rule__isnull=True),
                name="invoice_reminder_once_by_hand",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.occurrence} of {self.invoice_id}"

    @property
    def is_manual(self) -> bool:
        return self.rule_id is None


class Export(models.Model):
    """A billing documents export too big to render in a request: the PDFs of the
    invoices and credit invoices issued in a period (params), rendered by a Celery task
    (billing.documents.export.export_run) into one file under MEDIA_ROOT/exports/.

    The row is the job: the task takes its id and does what it says, so a redelivered or
    restarted task starts again from it, and a done export is never rendered again.
    ``done`` counts the documents rendered so far out of ``total`` (in the database:
    done <= total). ``file`` is set once, when the export is done.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=255, blank=True, help_text="Path under MEDIA_ROOT, once done.")
    filename = models.CharField(max_length=120, help_text="The name the download is saved as.")
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set with every batch: a running export whose progress stopped long ago was killed.
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "-created_at"], name="export_practice_recent")]
        constraints = [
            models.CheckConstraint(condition=models.Q(done__lte=models.F("total")), name="export_done_within_total"),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed"]), name="export_status_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | ~models.Q(file=""), name="export_done_has_file"
            ),
        ]

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class InvoiceCreationSetting(models.Model):
    """Settings > Invoice creation: when the background run invoices each client's
    uninvoiced items (billing.services.invoice_creation), and whether it emails the new
    invoices or leaves them as drafts. No row is the same as Off.

    Invariant (in the database): ``weekday`` (0 Monday .. 6 Sunday) is set exactly when
    the cadence is weekly."""

    class Cadence(models.TextChoices):
        OFF = "off", "Off"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly, on the 1st"

    practice = models.OneToOneField(Practice, on_delete=models.CASCADE, related_name="invoice_creation")
    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.OFF)
    weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    send_automatically = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cadence="weekly", weekday__gte=0, weekday__lte=6)
                | (~models.Q(cadence="weekly") & models.Q(weekday__isnull=True)),
                name="invoice_creation_weekday_iff_weekly",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practice_id}: {self.cadence}"
