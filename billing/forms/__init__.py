"""Billing's forms, one module per page (invoices, payments, home, packages, settings,
appointments) and the number fields they share (numbers). They parse input and give
field errors through the rules of billing.inputs; the services check again and decide.
The invoice and payment forms' names are re-exported here, so views write
``forms.<name>``."""

from .invoices import (
    DESCRIBE_LINE,
    AmountRow,
    BillClientForm,
    CreditForm,
    InvoiceClientForm,
    LineForm,
    LineFormSet,
    ReasonForm,
    WriteOffForm,
    amount_rows,
    check_price,
    check_tax,
    check_units,
    formset_lines,
    invoice_line_rows,
    line_formset,
    parse_amount_rows,
    selected_ids,
    uninvoiced_rows,
)
from .numbers import PlainDecimalField, plain, read_decimal
from .payments import (
    MANUAL_METHODS,
    REFUND_METHOD_CHOICES,
    MarkPaidForm,
    PaymentDateMixin,
    PaymentForm,
    RefundForm,
)

__all__ = [
    "DESCRIBE_LINE",
    "MANUAL_METHODS",
    "REFUND_METHOD_CHOICES",
    "AmountRow",
    "BillClientForm",
    "CreditForm",
    "InvoiceClientForm",
    "LineForm",
    "LineFormSet",
    "MarkPaidForm",
    "PaymentDateMixin",
    "PaymentForm",
    "PlainDecimalField",
    "ReasonForm",
    "RefundForm",
    "WriteOffForm",
    "amount_rows",
    "check_price",
    "check_tax",
    "check_units",
    "formset_lines",
    "invoice_line_rows",
    "line_formset",
    "parse_amount_rows",
    "plain",
    "read_decimal",
    "selected_ids",
    "uninvoiced_rows",
]
