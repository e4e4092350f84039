"""The development Outbox: the emails the development backend kept (practice.mail), with
each one's text, HTML and attachments, so the links in them can be followed without a mail
server. Every page is a 404 unless the Outbox backend is in use outside production.

No sign-in is asked: a client's portal sign-in link must be readable by someone who is not
staff, and the Outbox exists only on a developer's own machine.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from urllib.parse import quote

from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from .mail import outbox_enabled
from .models import OutboxMessage

LIST_LIMIT = 200
HEADERS = ("From", "To", "Reply-To", "Subject", "Date")
LINK = re.compile(r"https?://[^\s<>\"']+")


def _message(message_id: int) -> tuple[OutboxMessage, EmailMessage]:
    if not outbox_enabled():
        raise Http404
    row = get_object_or_404(OutboxMessage, pk=message_id)
    parsed = email.message_from_bytes(bytes(row.raw), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)  # the default policy makes one
    return row, parsed


def _part_text(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    return str(part.get_content())


def _attachments(message: EmailMessage) -> list[EmailMessage]:
    return [part for part in message.iter_attachments() if isinstance(part, EmailMessage)]


@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    if not outbox_enabled():
        raise Http404
    rows = OutboxMessage.objects.defer("raw")[:LIST_LIMIT]
    return render(request, "practice/outbox.html", {"rows": rows, "limit": LIST_LIMIT})


@require_GET
def outbox_message(request: HttpRequest, message_id: int) -> HttpResponse:
    row, message = _message(message_id)
    text = _part_text(message, "plain")
    attachments = [
        {"index": index, "filename": part.get_filename() or f"attachment-{index + 1}", "type": part.get_content_type()}
        for index, part in enumerate(_attachments(message))
    ]
    return render(
        request,
        "practice/outbox_message.html",
        {
            "row": row,
            "headers": [(name, message[name]) for name in HEADERS if message[name]],
            "text": text,
            "links": list(dict.fromkeys(LINK.findall(text))),
            "has_html": bool(_part_text(message, "html")),
            "attachments": attachments,
        },
    )


# An email's HTML is someone else's markup: it is served as its own document that may run
# nothing, load nothing from elsewhere and submit nothing, framed only by the Outbox page.
EMAIL_HTML_CSP = {
    "default-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "img-src": ["data:"],
    "script-src": [NONE],
    "font-src": [NONE],
    "connect-src": [NONE],
    "form-action": [NONE],
    "base-uri": [NONE],
    "object-src": [NONE],
    "frame-ancestors": [SELF],
}


@require_GET
@xframe_options_sameorigin
@csp_replace(EMAIL_HTML_CSP)  # type: ignore[arg-type]  # django-csp types a view as taking only the request
def outbox_message_html(request: HttpRequest, message_id: int) -> HttpResponse:
    _, message = _message(message_id)
    html = _part_text(message, "html")
    if not html:
        raise Http404
    return HttpResponse(html, content_type="text/html; charset=utf-8")


@require_GET
def outbox_attachment(request: HttpRequest, message_id: int, index: int) -> HttpResponse:
    _, message = _message(message_id)
    parts = _attachments(message)
    if index >= len(parts):
        raise Http404
    part = parts[index]
    content = part.get_content()
    body = content.encode() if isinstance(content, str) else bytes(content)
    response = HttpResponse(body, content_type=part.get_content_type())
    filename = part.get_filename() or f"attachment-{index + 1}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
    return response
