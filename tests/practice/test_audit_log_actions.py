"""Settings > Audit log shows a row of every action the code writes (issue 9 part 18).

A change named "items" (invoice.created, billing_items.generated) made the page a 500:
the template's ``changes.items`` picked the change, not the dict's method.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from practice.audit import audit_write
from practice.models import AuditLog
from tests.helpers import signed_in, url
from tests.practice.helpers import page_text

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = ("practice", "clients", "appointments", "billing", "payments")

LINES_CHANGED = [
    {"line": 41, "description": "Individual therapy", "unit_price": ["100", "120"], "amount": ["100", "120"]}
]

# One realistic changes dict per action, shaped as the service that writes it shapes it.
SAMPLES: dict[str, dict] = {
    "practice.created": {},
    "practice.settings_changed": {"timezone": ["America/New_York", "America/Chicago"]},
    "practice.billing_details_changed": {"prices_include_tax": [False, True], "tax_id": ["", "GST 123"]},
    "staff.invited": {"email": "new@harbour.test", "role": "clinician"},
    "staff.invite_revoked": {},
    "staff.joined": {"role": "biller"},
    "staff.role_changed": {"role": ["clinician", "admin"]},
    "staff.removed": {},
    "auth.signed_in": {},
    "auth.password_changed": {},
    "auth.totp_enabled": {},
    "auth.totp_disabled": {},
    "client.created": {"clinicians": "clinician@harbour.test", "payer": None},
    "client.updated": {"first_name": ["Sam", "Samuel"], "payer": [None, "Pat Payer"]},
    "client.archived": {"status": ["active", "archived"]},
    "client.unarchived": {"status": ["archived", "active"]},
    "client.viewed": {"section": "billing"},
    "client.clinician_assigned": {"clinician": "clinician@harbour.test", "reason": "booked with this clinician"},
    "client.changed_in_admin": {"fields": ["first_name", "email"]},
    "payer.created": {"email": "payer@example.test"},
    "payer.updated": {"name": ["Pat", "Pat Payer"]},
    "payer.changed_in_admin": {"fields": ["email"]},
    "appointment.created": {"occurrences": 1, "clients": [12]},
    "appointment.updated": {
        "start": ["2026-03-02 09:00:00-05:00", "2026-03-02 10:00:00-05:00"],
        "clinician": [3, 4],
        "location": ["in_person", "telehealth"],
        "occurrences": 1,
    },
    "appointment.completed": {},
    "appointment.no_show": {},
    "appointment.cancelled": {},
    "appointment.late_cancelled": {},
    "billing_items.generated": {"items": 2},
    "billing_item.removed": {"amount": "120.00", "reason": "appointment cancelled"},
    "billing_detail.changed": {"client": 12, "service": 5, "unit_price": ["100.000", "120.000"]},
    "service.created": {"name": [None, "Individual therapy"], "price": [None, "120.00"]},
    "service.updated": {"price": ["100.00", "120.00"]},
    "service.archived": {},
    "service.deleted": {},
    "service.restored": {},
    "tax_rate.created": {"name": [None, "GST"], "percent": [None, "15"]},
    "tax_rate.updated": {"percent": ["15", "12.5"]},
    "tax_rate.archived": {"is_archived": [False, True]},
    "invoice.created": {"items": 3, "lines": 1},
    "invoice.issued": {"number": "INV-000012", "total": "240.00"},
    "invoice.edited": {
        "lines_changed": LINES_CHANGED,
        "lines_removed": [{"line": 42, "description": "Report", "amount": "50"}],
        "lines_added": [{"line": 43, "description": "Letter", "amount": "30"}],
        "total": ["150.00", "150.00"],
    },
    "invoice.draft_deleted": {"items": [7, 8]},
    "invoice.voided": {"reason": "Billed twice", "items": [7, 8]},
    "credit_invoice.created": {"reason": "Goodwill", "total": "-50.00"},
    "credit.applied": {"amount": "50.00"},
    "payment.recorded": {"amount": "120.00", "method": "cash", "allocations": {"INV-000012": "120.00"}},
    "payment.reversed": {"amount": "120.00", "reason": "Cheque bounced"},
    "package.created": {"name": [None, "Ten sessions"], "sessions": [None, 10]},
    "package.edited": {"price": ["900.00", "950.00"]},
    "package.archived": {},
    "package.restored": {},
    "package.sold": {"sessions": 10, "items": {"service": 5, "price": "900.00"}},
    "package.refunded": {"sessions": 4, "amount": "360.00"},
    "package.session_returned": {"appointment": 31, "reason": "appointment cancelled"},
}

# An action that a helper adds without a sample above still gets a row, with changes shaped
# like the ones that broke the page: a key named "items", nested lists and dicts.
GENERIC = {"items": 2, "values": [1, 2], "keys": {"a": ["1", "2"]}, "lines_changed": LINES_CHANGED}

ACTION = re.compile(r'"([a-z_]+\.[a-z_]+)"')


def actions_in_code() -> set[str]:
    """Every literal action name next to an audit write in the apps' code."""
    found: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for line in path.read_text().splitlines():
                if "action" in line or "_audit(" in line:
                    found.update(m for m in ACTION.findall(line) if not m.startswith(("auth.group", "auth.perm")))
    return found


def test_the_samples_cover_every_action_the_code_writes_today():
    # A guard for this file itself: the scan finds the actions, and each has a realistic sample
    found = actions_in_code()
    assert {"invoice.created", "billing_items.generated", "invoice.edited", "payment.recorded"} <= found
    missing = found - SAMPLES.keys()
    assert len(found) >= 45
    # New actions are still rendered below (with GENERIC changes); list them here when you can.
    assert len(missing) <= len(found) // 2, missing


def test_the_audit_log_shows_a_row_of_every_action(tenant):
    # Given one audit row of every action the code writes, with its changes
    actions = sorted(actions_in_code() | SAMPLES.keys())
    for action in actions:
        audit_write(
            practice=tenant.practice,
            actor=tenant.owner,
            action=action,
            obj=tenant.practice,
            changes=SAMPLES.get(action, GENERIC),
        )
    # When the owner opens Settings > Audit log, a page at a time
    owner = signed_in(tenant.owner)
    shown = ""
    for number in range(1, len(actions) // 50 + 2):
        response = owner.get(url(tenant.practice, "audit_log"), {"page": number})
        # Then every page answers
        assert response.status_code == 200
        shown += page_text(response)
    # And every action is on it, with its changes in words
    for action in actions:
        assert f"<code>{action}</code>" in shown, action
    assert "<strong>items</strong>: 3" in shown  # invoice.created
    assert "<strong>items</strong>: 2" in shown  # billing_items.generated
    assert "unit_price: 100 → 120" in shown  # invoice.edited's lines_changed
    assert "description: Report" in shown  # invoice.edited's lines_removed


def test_an_items_change_alone_renders(tenant):
    audit_write(practice=tenant.practice, actor=tenant.owner, action="invoice.created", changes={"items": 1})
    response = signed_in(tenant.owner).get(url(tenant.practice, "audit_log"))
    assert response.status_code == 200
    assert AuditLog.objects.filter(action="invoice.created").count() == 1
    assert "<strong>items</strong>: 1" in page_text(response)


def test_the_next_page_link_of_the_audit_log_opens_page_two(tenant):
    # Given 51 rows, one more than a page
    for n in range(51):
        audit_write(practice=tenant.practice, actor=tenant.owner, action=f"test.row_{n:02d}")
    owner = signed_in(tenant.owner)
    first = page_text(owner.get(url(tenant.practice, "audit_log")))
    # When the owner follows the Next link as the page writes it
    href = re.search(r'<a href="([^"]*)">Next</a>', first).group(1)
    second = page_text(owner.get(url(tenant.practice, "audit_log") + href.replace("&amp;", "&")))
    # Then page two shows the oldest row (the link was "??page=2", which reopened page one)
    assert "Page 2 of 2" in second
    assert "<code>test.row_00</code>" in second
