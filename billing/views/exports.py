"""Billing documents export, from the Billing page (every client or a chosen few) and from
a client's Billing tab (their own): a small export downloads at once, a bigger one runs
in a worker and its page shows the progress, then the download link.

Owners, admins and billers only (a clinician gets the 403 page); another practice's
export, or client, is the same 404 as a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.models import Client
from practice.access import BILLING_ROLES, require_role
from practice.types import PracticeRequest

from ..documents.export import (
    COMBINED_MAX,
    COMBINED_TOO_BIG,
    INLINE_LIMIT,
    NOTHING_TO_EXPORT,
    ExportParams,
    Format,
    export_is_stale,
    export_path,
    export_plan,
    export_render,
    export_restart,
    export_start,
)
from ..forms.exports import ExportForm
from ..models import Export
from .common import _client, _purl

EXPORT_RESTARTED = "The export was started again."
RECENT = 10
CONTENT_TYPES = {"zip": "application/zip", "pdf": "application/pdf"}


def _export(request: PracticeRequest, export_id: int) -> Export:
    export = Export.objects.filter(practice=request.practice, pk=export_id).first()
    if export is None:
        raise Http404("No such export.")
    return export


def _whom(form: ExportForm) -> str:
    if form.client is not None:
        return f" for {form.client.display_name}"
    return " for the chosen clients" if form.cleaned_data.get("clients") else ""


def _export_form(request: PracticeRequest, client: Client | None) -> HttpResponse:
    practice = request.practice
    form = ExportForm(request.POST or None, practice=practice, today=practice.local_today(), client=client)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        params = ExportParams(
            start=data["start"],
            end=data["end"],
            format=data["format"],
            receipts=data["receipts"],
            client_ids=form.client_ids(),
        )
        plan = export_plan(practice, params)
        if not plan:
            form.add_error(None, NOTHING_TO_EXPORT.format(whom=_whom(form)))
        elif params.format == Format.PDF and len(plan) > COMBINED_MAX:
            form.add_error(None, COMBINED_TOO_BIG.format(max=COMBINED_MAX, count=len(plan)))
        elif len(plan) <= INLINE_LIMIT:
            response = HttpResponse(export_render(practice, params, plan), content_type=CONTENT_TYPES[params.format])
            response["Content-Disposition"] = f'attachment; filename="{params.download_name}"'
            response["Cache-Control"] = "private, no-store"
            return response
        else:
            export = export_start(practice=practice, user=request.user, params=params, total=len(plan))
            return redirect(_purl(request, "billing:export", export_id=export.pk))
    recent = Export.objects.filter(practice=practice).select_related("requested_by")[:RECENT]
    context = {"form": form, "client": client, "recent": recent, "inline_limit": INLINE_LIMIT}
    return render(request, "billing/export_new.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
def export_new(request: PracticeRequest) -> HttpResponse:
    return _export_form(request, None)


@require_http_methods(["GET", "POST"])
@require_role(*BILLING_ROLES)
def client_export_new(request: PracticeRequest, client_id: int) -> HttpResponse:
    return _export_form(request, _client(request, client_id))


def _progress_context(export: Export) -> dict[str, object]:
    return {"export": export, "stale": export_is_stale(export)}


@require_GET
@require_role(*BILLING_ROLES)
def export_detail(request: PracticeRequest, export_id: int) -> HttpResponse:
    export = _export(request, export_id)
    return render(request, "billing/export_detail.html", _progress_context(export))


@require_GET
@require_role(*BILLING_ROLES)
def export_progress(request: PracticeRequest, export_id: int) -> HttpResponse:
    """The progress panel alone, polled by the export's page until the export finishes."""
    export = _export(request, export_id)
    return render(request, "billing/export_progress.html", _progress_context(export))


@require_GET
@require_role(*BILLING_ROLES)
def export_download(request: PracticeRequest, export_id: int) -> FileResponse:
    export = _export(request, export_id)
    if export.status != Export.Status.DONE:
        raise Http404("The export is not ready.")
    path = export_path(export.file)
    if not path.is_file():
        raise Http404("The export's file is gone.")
    kind = export.file.rsplit(".", 1)[-1]
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=export.filename, content_type=CONTENT_TYPES.get(kind)
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@require_role(*BILLING_ROLES)
def export_start_again(request: PracticeRequest, export_id: int) -> HttpResponse:
    export = _export(request, export_id)
    if export_restart(export=export):
        messages.info(request, EXPORT_RESTARTED)
    return redirect(_purl(request, "billing:export", export_id=export.pk))
