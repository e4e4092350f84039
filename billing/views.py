"""Invoice, payment and credit pages. Views parse, call a selector or a service, render."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise Http404


invoice_new = invoice_new_items = invoice_detail = invoice_edit = invoice_issue = invoice_delete = _todo
invoice_void = invoice_apply_credit = invoice_mark_paid = payment_new = payment_detail = payment_delete = _todo
credit_new = client_create_invoice = appointment_create_invoice = _todo
