"""The audit log: written by services, append-only in the database, and listed with
filters on Settings > Audit log (issue 3 part 10)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from practice.actor import Actor
from practice.audit import audit_write
from practice.models import AuditLog, Role
from tests.helpers import signed_in, url
from tests.practice.helpers import page_text, sign_in

pytestmark = pytest.mark.django_db


def test_signing_in_writes_a_row_with_who_and_from_where(tenant):
    sign_in(Client(), tenant.admin.email, ip="198.51.100.23")
    row = AuditLog.objects.get(action="auth.signed_in")
    assert row.practice == tenant.practice
    assert row.actor == tenant.admin
    assert row.actor_label == "admin@harbour.test"
    assert row.ip_address == "198.51.100.23"


def test_a_failed_sign_in_writes_no_signed_in_row(tenant):
    sign_in(Client(), tenant.admin.email, "wrong password!")
    assert not AuditLog.objects.filter(action="auth.signed_in").exists()


def test_a_settings_change_records_the_changed_fields_only(tenant):
    owner = signed_in(tenant.owner)
    owner.post(
        url(tenant.practice, "settings_practice"),
        {
            "name": "Harbour Street Therapy",
            "timezone": "America/Chicago",
            "address": "",
            "phone": "555-0100",
            "email": "",
            "session_idle_minutes": "15",
        },
        REMOTE_ADDR="198.51.100.5",
    )
    row = AuditLog.objects.get(action="practice.settings_changed")
    assert row.actor == tenant.owner
    assert row.changes == {"timezone": ["America/New_York", "America/Chicago"], "phone": ["", "555-0100"]}
    assert row.ip_address == "198.51.100.5"
    assert row.object_repr == "Harbour Street Therapy"


def test_saving_unchanged_settings_writes_no_row(tenant):
    signed_in(tenant.owner).post(
        url(tenant.practice, "billing:invoice_numbering"),
        {"payment_terms_days": "14", "invoice_prefix": "INV-", "invoice_start_number": "1"},
    )
    assert not AuditLog.objects.filter(action="practice.settings_changed").exists()


def test_inviting_staff_writes_a_row(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(tenant.owner).post(url(tenant.practice, "staff"), {"email": "new@example.test", "role": "biller"})
    row = AuditLog.objects.get(action="staff.invited")
    assert row.practice == tenant.practice
    assert row.changes == {"email": "new@example.test", "role": "biller"}


def test_a_failed_settings_save_writes_nothing(tenant):
    signed_in(tenant.owner).post(
        url(tenant.practice, "settings_practice"),
        {"name": "", "timezone": "Not/AZone", "session_idle_minutes": "15"},
    )
    assert not AuditLog.objects.filter(action="practice.settings_changed").exists()


def test_a_system_job_row_names_the_job(tenant):
    row = audit_write(practice=tenant.practice, actor=Actor.system("invoices.send_due"), action="invoice.sent")
    assert row.actor is None
    assert row.actor_label == "system:invoices.send_due"


def test_a_row_names_a_user_or_a_job_not_both(tenant):
    with pytest.raises(ValueError):
        audit_write(practice=tenant.practice, actor=Actor(user=tenant.owner, job="job"), action="x")
    with pytest.raises(ValueError):
        audit_write(practice=tenant.practice, action="x")


# Append-only ------------------------------------------------------------------------


@pytest.fixture
def row(tenant):
    return audit_write(practice=tenant.practice, actor=tenant.owner, action="practice.settings_changed")


@pytest.mark.parametrize(
    "sql",
    ["UPDATE practice_auditlog SET action = 'nothing.happened'", "DELETE FROM practice_auditlog"],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_delete_a_row_with_raw_sql(row, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    row.refresh_from_db()
    assert row.action == "practice.settings_changed"


def test_the_database_refuses_a_queryset_update(row):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).update(action="nothing.happened")
    assert AuditLog.objects.get(pk=row.pk).action == "practice.settings_changed"


def test_the_database_refuses_a_queryset_delete(row):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.filter(pk=row.pk).delete()
    assert AuditLog.objects.filter(pk=row.pk).exists()


def test_the_database_refuses_saving_an_edited_row(row):
    row.action = "nothing.happened"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        row.save()
    assert AuditLog.objects.get(pk=row.pk).action == "practice.settings_changed"


# The page ---------------------------------------------------------------------------


@pytest.fixture
def history(tenant, other_tenant, time_machine):
    """Rows on three days in Harbour, and a look-alike row in the other practice."""
    at = lambda *args: time_machine.move_to(datetime(*args, tzinfo=UTC), tick=False)  # noqa: E731
    at(2026, 3, 2, 15, 0)
    audit_write(
        practice=tenant.practice,
        actor=tenant.owner,
        action="practice.settings_changed",
        obj=tenant.practice,
        changes={"phone": ["", "555-0100"]},
    )
    at(2026, 3, 3, 15, 0)
    audit_write(practice=tenant.practice, actor=tenant.admin, action="auth.signed_in", obj=tenant.admin)
    # 02:00 UTC on the 5th is still the 4th in New York
    at(2026, 3, 5, 2, 0)
    audit_write(
        practice=tenant.practice,
        actor=tenant.owner,
        action="staff.invited",
        changes={"email": "late@example.test", "role": "biller"},
    )
    audit_write(
        practice=other_tenant.practice,
        actor=other_tenant.owner,
        action="practice.settings_changed",
        obj=other_tenant.practice,
        changes={"phone": ["", "555-9999-OTHER"]},
    )
    at(2026, 3, 5, 15, 0)


def rows_shown(response) -> list[str]:
    text = page_text(response)
    body = text.split("<tbody>")[1].split("</tbody>")[0]
    return [cell.split("</code>")[0] for cell in body.split("<code>")[1:]]


def test_the_page_lists_this_practices_rows_newest_first(tenant, history):
    response = signed_in(tenant.owner).get(url(tenant.practice, "audit_log"))
    assert rows_shown(response) == ["staff.invited", "auth.signed_in", "practice.settings_changed"]
    text = page_text(response)
    assert "phone</strong>: — → 555-0100" in text
    assert "555-9999-OTHER" not in text
    assert "owner@twin.test" not in text


def test_the_page_filters_by_action(tenant, history):
    response = signed_in(tenant.owner).get(url(tenant.practice, "audit_log"), {"action": "staff"})
    assert rows_shown(response) == ["staff.invited"]


def test_the_page_filters_by_who(tenant, history):
    response = signed_in(tenant.admin).get(url(tenant.practice, "audit_log"), {"actor": "admin@"})
    assert rows_shown(response) == ["auth.signed_in"]


def test_the_page_filters_by_date_in_the_practices_time_zone(tenant, history):
    client = signed_in(tenant.owner)
    url = reverse("audit_log", kwargs={"practice_slug": tenant.practice.slug})
    assert rows_shown(client.get(url, {"date_from": "2026-03-03", "date_to": "2026-03-03"})) == ["auth.signed_in"]
    assert rows_shown(client.get(url, {"date_from": "2026-03-04", "date_to": "2026-03-04"})) == ["staff.invited"]
    assert rows_shown(client.get(url, {"date_from": "2026-03-05"})) == []


def test_filters_that_match_nothing_say_so(tenant, history):
    response = signed_in(tenant.owner).get(url(tenant.practice, "audit_log"), {"action": "no.such.action"})
    assert "No entries match." in page_text(response)


def test_a_bad_date_shows_a_field_error_not_a_crash(tenant, history):
    response = signed_in(tenant.owner).get(url(tenant.practice, "audit_log"), {"date_from": "yesterday"})
    assert response.status_code == 200
    assert "Enter a valid date." in page_text(response)


def test_the_page_runs_a_bounded_number_of_queries(tenant, django_assert_max_num_queries):
    for n in range(60):
        audit_write(practice=tenant.practice, actor=tenant.owner, action=f"test.row{n}", obj=tenant.practice)
    client = signed_in(tenant.owner)
    with django_assert_max_num_queries(12):
        response = client.get(url(tenant.practice, "audit_log"))
    assert len(rows_shown(response)) == 50
    page_two = client.get(url(tenant.practice, "audit_log"), {"page": "2"})
    assert len(rows_shown(page_two)) == 10


def test_an_admin_sees_the_log_but_not_another_practices(tenant, other_tenant, history):
    response = signed_in(tenant.admin).get(url(other_tenant.practice, "audit_log"))
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.BILLER, Role.CLINICIAN])
def test_other_roles_cannot_filter_their_way_in(tenant, history, role):
    response = signed_in(tenant.member(role)).get(url(tenant.practice, "audit_log"), {"action": "staff"})
    assert response.status_code == 403
    assert "staff.invited" not in page_text(response)
