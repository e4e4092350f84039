"""Invoice and credit invoice pages, the client Billing tab's panel and its "Create
invoice", and + New invoice.

Views parse, check access, call one service or selector, render. Who may do what:
owners, admins and billers do every billing action; a clinician may read the invoices
of their own clients (others are a 404) and do nothing else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clients.models import Client
from practice import selectors as practice_selectors
from practice.access import BILLING_ROLES, require_role
from practice.forms import apply_service_errors
from practice.models import AuditLog
from practice.types import PracticeRequest

from .. import forms, hooks, selectors, services, submission
from ..documents.content import invoice_document
from ..models import BillingItem, Invoice, Payment
from ..selectors import package_summary
from .common import _can_bill, _client, _code, _invoice, _messages_of, _money, _practice, _purl, header_money
from .payments import PAYMENT_RECORDED
from .sending import invoice_send_context

DRAFT_CREATED = "Draft invoice created. Issue it when it is ready."
INVOICE_ISSUED = "Invoice {number} issued."
INVOICE_SAVED = "Invoice saved."
DRAFT_DELETED = "Draft deleted. Its items are uninvoiced again."
INVOICE_VOIDED = "Invoice {number} voided. Its items are uninvoiced again."
INVOICE_VOIDED_NO_ITEMS = "Invoice {number} voided."
CREDIT_VOIDED = "Credit invoice {number} voided: {amount} taken off the client's credit balance."
CREDIT_VOIDED_SESSIONS = (
    "Credit invoice {number} voided: {amount} taken off the client's credit balance, and the "
    "{sessions} refunded session(s) are back on the package."
)
CREDIT_APPLIED = "Credit of {amount} applied."
CREDIT_ISSUED = "Credit invoice {number} issued: {amount} added to the client's credit balance."
PAID_BY_CREDIT = "Invoice {number} is fully paid by the client's credit: there is nothing left to pay."
CREATE_ACTIONS = ("draft", "issue", "pay")
FOREIGN_IDS = (
    "The form named a line that is not on this invoice, or an item that is not this client's. "
    "Nothing was saved: reload the invoice and try again."
)


# --- helpers ------------------------------------------------------------------------------


def _ticked_gone(data: Any, name: str, rows: list[forms.AmountRow]) -> bool:
    """Whether an item ticked on the page is no longer offered: invoiced by someone else
    since the page loaded. Creating the invoice from the rest would silently leave it out."""
    offered = {row.pk for row in rows}
    return any(raw.isdecimal() and int(raw) not in offered for raw in data.getlist(name))


def _after_create(request: PracticeRequest, invoice: Invoice, action: str) -> HttpResponse:
    """Where "Create invoice", "Create and issue" and "Create invoice & add payment" lead."""
    if invoice.status == Invoice.Status.DRAFT:
        messages.success(request, DRAFT_CREATED)
        return redirect(invoice.get_absolute_url())
    messages.success(request, INVOICE_ISSUED.format(number=invoice.number))
    if action == "pay":
        if invoice.can_take_payment():
            return _to_payment_form(request, invoice)
        messages.info(request, PAID_BY_CREDIT.format(number=invoice.number))
    return redirect(invoice.get_absolute_url())


def _to_payment_form(request: PracticeRequest, invoice: Invoice) -> HttpResponse:
    return HttpResponseRedirect(f"{_purl(request, 'billing:payment_new')}?{urlencode({'invoice': invoice.pk})}")


# --- the client Billing tab ----------------------------------------------------------------


def client_billing_context(
    request: PracticeRequest,
    client: Client,
    *,
    data: Any = None,
    rows: list[forms.AmountRow] | None = None,
    errors: list[str] | None = None,
) -> dict[str, Any]:
    """What templates/billing/_client_billing.html needs, under the one key ``billing``:
    the header figures, the Uninvoiced amounts panel (with posted values and errors when
    re-shown after bad input), and the client's invoices and payments."""
    practice = _practice(request)
    figures = selectors.client_billing_figures(practice, client)
    if rows is None:
        rows = forms.uninvoiced_rows(
            list(selectors.client_uninvoiced_items(practice, client)), data, locale=practice.locale
        )
    summary = package_summary(practice, client, count=figures.packages)
    page = request.GET.get
    payments = selectors.client_payments_page(practice, client, page("payments_page"), count=figures.payments)
    return {
        # The record's header shows these same balances: no second read.
        "header_money": header_money(practice, figures.balance, figures.credit_balance, figures.overdue),
        "billing": {
            "can_bill": _can_bill(request),
            "balance": figures.balance,
            "credit_balance": figures.credit_balance,
            "packages": summary.in_use(),
            "package_summary": summary,
            "rows": rows,
            # Every uninvoiced item is a row: their sum is the uninvoiced total.
            "uninvoiced_total": sum((row.obj.amount for row in rows), start=Decimal("0")),
            "apply_credit": bool(data is not None and data.get("apply_credit")),
            "errors": errors or [],
            # Paginated, so the rows always add up to the header (no silent cut at 50); the
            # page counts come with the balances in one query.
            "invoices": selectors.client_invoices_page(practice, client, page("invoices_page"), count=figures.invoices),
            "payments": payments,
            # Each payment with what the processor says of it (online payments), in one call.
            "payment_rows": hooks.payment_rows(practice, list(payments.object_list)),
            "history": selectors.client_account_history(practice, client, page("history_page"), count=figures.entries),
            # What apps above billing add to the tab (payments: saved cards).
            "panels": hooks.client_billing_panels_for(request, client),
        },
    }


def _render_client_billing(
    request: PracticeRequest, client: Client, rows: list[forms.AmountRow], errors: list[str]
) -> HttpResponse:
    # The client record's own renderer, so the tab looks exactly as it does on GET (and the
    # view of the record is audited the same way).
    from clients.views import _render_record

    context = client_billing_context(request, client, data=request.POST, rows=rows, errors=errors)
    context["uninvoiced_total"] = context["billing"]["uninvoiced_total"]
    return _render_record(request, client, "billing", "clients/detail_billing.html", context, status=400)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.created", back="clients:billing")
def client_create_invoice(request: PracticeRequest, client_id: int) -> HttpResponse:
    """The Uninvoiced amounts panel: the ticked items, as adjusted, onto one invoice."""
    practice = _practice(request)
    client = _client(request, client_id)
    items = list(selectors.client_uninvoiced_items(practice, client))
    rows = forms.uninvoiced_rows(items, request.POST, locale=practice.locale)
    action = request.POST.get("action", "draft")
    if action not in CREATE_ACTIONS:
        action = "draft"
    if _ticked_gone(request.POST, "item", rows):
        messages.error(request, services.ITEMS_TAKEN)
        return redirect("clients:billing", practice_slug=practice.slug, client_id=client.pk)
    adjustments = forms.parse_amount_rows(rows, practice.currency, practice.locale)
    chosen = [row.pk for row in rows if row.checked]
    if any(row.errors for row in rows):
        return _render_client_billing(request, client, rows, ["Correct the amounts marked below."])
    if not chosen:
        return _render_client_billing(request, client, rows, [services.NOTHING_TO_INVOICE])
    try:
        invoice = services.invoice_create(
            practice=practice,
            client=client,
            actor=request.user,
            item_ids=chosen,
            adjustments=adjustments,
            apply_credit=bool(request.POST.get("apply_credit")),
            issue=action in ("issue", "pay"),
        )
    except ValidationError as exc:
        if _code(exc) == "items_taken":
            messages.error(request, services.ITEMS_TAKEN)
            return redirect("clients:billing", practice_slug=practice.slug, client_id=client.pk)
        return _render_client_billing(request, client, rows, _messages_of(exc))
    return _after_create(request, invoice, action)


# --- + New invoice -------------------------------------------------------------------------


@require_role(*BILLING_ROLES)
@submission.once("invoice.created")
def invoice_new(request: PracticeRequest) -> HttpResponse:
    """Choose a client, tick their uninvoiced items, add free lines."""
    practice = _practice(request)
    data = request.POST if request.method == "POST" else None
    initial = {}
    if data is None and request.GET.get("client"):
        initial["client"] = request.GET["client"]
    client_form = forms.InvoiceClientForm(data, practice=practice, initial=initial)
    lines = forms.line_formset(practice, data)
    errors: list[str] = []
    client = None
    raw_client = data.get("client") if data is not None else initial.get("client")
    if raw_client:
        client = (
            selectors.clients_for_invoicing(practice).filter(pk=raw_client).first() if raw_client.isdecimal() else None
        )
    items = list(selectors.client_uninvoiced_items(practice, client)) if client else []
    rows = forms.uninvoiced_rows(items, data, locale=practice.locale, ticked=True)
    if data is not None and forms.wants_another_line(data):
        lines = forms.line_formset_one_more(practice, data)
        client_form = forms.InvoiceClientForm(practice=practice, initial={"client": data.get("client", "")})
        context = {"client_form": client_form, "lines": lines, "rows": rows, "client": client, "adding_line": True}
        return render(request, "billing/invoice_new.html", context)
    if data is not None:
        action = data.get("action", "draft")
        if action not in CREATE_ACTIONS:
            action = "draft"
        adjustments = forms.parse_amount_rows(rows, practice.currency, practice.locale)
        client_ok, lines_ok = client_form.is_valid(), lines.is_valid()
        if client and _ticked_gone(data, "item", rows):
            errors = [services.ITEMS_TAKEN]
        elif client_ok and lines_ok and not any(row.errors for row in rows):
            chosen = [row.pk for row in rows if row.checked]
            try:
                invoice = services.invoice_create(
                    practice=practice,
                    client=client_form.cleaned_data["client"],
                    actor=request.user,
                    item_ids=chosen,
                    adjustments=adjustments,
                    lines=forms.formset_lines(lines),
                    issue=action in ("issue", "pay"),
                )
            except ValidationError as exc:
                errors = _messages_of(exc)
            else:
                return _after_create(request, invoice, action)
    context = {"client_form": client_form, "lines": lines, "rows": rows, "client": client, "errors": errors}
    return render(request, "billing/invoice_new.html", context, status=400 if data is not None else 200)


@require_GET
@require_role(*BILLING_ROLES)
def invoice_new_items(request: PracticeRequest) -> HttpResponse:
    """The item picker of + New invoice for the chosen client (htmx swap on change)."""
    practice = _practice(request)
    raw = request.GET.get("client", "")
    client = selectors.clients_for_invoicing(practice).filter(pk=raw).first() if raw.isdecimal() else None
    items = list(selectors.client_uninvoiced_items(practice, client)) if client else []
    return render(
        request,
        "billing/_item_picker.html",
        {"rows": forms.uninvoiced_rows(items, locale=practice.locale, ticked=True), "client": client},
    )


# --- the invoice page and its actions ----------------------------------------------------------


def _invoice_context(request: PracticeRequest, invoice: Invoice, **extra: Any) -> dict[str, Any]:
    practice = _practice(request)
    account = selectors.client_account(practice, invoice.client) if _can_bill(request) else None
    today = practice.local_today()
    context = {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "allocations": [a for a in invoice.allocations.all() if a.payment.status != Payment.Status.REVERSED],
        "can_bill": _can_bill(request),
        "credit_balance": account.credit_balance if account else Decimal("0"),
        "void_form": forms.ReasonForm(),
        "mark_paid_form": forms.MarkPaidForm(initial={"received_on": today}, practice=practice),
        "void_paid_message": services.VOID_PAID,
        "write_off_form": forms.WriteOffForm(),
        **invoice_send_context(request, invoice),
        # Invoice reminders (views/reminders.py sends one by hand).
        "reminders_sent": selectors.invoice_reminders_sent(invoice),
        "reminder_to": selectors.reminder_recipient(invoice),
        # Print shows the same document as the PDF (its logo, theme colour, layout, payment
        # instructions and footer) instead of the page around it.
        "document": invoice_document(invoice, practice_selectors.invoice_template_for(practice)),
        # What apps above billing offer here (payments: Take payment, Pay now with a saved card,
        # a card payment held for review).
        "invoice_panels": hooks.invoice_panels_for(request, invoice) if _can_bill(request) else [],
        "invoice_notices": hooks.invoice_notices_for(request, invoice) if _can_bill(request) else [],
    }
    context.update(extra)
    return context


def invoice_page(request: PracticeRequest, invoice: Invoice, *, status: int = 200, **extra: Any) -> HttpResponse:
    """The invoice page (after a refused action too, with ``extra`` in its context)."""
    context = _invoice_context(request, invoice, **extra)
    response = render(request, "billing/invoice_detail.html", context, status=status)
    # A panel's form may lead to a hosted payment page (Take payment): the browser checks
    # form-action against every hop of the redirect.
    if origins := hooks.form_origins_of(context["invoice_panels"]):
        response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
    return response


def invoice_detail(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    return invoice_page(request, invoice)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.issued", back="billing:invoice")
def invoice_issue(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    try:
        invoice = _invoice(request, invoice_id)
    except Http404:
        if gone := _draft_gone(request, invoice_id):
            return gone
        raise
    try:
        invoice = services.invoice_issue(invoice=invoice, actor=request.user)
    except ValidationError as exc:
        if stale := _as_it_is_now(request, invoice.pk, Invoice.Status.DRAFT):
            return stale
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, INVOICE_ISSUED.format(number=invoice.number))
    return redirect(invoice.get_absolute_url())


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.draft_deleted", back="billing:invoice")
def invoice_delete(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    try:
        invoice = _invoice(request, invoice_id)
    except Http404:
        if gone := _draft_gone(request, invoice_id):
            return gone
        raise
    try:
        services.invoice_delete_draft(invoice=invoice, actor=request.user)
    except ValidationError as exc:
        if stale := _as_it_is_now(request, invoice.pk, Invoice.Status.DRAFT):
            return stale
        for message in _messages_of(exc):
            messages.error(request, message)
        return redirect(invoice.get_absolute_url())
    messages.success(request, DRAFT_DELETED)
    return redirect("clients:billing", practice_slug=_practice(request).slug, client_id=invoice.client_id)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.voided", back="billing:invoice")
def invoice_void(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            invoice = services.invoice_void(
                invoice=invoice,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            if stale := _void_refused_now(request, invoice.pk):
                return stale
            apply_service_errors(form, exc)
        else:
            messages.success(request, _voided_message(request, invoice))
            return redirect(invoice.get_absolute_url())
    return invoice_page(request, invoice, status=400, void_form=form)


def _voided_message(request: PracticeRequest, invoice: Invoice) -> str:
    """What a void did, in words: only an invoice that carried billing items gives them back."""
    if invoice.is_credit:
        amount = _money(request, -invoice.total)
        sessions = selectors.package_refund_sessions(invoice)
        if sessions:
            return CREDIT_VOIDED_SESSIONS.format(number=invoice.number, amount=amount, sessions=sessions)
        return CREDIT_VOIDED.format(number=invoice.number, amount=amount)
    if selectors.invoice_has_billing_items(invoice):
        return INVOICE_VOIDED.format(number=invoice.number)
    return INVOICE_VOIDED_NO_ITEMS.format(number=invoice.number)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("credit.applied", back="billing:invoice")
def invoice_apply_credit(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    before = invoice.credit_applied
    try:
        invoice = services.credit_apply(invoice=invoice, actor=request.user)
    except ValidationError as exc:
        if stale := _as_it_is_now(request, invoice.pk, Invoice.Status.OPEN):
            return stale
        for message in _messages_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, CREDIT_APPLIED.format(amount=_money(request, invoice.credit_applied - before)))
    return redirect(invoice.get_absolute_url())


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.marked_paid", back="billing:invoice")
def invoice_mark_paid(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    form = forms.MarkPaidForm(request.POST, practice=_practice(request))
    if form.is_valid():
        try:
            result = services.invoice_mark_paid(
                invoice=invoice,
                actor=request.user,
                method=form.cleaned_data["method"],
                received_on=form.cleaned_data["received_on"],
            )
        except ValidationError as exc:
            if stale := _as_it_is_now(request, invoice.pk, Invoice.Status.OPEN):
                return stale
            apply_service_errors(form, exc)
        else:
            messages.success(request, PAYMENT_RECORDED.format(amount=_money(request, result.payment.amount)))
            return redirect(invoice.get_absolute_url())
    return invoice_page(request, invoice, status=400, mark_paid_form=form)


@require_role(*BILLING_ROLES)
@submission.once("invoice.edited")
def invoice_edit(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    """A draft freely; an open invoice without payments (the service audits what changed)."""
    practice = _practice(request)
    try:
        invoice = _invoice(request, invoice_id)
    except Http404:
        if gone := _draft_gone(request, invoice_id):
            return gone
        raise
    if not invoice.can_edit():
        return _not_editable(request, invoice)
    data = request.POST if request.method == "POST" else None
    line_rows = forms.invoice_line_rows(invoice, data, locale=practice.locale)
    items = [] if invoice.is_credit else list(selectors.client_uninvoiced_items(practice, invoice.client))
    item_rows = forms.uninvoiced_rows(items, data, name="add_item", locale=practice.locale)
    lines = forms.line_formset(practice, data)
    errors: list[str] = []
    if data is not None and _names_foreign_ids(data, invoice=invoice, line_rows=line_rows):
        context = {"invoice": invoice, "line_rows": line_rows, "item_rows": item_rows, "lines": lines}
        return render(request, "billing/invoice_edit.html", {**context, "errors": [FOREIGN_IDS]}, status=400)
    if data is not None and _ticked_gone(data, "add_item", item_rows):
        messages.error(request, services.ITEMS_TAKEN)
        return redirect("billing:invoice_edit", practice_slug=practice.slug, invoice_id=invoice.pk)
    if data is not None and forms.wants_another_line(data):
        lines = forms.line_formset_one_more(practice, data)
        context = {"invoice": invoice, "line_rows": line_rows, "item_rows": item_rows, "lines": lines}
        return render(request, "billing/invoice_edit.html", {**context, "adding_line": True})
    if data is not None:
        changes = forms.parse_amount_rows(line_rows, practice.currency, practice.locale)
        lines_ok = lines.is_valid()
        if lines_ok and not any(row.errors for row in line_rows):
            try:
                services.invoice_update(
                    invoice=invoice,
                    actor=request.user,
                    line_changes=changes,
                    remove_line_ids=[row.pk for row in line_rows if not row.checked],
                    add_item_ids=[row.pk for row in item_rows if row.checked],
                    add_lines=forms.formset_lines(lines),
                )
            except ValidationError as exc:
                if _code(exc) == "items_taken":
                    messages.error(request, services.ITEMS_TAKEN)
                    return redirect("billing:invoice_edit", practice_slug=practice.slug, invoice_id=invoice.pk)
                if _code(exc) == "gone" and (gone := _draft_gone(request, invoice.pk)):
                    return gone
                if services.NOT_EDITABLE in _messages_of(exc):
                    # Paid, voided or given a payment since the page was loaded.
                    return _not_editable(request, _invoice(request, invoice.pk))
                errors = _messages_of(exc)
            else:
                messages.success(request, INVOICE_SAVED)
                return redirect(invoice.get_absolute_url())
        else:
            errors = ["Correct the fields marked below. Nothing was saved."]
    context = {"invoice": invoice, "line_rows": line_rows, "item_rows": item_rows, "lines": lines, "errors": errors}
    return render(request, "billing/invoice_edit.html", context, status=400 if data is not None else 200)


# --- credit invoices -------------------------------------------------------------------------


@require_role(*BILLING_ROLES)
@submission.once("credit_invoice.created")
def credit_new(request: PracticeRequest, client_id: int) -> HttpResponse:
    """+ Create credit invoice: lines entered as positive amounts and a reason; issued at once."""
    practice = _practice(request)
    client = _client(request, client_id)
    data = request.POST if request.method == "POST" else None
    form = forms.CreditForm(data)
    lines = forms.line_formset(practice, data)
    errors: list[str] = []
    if data is not None and forms.wants_another_line(data):
        # Shown again to fill in, not checked: the reason keeps what was typed, without an error.
        form = forms.CreditForm(initial={"reason": data.get("reason", "")})
        lines = forms.line_formset_one_more(practice, data)
        context = {"client": client, "form": form, "lines": lines, "adding_line": True}
        return render(request, "billing/credit_new.html", context)
    if data is not None:
        form_ok, lines_ok = form.is_valid(), lines.is_valid()
        if form_ok and lines_ok:
            try:
                credit = services.credit_invoice_create(
                    practice=practice,
                    client=client,
                    actor=request.user,
                    lines=forms.formset_lines(lines),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    apply_service_errors(form, exc)
                else:
                    errors = _messages_of(exc)
            else:
                messages.success(
                    request, CREDIT_ISSUED.format(number=credit.number, amount=_money(request, -credit.total))
                )
                return redirect(credit.get_absolute_url())
    context = {"client": client, "form": form, "lines": lines, "errors": errors}
    return render(request, "billing/credit_new.html", context, status=400 if data is not None else 200)


def _names_foreign_ids(data: Any, *, invoice: Invoice, line_rows: list[forms.AmountRow]) -> bool:
    """Whether an invoice edit POST names a line of another invoice or an item that is not
    this client's. The rows of the page are built from this invoice alone, so such an id
    would otherwise be dropped without a word; a tampered or crossed form is refused."""

    def posted(name: str) -> set[int]:
        return {int(raw) for raw in data.getlist(name) if raw.isdecimal()}

    line_ids = {row.pk for row in line_rows}
    item_ids = posted("add_item")
    figure_ids = {
        int(key.split("_", 1)[1])
        for key in data
        if key.startswith(("units_", "price_", "tax_")) and key.split("_", 1)[1].isdecimal()
    }
    if posted("remove") - line_ids:
        return True
    wanted = (item_ids | figure_ids) - line_ids
    if not wanted:
        return False
    # Items of this client, invoiced or not: one invoiced meanwhile is the ITEMS_TAKEN case.
    clients_items = set(
        BillingItem.objects.filter(practice=invoice.practice, client=invoice.client, pk__in=wanted).values_list(
            "pk", flat=True
        )
    )
    return bool(wanted - clients_items)


# --- a page older than the invoice ----------------------------------------------------------
# A second Mark as paid, a Void from a tab opened before the invoice was paid elsewhere, an
# Issue of a draft deleted in another tab: the action is refused by the service, and the
# answer is the invoice as it is now with what happened at the top, never a bare error.

INVOICE_ALREADY_PAID = "This invoice was already paid."
INVOICE_ALREADY_VOIDED = "This invoice was already voided."
INVOICE_ALREADY_ISSUED = "This invoice was already issued."
INVOICE_STILL_DRAFT = "This invoice is still a draft. Issue it first."
DRAFT_ALREADY_DELETED = "This draft was already deleted."

_STATUS_NOW: dict[str, str] = {
    Invoice.Status.DRAFT: INVOICE_STILL_DRAFT,
    Invoice.Status.OPEN: INVOICE_ALREADY_ISSUED,
    Invoice.Status.PAID: INVOICE_ALREADY_PAID,
    Invoice.Status.VOID: INVOICE_ALREADY_VOIDED,
}


def _as_it_is_now(request: PracticeRequest, invoice_id: int, *allowed: str) -> HttpResponse | None:
    """After a refusal: when the invoice (read again) is no longer in a status the action
    needs, its page as it is now (409) with the move that happened, else None."""
    try:
        invoice = _invoice(request, invoice_id)
    except Http404:
        if gone := _draft_gone(request, invoice_id):
            return gone
        raise
    if invoice.status in allowed:
        return None
    messages.warning(request, _STATUS_NOW[invoice.status])
    return invoice_page(request, invoice, status=409)


def _draft_gone(request: PracticeRequest, invoice_id: int) -> HttpResponse | None:
    """A draft deleted meanwhile (its audit row says so): to the client's Billing tab with
    the message, else None (a missing or foreign id stays a 404)."""
    row = (
        AuditLog.objects.filter(
            practice=_practice(request),
            action="invoice.draft_deleted",
            object_type=Invoice._meta.label,
            object_id=str(invoice_id),
        )
        .only("changes")
        .first()
    )
    if row is None:
        return None
    messages.warning(request, DRAFT_ALREADY_DELETED)
    client_id = row.changes.get("client")
    if isinstance(client_id, int) and Client.objects.filter(practice=_practice(request), pk=client_id).exists():
        return redirect("clients:billing", practice_slug=_practice(request).slug, client_id=client_id)
    return redirect("billing:invoices", practice_slug=_practice(request).slug)


def _void_refused_now(request: PracticeRequest, invoice_id: int) -> HttpResponse | None:
    """Void refused: voided, still a draft, or paid (in part) since the page was loaded."""
    invoice = _invoice(request, invoice_id)
    if invoice.status in (Invoice.Status.VOID, Invoice.Status.DRAFT):
        return _as_it_is_now(request, invoice_id, Invoice.Status.OPEN, Invoice.Status.PAID)
    if invoice.amount_paid > 0:
        if invoice.status == Invoice.Status.PAID:
            messages.warning(request, INVOICE_ALREADY_PAID)
        messages.error(request, services.VOID_PAID)
        return invoice_page(request, invoice, status=409)
    return None


def _not_editable(request: PracticeRequest, invoice: Invoice) -> HttpResponse:
    """Edit of an invoice that can no longer be edited: to its page, saying why."""
    if invoice.status in (Invoice.Status.PAID, Invoice.Status.VOID):
        messages.warning(request, _STATUS_NOW[invoice.status])
    if invoice.status != Invoice.Status.VOID:
        messages.error(request, services.NOT_EDITABLE)
    return redirect(invoice.get_absolute_url())
