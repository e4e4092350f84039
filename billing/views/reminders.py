"""Settings > Invoice reminders (owner and admin) and Send reminder on an invoice page
(billing roles)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from practice.access import BILLING_ROLES, OWNER_OR_ADMIN, require_role
from practice.actor import Actor
from practice.audit import client_ip
from practice.types import PracticeRequest

from .. import selectors, services, submission
from ..forms.reminders import rules_formset, rules_to_save
from ..reminders import PLACEHOLDERS, default_rules
from .common import _invoice

REMINDER_RULES_SAVED = "Invoice reminders saved."
REMINDER_RULES_INVALID = "Nothing was saved: correct the reminders marked below."
REMINDER_SENT = "Reminder sent to {to}."


@require_role(*OWNER_OR_ADMIN)
def reminder_rules(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    saved = selectors.reminder_rules(practice)
    formset = rules_formset(request.POST or None, saved or default_rules())
    if request.method == "POST" and formset.is_valid():
        chosen = rules_to_save(formset)
        try:
            services.reminder_rules_save(
                practice=practice,
                actor=Actor.of_user(request.user, address=client_ip(request)),
                rules=[rule for _form, rule in chosen],
            )
        except services.ReminderRulesInvalid as exc:
            for index, problems in exc.rows.items():
                for field, message in problems.items():
                    chosen[index][0].add_error(field, message)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, REMINDER_RULES_SAVED)
            return redirect("billing:reminder_rules", practice_slug=practice.slug)
    failed = request.method == "POST"
    context = {
        "formset": formset,
        "placeholders": PLACEHOLDERS,
        "is_default": not saved,
        "invalid_message": REMINDER_RULES_INVALID if failed else "",
    }
    return render(request, "billing/reminder_rules.html", context, status=400 if failed else 200)


@require_POST
@require_role(*BILLING_ROLES)
@submission.once("invoice.reminder_sent", back="billing:invoice")
def invoice_send_reminder(request: PracticeRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    try:
        reminder = services.invoice_reminder_send(
            invoice=invoice, rule=None, actor=Actor.of_user(request.user, address=client_ip(request))
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, REMINDER_SENT.format(to=reminder.to))
    return redirect(invoice.get_absolute_url())
