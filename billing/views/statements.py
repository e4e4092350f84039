"""A client's statement and superbill: download either for a period, and send the
statement by email. Whoever may open the client's Billing tab may download (a clinician,
for their own clients); sending is for the roles that bill. Another practice's client,
or a client a clinician does not see, is the same 404."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from clients.models import Client
from practice import selectors as practice_selectors
from practice.access import BILLING_ROLES, require_role
from practice.actor import Actor
from practice.audit import client_ip
from practice.forms import apply_service_errors
from practice.types import PracticeRequest

from .. import services
from ..documents.statement import client_statement
from ..documents.superbill import client_superbill
from ..forms.statements import PeriodForm, SendStatementForm
from .common import _client

STATEMENT_QUEUED = "The statement to {to} is on its way."

DOCUMENTS = {
    "statement": ("Download statement", "billing/documents/statement.html"),
    "superbill": ("Download superbill", "billing/documents/superbill.html"),
}


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Balances change with every payment: never serve a stale copy.
    response["Cache-Control"] = "private, no-store"
    return response


def _download(request: PracticeRequest, client_id: int, kind: str) -> HttpResponse:
    # WeasyPrint is imported on the first PDF, not when every process loads its URLs.
    from ..documents.pdf import page_pdf

    client = _client(request, client_id)
    practice = request.practice
    title, template_name = DOCUMENTS[kind]
    asked = "start" in request.GET or "end" in request.GET
    form = PeriodForm(request.GET if asked else None, today=practice.local_today())
    if asked and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        look = practice_selectors.invoice_template_for(practice)
        doc = (client_statement if kind == "statement" else client_superbill)(practice, client, start, end, look)
        return _pdf_response(page_pdf(template_name, {"doc": doc}), doc.filename)
    context = {"client": client, "form": form, "title": title, "kind": kind}
    return render(request, "billing/client_document_period.html", context, status=400 if form.errors else 200)


@require_GET
def client_statement_pdf(request: PracticeRequest, client_id: int) -> HttpResponse:
    return _download(request, client_id, "statement")


@require_GET
def client_superbill_pdf(request: PracticeRequest, client_id: int) -> HttpResponse:
    return _download(request, client_id, "superbill")


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
def client_statement_send(request: PracticeRequest, client_id: int) -> HttpResponse:
    client: Client = _client(request, client_id)
    practice = request.practice
    recipients = services.statement_recipients(client)
    form = SendStatementForm(request.POST or None, today=practice.local_today(), recipients=recipients)
    if request.method == "POST" and recipients and form.is_valid():
        data = form.cleaned_data
        try:
            services.statement_send(
                client=client,
                actor=Actor.of_user(request.user, address=client_ip(request)),
                template=practice_selectors.invoice_template_for(practice),
                start=data["start"],
                end=data["end"],
                to=data["to"],
                send_key=data["send_key"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, STATEMENT_QUEUED.format(to=data["to"]))
            return redirect(client.get_absolute_url())
    context = {"client": client, "form": form, "no_email": services.STATEMENT_NO_EMAIL if not recipients else ""}
    status = 400 if form.errors or (request.method == "POST" and not recipients) else 200
    return render(request, "billing/client_statement_send.html", context, status=status)
