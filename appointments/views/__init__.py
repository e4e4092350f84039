"""appointments' pages, one module per part of the app: the calendar, appointments and
Settings > Services (price_list). A session's billing details and Settings > Billing
details are billing's pages (billing.views).

Views parse input, check access, call one service or selector and render. The names
are re-exported here for callers that import ``appointments.views``; the URLconf names
the modules.
"""

from .appointments import (
    BILLING_STATE_LABELS,
    CANCELLED,
    CANCELLED_HELD,
    INVOICING_LATER,
    LATE_CANCEL_FEE,
    LATE_CANCELLED,
    LATE_CANCELLED_NO_FEE,
    OVERLAP_WARNING,
    SAVED,
    appointment_cancel,
    appointment_complete,
    appointment_detail,
    appointment_edit,
    appointment_generate_items,
    appointment_new,
    appointment_no_show,
)
from .calendar import calendar_view
from .price_list import service_archive, service_edit, service_new, services_list

__all__ = [
    "BILLING_STATE_LABELS",
    "CANCELLED",
    "CANCELLED_HELD",
    "INVOICING_LATER",
    "LATE_CANCELLED",
    "LATE_CANCELLED_NO_FEE",
    "LATE_CANCEL_FEE",
    "OVERLAP_WARNING",
    "SAVED",
    "appointment_cancel",
    "appointment_complete",
    "appointment_detail",
    "appointment_edit",
    "appointment_generate_items",
    "appointment_new",
    "appointment_no_show",
    "calendar_view",
    "service_archive",
    "service_edit",
    "service_new",
    "services_list",
]
