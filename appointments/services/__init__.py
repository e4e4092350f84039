"""appointments' writes, one module per job:

- ``appointments``: book, edit and change the status of a session (completed, no-show,
  cancelled), keeping its billing details in step with who and what was booked;
- ``recurrence``: repeating appointments, their occurrences and series splits;
- ``price_list``: Settings > Services.

What one attendee of a session is billed (its billing detail), the tax rates and
Settings > Billing details are billing's rules: they live in billing.services.

The public names are re-exported here, so callers import from ``appointments.services``.
"""

from ..models import ALREADY_CANCELLED, LATE_CANCEL_ONLY_SCHEDULED, NO_SHOW_ONLY_SCHEDULED, NOT_COMPLETABLE
from .appointments import (
    CANCEL_INVOICED,
    CLINICIAN_NOT_MEMBER,
    DURATION_POSITIVE,
    EDIT_ONLY_SCHEDULED,
    NEEDS_CLIENT,
    NEEDS_SERVICE,
    NOT_STARTED,
    WRONG_PRACTICE,
    Cancellation,
    appointment_cancel,
    appointment_create,
    appointment_mark_completed,
    appointment_mark_no_show,
    appointment_update,
    appointment_update_times,
    billing_items_generate_for_appointment,
    client_part_price,
    lock_appointment,
)
from .price_list import (
    COPAY_AMOUNT_ABOVE_PRICE,
    COPAY_AMOUNT_REQUIRED,
    COPAY_KIND_REQUIRED,
    COPAY_PERCENT_RANGE,
    COPAY_PERCENT_REQUIRED,
    COPAY_PERCENT_TOO_FINE,
    PERCENT_PLACES,
    SERVICE_CODE_TAKEN,
    SERVICE_DURATION_POSITIVE,
    SERVICE_FIELDS,
    SERVICE_PRICE_NEGATIVE,
    SERVICE_TOO_PRECISE,
    TAX_RATE_NOT_OURS,
    service_archive,
    service_create,
    service_is_used,
    service_restore,
    service_update,
)
from .recurrence import MAX_OCCURRENCES, RECURRENCE_NEEDS_END, RECURRENCE_TOO_LONG, Recurrence, occurrence_starts

__all__ = [
    "ALREADY_CANCELLED",
    "CANCEL_INVOICED",
    "CLINICIAN_NOT_MEMBER",
    "COPAY_AMOUNT_ABOVE_PRICE",
    "COPAY_AMOUNT_REQUIRED",
    "COPAY_KIND_REQUIRED",
    "COPAY_PERCENT_RANGE",
    "COPAY_PERCENT_REQUIRED",
    "COPAY_PERCENT_TOO_FINE",
    "DURATION_POSITIVE",
    "EDIT_ONLY_SCHEDULED",
    "LATE_CANCEL_ONLY_SCHEDULED",
    "MAX_OCCURRENCES",
    "NEEDS_CLIENT",
    "NEEDS_SERVICE",
    "NOT_COMPLETABLE",
    "NOT_STARTED",
    "NO_SHOW_ONLY_SCHEDULED",
    "PERCENT_PLACES",
    "RECURRENCE_NEEDS_END",
    "RECURRENCE_TOO_LONG",
    "SERVICE_CODE_TAKEN",
    "SERVICE_DURATION_POSITIVE",
    "SERVICE_FIELDS",
    "SERVICE_PRICE_NEGATIVE",
    "SERVICE_TOO_PRECISE",
    "TAX_RATE_NOT_OURS",
    "WRONG_PRACTICE",
    "Cancellation",
    "Recurrence",
    "appointment_cancel",
    "appointment_create",
    "appointment_mark_completed",
    "appointment_mark_no_show",
    "appointment_update",
    "appointment_update_times",
    "billing_items_generate_for_appointment",
    "client_part_price",
    "lock_appointment",
    "occurrence_starts",
    "service_archive",
    "service_create",
    "service_is_used",
    "service_restore",
    "service_update",
]
