# ruff: noqa: S608 - the SQL below is built from this file's own table and column names
from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models

# Every change to billing's rows that moves a Revenue figure marks the days it touches
# (reports.models.RevenueStale), in the same transaction, whichever service made it:
#
# - an invoice or credit invoice: its issue day and the days around its write-off (the
#   write-off's local day is one of them, whatever the practice's time zone), and the days
#   of the payments and refunds on it (its lines split them);
# - a line: its invoice, as above (how the invoice's money is split, and whose it is: a
#   line's clinician changes with its session's, billing 0020);
# - a payment or a refund, or one of their allocations: the day it was received or made;
# - a practice's time zone: every day (a null day).
#
# Statement triggers over the rows the statement changed (transition tables): one insert
# of marks per statement however many rows it wrote (the invoice run writes a hundred
# invoices at a time), only for the columns the figures read, never for a draft (which
# counts nowhere and has no payments yet).
_TABLES = {
    "invoice": ("billing_invoice", "practice_id, kind, status, total, issue_date, written_off, written_off_at"),
    "line": ("billing_invoiceline", "invoice_id, amount, service_id, clinician_id"),
    "payment": ("billing_payment", "practice_id, status, received_on, amount, credited"),
    "allocation": ("billing_paymentallocation", "payment_id, invoice_id, amount"),
    "refund": ("billing_refund", "practice_id, refunded_on, amount, from_credit"),
    "refund_allocation": ("billing_refundallocation", "refund_id, invoice_id, amount"),
}


def _changed(columns: str) -> str:
    """The old and the new of each row the update changed one of ``columns`` of."""
    names = [c.strip() for c in columns.split(",")]
    differ = f"({', '.join(f'o.{c}' for c in names)}) IS DISTINCT FROM ({', '.join(f'n.{c}' for c in names)})"
    return (
        f"(SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {differ} "
        f"UNION ALL SELECT n.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {differ})"
    )


def _function(name: str, body: str) -> str:
    """The statement trigger function and triggers of one table: ``body`` marks the days
    of ``ROWS``, the statement's inserted rows, its deleted rows, or the old and the new of
    each row an update changed a figure's column of."""
    table, columns = _TABLES[name]
    return f"""
CREATE FUNCTION reports_{name}_marks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {body.replace("ROWS", "new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {body.replace("ROWS", "old_rows")}
    ELSE
        {body.replace("ROWS", _changed(columns))}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reports_{name}_inserted AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_{name}_marks();
CREATE TRIGGER reports_{name}_updated AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_{name}_marks();
CREATE TRIGGER reports_{name}_deleted AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION reports_{name}_marks();
"""


MARK = (
    """
CREATE FUNCTION reports_mark_invoices(invoices bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reports_revenuestale (practice_id, day)
    SELECT DISTINCT i.practice_id, d
    FROM billing_invoice i CROSS JOIN LATERAL (
        SELECT i.issue_date
        UNION ALL
        SELECT (i.written_off_at AT TIME ZONE 'UTC')::date + shift FROM generate_series(-1, 1) shift
        UNION ALL
        SELECT p.received_on
        FROM billing_paymentallocation a JOIN billing_payment p ON p.id = a.payment_id WHERE a.invoice_id = i.id
        UNION ALL
        SELECT r.refunded_on
        FROM billing_refundallocation ra JOIN billing_refund r ON r.id = ra.refund_id WHERE ra.invoice_id = i.id
    ) days(d)
    WHERE i.id = ANY(invoices) AND i.status <> 'draft' AND d IS NOT NULL;
END $$;
"""
    + "".join(
        _function(name, body)
        for name, body in (
            # An invoice's own days as they were and are and, for one changed, the days of the
            # payments and refunds on it (a new invoice has none yet; a deleted one is a draft).
            (
                "invoice",
                """
    INSERT INTO reports_revenuestale (practice_id, day)
    SELECT DISTINCT r.practice_id, d FROM ROWS r CROSS JOIN LATERAL (
        SELECT r.issue_date
        UNION ALL
        SELECT (r.written_off_at AT TIME ZONE 'UTC')::date + shift FROM generate_series(-1, 1) shift
    ) days(d)
    WHERE r.status <> 'draft' AND d IS NOT NULL;
    IF TG_OP = 'UPDATE' THEN
        PERFORM reports_mark_invoices(ARRAY(SELECT DISTINCT x.id FROM ROWS x WHERE x.status <> 'draft'));
    END IF;""",
            ),
            ("line", "PERFORM reports_mark_invoices(ARRAY(SELECT DISTINCT x.invoice_id FROM ROWS x));"),
            (
                "payment",
                """
    INSERT INTO reports_revenuestale (practice_id, day) SELECT DISTINCT x.practice_id, x.received_on FROM ROWS x;""",
            ),
            (
                "allocation",
                """
    INSERT INTO reports_revenuestale (practice_id, day)
    SELECT DISTINCT p.practice_id, p.received_on FROM billing_payment p
    WHERE p.id IN (SELECT x.payment_id FROM ROWS x);""",
            ),
            (
                "refund",
                """
    INSERT INTO reports_revenuestale (practice_id, day) SELECT DISTINCT x.practice_id, x.refunded_on FROM ROWS x;""",
            ),
            (
                "refund_allocation",
                """
    INSERT INTO reports_revenuestale (practice_id, day)
    SELECT DISTINCT r.practice_id, r.refunded_on FROM billing_refund r
    WHERE r.id IN (SELECT x.refund_id FROM ROWS x);""",
            ),
        )
    )
    + """
CREATE FUNCTION reports_practice_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reports_revenuestale (practice_id, day) VALUES (NEW.id, NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER reports_practice_timezone AFTER UPDATE ON practice_practice FOR EACH ROW
    WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION reports_practice_moved();

-- The practices there already: every day of each is worked out on its first report.
INSERT INTO reports_revenuestale (practice_id, day) SELECT id, NULL FROM practice_practice;
"""
)

UNMARK = (
    "DROP TRIGGER IF EXISTS reports_practice_timezone ON practice_practice;\n"
    + "".join(
        f"DROP TRIGGER IF EXISTS reports_{name}_{event} ON {table};\n"
        for name, (table, _columns) in _TABLES.items()
        for event in ("inserted", "updated", "deleted")
    )
    + "".join(f"DROP FUNCTION IF EXISTS reports_{name}_marks();\n" for name in _TABLES)
    + "DROP FUNCTION IF EXISTS reports_practice_moved();\n"
    + "DROP FUNCTION IF EXISTS reports_mark_invoices(bigint[]);\n"
)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("practice", "0014_job_runs"),
        ("billing", "0020_line_clinician"),
    ]

    operations = [
        migrations.CreateModel(
            name="RevenueStale",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("practice_id", models.BigIntegerField()),
                ("day", models.DateField(null=True)),
            ],
            options={
                "indexes": [models.Index(fields=["practice_id"], name="revenuestale_practice")],
            },
        ),
        migrations.CreateModel(
            name="RevenueDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                (
                    "part",
                    models.CharField(
                        choices=[("total", "Total"), ("line", "On invoice lines"), ("off", "On no invoice")],
                        max_length=5,
                    ),
                ),
                ("service_id", models.BigIntegerField(null=True)),
                ("clinician_id", models.BigIntegerField(null=True)),
                ("invoiced", models.DecimalField(decimal_places=12, default=Decimal("0"), max_digits=26)),
                ("credits", models.DecimalField(decimal_places=12, default=Decimal("0"), max_digits=26)),
                ("written_off", models.DecimalField(decimal_places=12, default=Decimal("0"), max_digits=26)),
                ("collected", models.DecimalField(decimal_places=12, default=Decimal("0"), max_digits=26)),
                ("refunds", models.DecimalField(decimal_places=12, default=Decimal("0"), max_digits=26)),
                (
                    "practice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="practice.practice"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["practice", "part", "day"], name="revenueday_practice_part_day")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("practice", "day", "part", "service_id", "clinician_id"),
                        name="revenueday_one_row",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.RunSQL(MARK, UNMARK),
    ]
