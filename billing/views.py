"""Invoice, credit invoice and hand-payment pages, the client Billing tab's panel and the
"Create invoice" targets of the client record and the calendar.

Views parse, check access, call one service or selector, render. Who may do what:
owners, admins and billers do every billing action; a clinician may read the invoices
and payments of their own clients (others are a 404) and do nothing else; deleting a
payment is for owners and admins only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clients import selectors as client_selectors
from clients.models import Client
from practice.access import BILLING_ROLES, OWNER_OR_ADMIN, require_role
from practice.forms import apply_service_errors
from practice.models import AuditLog, Membership, Practice
from practice.money import practice_money
from practice.numbers import number_signs
from practice.types import PracticeRequest

from . import forms, selectors, services, submission
from .models import BillingItem, Invoice, Payment
from .money import minor_units
from .selectors import package_summary

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
PAYMENT_RECORDED = "Payment of {amount} recorded."
ALLOCATION_CHECK = (
    "{number} owes {owed}: the rest of this payment goes to the other open invoices as shown below. "
    "Check the allocation, then add the payment."
)
PAYMENT_DELETED = "Payment deleted. The invoices it paid owe that amount again."
CREDIT_ISSUED = "Credit invoice {number} issued: {amount} added to the client's credit balance."
PAID_BY_CREDIT = "Invoice {number} is fully paid by the client's credit: there is nothing left to pay."
NOTHING_ON_APPOINTMENT = (
    "Nothing to invoice for this appointment: its items are already invoiced, or it has none yet "
    "(mark it completed or use Generate items)."
)
INVOICES_FROM_APPOINTMENT = "Issued {count} invoices: {numbers}."
CREATE_ACTIONS = ("draft", "issue", "pay")
FOREIGN_IDS = (
    "The form named a line that is not on this invoice, or an item that is not this client's. "
    "Nothing was saved: reload the invoice and try again."
)


# --- helpers ------------------------------------------------------------------------------


def _practice(request: PracticeRequest) -> Practice:
    return request.practice


def _membership(request: PracticeRequest) -> Membership:
    return request.membership


def _can_bill(request: PracticeRequest) -> bool:
    return _membership(request).role in BILLING_ROLES


def _money(request: PracticeRequest, amount: Decimal) -> str:
    practice = _practice(request)
    return practice_money(practice, amount)


def _purl(request: PracticeRequest, name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"practice_slug": _practice(request).slug, **kwargs})


def _invoice(request: PracticeRequest, invoice_id: int) -> Invoice:
    return selectors.invoice_get_for_practice(_practice(request), _membership(request), invoice_id)


def _client(request: PracticeRequest, client_id: int | str) -> Client:
    try:
        pk = int(client_id)
    except (TypeError, ValueError):
        raise Http404("No such client.") from None
    return client_selectors.client_get_for_practice(_practice(request), _membership(request), pk)


def _messages_of(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _code(exc: ValidationError) -> str | None:
    return getattr(exc, "code", None)


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
        if invoice.status == Invoice.Status.OPEN and invoice.balance > 0:
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
    account = selectors.client_account(practice, client)
    if rows is None:
        rows = forms.uninvoiced_rows(
            list(selectors.client_uninvoiced_items(practice, client)), data, locale=practice.locale
        )
    credit = account.credit_balance if account else Decimal("0")
    return {
        "billing": {
            "can_bill": _can_bill(request),
            "balance": account.balance if account else Decimal("0"),
            "credit_balance": credit,
            "packages": selectors.client_packages(practice, client),
            "package_summary": package_summary(practice, client),
            "rows": rows,
            "uninvoiced_total": selectors.uninvoiced_total(practice, client=client),
            "apply_credit": bool(data is not None and data.get("apply_credit")),
            "errors": errors or [],
            # Paginated, so the rows always add up to the header (no silent cut at 50).
            "invoices": selectors.client_invoices_page(practice, client, request.GET.get("invoices_page")),
            "payments": selectors.client_payments_page(practice, client, request.GET.get("payments_page")),
            "history": selectors.client_account_history(practice, client, request.GET.get("history_page")),
        }
    }


def _render_client_billing(
    request: PracticeRequest, client: Client, rows: list[forms.AmountRow], errors: list[str]
) -> HttpResponse:
    # The client record's own renderer, so the tab looks exactly as it does on GET (and the
    # view of the record is audited the same way).
    from clients.views import _render_record

    practice = _practice(request)
    context = {
        "items": selectors.client_uninvoiced_items(practice, client),
        "uninvoiced_total": selectors.uninvoiced_total(practice, client=client),
        **client_billing_context(request, client, data=request.POST, rows=rows, errors=errors),
    }
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
    rows = forms.uninvoiced_rows(items, data, locale=practice.locale)
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
        {"rows": forms.uninvoiced_rows(items, locale=practice.locale), "client": client},
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
    }
    context.update(extra)
    return context


def invoice_detail(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    return render(request, "billing/invoice_detail.html", _invoice_context(request, invoice))


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
    return render(
        request, "billing/invoice_detail.html", _invoice_context(request, invoice, void_form=form), status=400
    )


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
    return render(
        request, "billing/invoice_detail.html", _invoice_context(request, invoice, mark_paid_form=form), status=400
    )


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


# --- payments ----------------------------------------------------------------------------------


@require_role(*BILLING_ROLES)
@submission.once("payment.recorded")
def payment_new(request: PracticeRequest) -> HttpResponse:
    """Add payment, for an invoice (?invoice=) or a client (?client=): amount, date, method,
    reference and its allocation to the client's open invoices, oldest first by default.
    More than the invoices owe is a question ("Keep as credit"), not an error."""
    practice = _practice(request)
    invoice = None
    raw_invoice = request.GET.get("invoice", "")
    if raw_invoice:
        if not raw_invoice.isdecimal():
            raise Http404("No such invoice.")
        invoice = _invoice(request, int(raw_invoice))
        client = invoice.client
        # A draft, paid, void or credit invoice takes no payment: say so, record nothing
        # (never quietly book the money on another invoice).
        if refusal := services.payment_refusal(invoice):
            messages.error(request, refusal)
            return redirect(invoice.get_absolute_url())
    elif "client" not in request.GET:
        # From the Billing page: choose the client first.
        return redirect("billing:payment_client_pick", practice_slug=practice.slug)
    else:
        client = _client(request, request.GET.get("client", ""))
    # The invoice the form was opened from comes first; the rest oldest first.
    open_invoices = services.allocation_order(selectors.client_open_invoices(practice, client), invoice)
    today = practice.local_today()
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {"received_on": today}
    if invoice is not None and invoice in open_invoices:
        initial["amount"] = forms.plain(invoice.balance, practice.locale)
        initial[f"alloc_{invoice.pk}"] = forms.plain(invoice.balance, practice.locale)
    form = forms.PaymentForm(
        data,
        initial=initial,
        open_invoices=open_invoices,
        currency=practice.currency,
        locale=practice.locale,
        practice=practice,
    )
    question = None
    notice = None
    if data is not None and form.is_valid() and invoice is not None and form.cleaned_data["allocations"] is None:
        # No allocation typed: if the money would not all go to this invoice, show where it
        # goes (the inputs filled in) before anything is saved.
        plan = services.default_allocation(open_invoices, form.cleaned_data["amount"])
        if set(plan) - {invoice.pk}:
            shown = data.copy()
            for invoice_id, share in plan.items():
                shown[f"alloc_{invoice_id}"] = forms.plain(share)
            form = forms.PaymentForm(shown, open_invoices=open_invoices, currency=practice.currency)
            form.is_valid()
            notice = ALLOCATION_CHECK.format(number=invoice.number, owed=_money(request, invoice.balance))
    if data is not None and notice is None and form.is_valid():
        try:
            result = services.payment_record_manual(
                practice=practice,
                client=client,
                actor=request.user,
                amount=form.cleaned_data["amount"],
                received_on=form.cleaned_data["received_on"],
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
                allocations=form.cleaned_data["allocations"],
                overpayment_to_credit=form.cleaned_data["overpayment_to_credit"],
                for_invoice=invoice,
            )
        except ValidationError as exc:
            if _code(exc) == "overpayment":
                question = services.OVERPAYMENT_QUESTION
            elif _code(exc) == "takes_no_payments" and invoice is not None:
                # Paid or voided in another tab since the form was shown.
                messages.error(request, exc.messages[0])
                return redirect(invoice.get_absolute_url())
            else:
                apply_service_errors(form, exc)
        else:
            messages.success(request, PAYMENT_RECORDED.format(amount=_money(request, result.payment.amount)))
            if invoice is not None:
                return redirect(invoice.get_absolute_url())
            return redirect("clients:billing", practice_slug=practice.slug, client_id=client.pk)
    context = {
        "form": form,
        "client": client,
        "invoice": invoice,
        "open_invoices": open_invoices,
        "question": question,
        "notice": notice,
        "query": request.GET.urlencode(),
        "owed": sum((i.balance for i in open_invoices), Decimal("0")),
        "places": minor_units(practice.currency),
        "number_signs": number_signs(practice.locale),
    }
    status = 200 if data is None or question or notice else 400
    return render(request, "billing/payment_form.html", context, status=status)


@require_GET
@require_role(*BILLING_ROLES)
def payment_client_pick(request: PracticeRequest) -> HttpResponse:
    """Add payment from the Billing page: find the client first (type-ahead with htmx, or
    the plain search form without JavaScript), then their Add payment form."""
    q = request.GET.get("q", "")[:100]
    clients = client_selectors.client_search(_practice(request), _membership(request), q)
    context = {"q": q, "clients": clients, "searched": bool(q.strip()), "can_bill": True}
    return render(request, "billing/payment_client_pick.html", context)


@require_GET
def client_search(request: PracticeRequest) -> HttpResponse:
    """The client picker's results (an htmx partial): clients of this practice the viewer
    may see (a clinician only their own), at most CLIENT_SEARCH_LIMIT of them."""
    q = request.GET.get("q", "")[:100]
    clients = client_selectors.client_search(_practice(request), _membership(request), q)
    context = {"q": q, "clients": clients, "searched": bool(q.strip()), "can_bill": _can_bill(request)}
    return render(request, "billing/_client_search_results.html", context)


def _payment_context(request: PracticeRequest, payment: Payment, **extra: Any) -> dict[str, Any]:
    context = {
        "payment": payment,
        "allocations": list(payment.allocations.all()),
        "can_delete": (
            _membership(request).role in OWNER_OR_ADMIN
            and payment.status == Payment.Status.SUCCEEDED
            and payment.refunded == 0
            and payment.method not in (Payment.Method.CARD_ONLINE, Payment.Method.CARD_ON_FILE)
        ),
        "delete_form": forms.ReasonForm(),
        "can_refund": _can_bill(request) and payment.can_refund(),
        "refunds": list(payment.refunds.select_related("created_by").prefetch_related("allocations__invoice")),
    }
    context.update(extra)
    return context


def payment_detail(request: PracticeRequest, payment_id: int) -> HttpResponse:
    payment = selectors.payment_get_for_practice(_practice(request), _membership(request), payment_id)
    return render(request, "billing/payment_detail.html", _payment_context(request, payment))


@require_POST
@require_role(*OWNER_OR_ADMIN)
@submission.once("payment.reversed", back="billing:payment")
def payment_delete(request: PracticeRequest, payment_id: int) -> HttpResponse:
    """Delete a hand payment: a reversing ledger entry, with a reason. Owners and admins only."""
    payment = selectors.payment_get_for_practice(_practice(request), _membership(request), payment_id)
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.payment_reverse(
                payment=payment,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            if services.PAYMENT_ALREADY_REVERSED in _messages_of(exc):
                # Deleted in another tab: the page as it is now, the message on top.
                messages.warning(request, services.PAYMENT_ALREADY_REVERSED)
                payment.refresh_from_db()
                return render(request, "billing/payment_detail.html", _payment_context(request, payment), status=409)
            apply_service_errors(form, exc)
        else:
            messages.success(request, PAYMENT_DELETED)
            return redirect("billing:payment", practice_slug=_practice(request).slug, payment_id=payment.pk)
    return render(
        request, "billing/payment_detail.html", _payment_context(request, payment, delete_form=form), status=400
    )


# --- from the calendar -------------------------------------------------------------------------


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.created", back="appointments:detail")
def appointment_create_invoice(request: PracticeRequest, appointment_id: int) -> HttpResponse:
    """Calendar → appointment → Create invoice (or & add payment): one issued invoice per
    attendee with uninvoiced items of this appointment."""
    practice = _practice(request)
    appointment = selectors.appointment_get_for_practice(practice, appointment_id)
    back = redirect("appointments:detail", practice_slug=practice.slug, appointment_id=appointment.pk)
    grouped = selectors.appointment_uninvoiced_by_client(practice, appointment)
    if not grouped:
        messages.error(request, NOTHING_ON_APPOINTMENT)
        return back
    clients = {c.pk: c for c in Client.objects.filter(practice=practice, pk__in=grouped.keys()).select_related("payer")}
    created: list[Invoice] = []
    for client_id, item_ids in grouped.items():
        try:
            created.append(
                services.invoice_create(
                    practice=practice,
                    client=clients[client_id],
                    actor=request.user,
                    item_ids=item_ids,
                    issue=True,
                )
            )
        except ValidationError as exc:
            for message in _messages_of(exc):
                messages.error(request, message)
    if not created:
        return back
    action = "pay" if request.POST.get("action") == "pay" else "issue"
    if len(created) == 1:
        return _after_create(request, created[0], action)
    messages.success(
        request,
        INVOICES_FROM_APPOINTMENT.format(count=len(created), numbers=", ".join(i.number or "" for i in created)),
    )
    if action == "pay":
        unpaid = [i for i in created if i.status == Invoice.Status.OPEN and i.balance > 0]
        if unpaid:
            return _to_payment_form(request, unpaid[0])
    return back


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
    return render(request, "billing/invoice_detail.html", _invoice_context(request, invoice), status=409)


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
        return render(request, "billing/invoice_detail.html", _invoice_context(request, invoice), status=409)
    return None


def _not_editable(request: PracticeRequest, invoice: Invoice) -> HttpResponse:
    """Edit of an invoice that can no longer be edited: to its page, saying why."""
    if invoice.status in (Invoice.Status.PAID, Invoice.Status.VOID):
        messages.warning(request, _STATUS_NOW[invoice.status])
    if invoice.status != Invoice.Status.VOID:
        messages.error(request, services.NOT_EDITABLE)
    return redirect(invoice.get_absolute_url())
