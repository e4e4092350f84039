"""One-time submission keys: a double click, a retried POST or a second tab records once.

Every form that creates or changes money carries a fresh key, made when the form is shown
(``{% submission_key %}`` in billing_tags renders it as a hidden input). The key is
inserted into SubmissionKey (unique per practice) as the first statement of the
transaction that records the submission, so:

- a sequential repeat finds the row and is answered with the first submission's redirect
  and message, with ``ALREADY_RECORDED`` on top;
- a concurrent repeat blocks on the unique index until the first transaction ends (no
  lock has been taken yet, so it cannot deadlock), then fails on it and reads the winner's
  row, or, if the first rolled back, goes ahead as the only one.

Views use the ``once`` decorator: it claims the key before the view reads anything, runs
the view in the same transaction, and stores where it led. Claiming before the view (not
inside the service) matters: a view's own checks ("the ticked items were invoiced a moment
ago", a form's "more than the balance") would otherwise answer a repeat with a misleading
error instead of the first result. Services and tasks that record on behalf of something
else (online payments, to come) call ``submission_claim`` inside their own transaction.

A POST without a key (a page loaded before keys existed, a script) is refused with
``PAGE_OUT_OF_DATE`` and nothing is recorded: for money, refusing is safer than a
duplicate.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from practice.models import Practice, User

from .models import SubmissionKey

ALREADY_RECORDED = "This was already recorded."
PAGE_OUT_OF_DATE = "This page was out of date, so nothing was recorded. Check it and submit again."
FIELD = "submission_key"
KEY_FORMAT = re.compile(r"[0-9a-f]{32}")


class AlreadySubmitted(Exception):
    """The key was used before: ``result_url`` and ``result_message`` are what the first
    submission answered (empty when it stored none)."""

    def __init__(self, result_url: str, result_message: str) -> None:
        super().__init__(result_url)
        self.result_url = result_url
        self.result_message = result_message


def submission_key_new() -> str:
    return uuid.uuid4().hex


def submission_key_of(request: HttpRequest) -> str | None:
    """The key a POST carries, or None when it has none (or not one we made)."""
    raw = request.POST.get(FIELD, "")
    return raw if KEY_FORMAT.fullmatch(raw) else None


def submission_claim(*, practice: Practice, key: str, action: str, actor: User | None) -> SubmissionKey:
    """Record ``key`` in the caller's transaction, or raise AlreadySubmitted.

    Call it first inside ``transaction.atomic()``, before any row lock. The insert runs in
    a savepoint, so a duplicate leaves the caller's transaction usable.
    """
    try:
        with transaction.atomic():
            return SubmissionKey.objects.create(practice=practice, key=key, action=action[:60], created_by=actor)
    except IntegrityError:
        first = SubmissionKey.objects.filter(practice=practice, key=key).first()
        if first is None:  # pragma: no cover - the unique index named a row we cannot see
            raise
        raise AlreadySubmitted(first.result_url, first.result_message) from None


def keep(request: HttpRequest, result_url: str, message: str = "", level: int = messages.SUCCESS) -> None:
    """For a view that answers a recorded submission with a page instead of a redirect:
    keep the key, and send a repeat to ``result_url`` with ``message`` (the page shows its
    messages as it renders, so the decorator cannot collect them afterwards)."""
    request.submission_result = (result_url, _stored([(level, message)] if message else []))  # type: ignore[attr-defined]


def _added_messages(request: HttpRequest, levels: tuple[int, ...]) -> list[tuple[int, str]]:
    # The messages this request has added and not yet shown (BaseStorage keeps them in
    # _queued_messages until the response stores them).
    storage = getattr(request, "_messages", None)
    return [(m.level, str(m.message)) for m in getattr(storage, "_queued_messages", []) if m.level in levels]


def _stored(added: list[tuple[int, str]]) -> str:
    """The first answer's messages as stored: one "<level> <text>" a line."""
    return "\n".join(f"{level} {text}" for level, text in added)[:500]


def replay(request: HttpRequest, stored: str) -> None:
    """Show again the messages a first submission stored (for a view that claims its key
    with ``submission_claim`` rather than ``once``)."""
    _replay(request, stored)


def stored_messages(request: HttpRequest) -> str:
    """This request's messages so far, as ``claim.result_message`` stores them."""
    return _stored(_added_messages(request, (messages.SUCCESS, messages.INFO, messages.ERROR)))


def _replay(request: HttpRequest, stored: str) -> None:
    for line in filter(None, stored.split("\n")):
        level, _, text = line.partition(" ")
        messages.add_message(request, int(level) if level.isdecimal() else messages.INFO, text)


def once(
    action: str, back: str | None = None, *, portal: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Make a view's POST a one-time submission (place it below the access checks).

    ``portal``: a client portal page, which has no staff user (the claim has no actor)
    and no practice in its URLs (``back`` is reversed without arguments).

    The submission counts as recorded when the view answers with a redirect and a success
    message (or calls ``keep``); otherwise (a form shown again with its errors, a refusal)
    the key is released in the same transaction, so the corrected form can use it.
    ``back`` names the page (reversed with the view's own URL arguments) to send a refused
    POST to; without it, the form's own address.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)

            def back_url() -> str:
                if back is None:
                    return str(request.get_full_path())
                if portal:
                    return reverse(back)
                return reverse(back, kwargs={"practice_slug": request.practice.slug, **kwargs})

            key = submission_key_of(request)
            if key is None:
                messages.error(request, PAGE_OUT_OF_DATE)
                return redirect(back_url())
            try:
                with transaction.atomic():
                    actor = None if portal else request.user
                    claim = submission_claim(practice=request.practice, key=key, action=action, actor=actor)
                    response = view(request, *args, **kwargs)
                    result: tuple[str, str] | None = getattr(request, "submission_result", None)
                    said = _added_messages(request, (messages.SUCCESS, messages.INFO))
                    recorded = any(level == messages.SUCCESS for level, _ in said)
                    if result is None and response.status_code in (301, 302, 303) and recorded:
                        result = (response["Location"], _stored(said))
                    if result is None:
                        claim.delete()
                    else:
                        claim.result_url, claim.result_message = result[0][:500], result[1]
                        claim.save(update_fields=["result_url", "result_message"])
            except AlreadySubmitted as first:
                messages.info(request, ALREADY_RECORDED)
                _replay(request, first.result_message)
                return redirect(first.result_url or back_url())
            return response

        return wrapper

    return decorate
