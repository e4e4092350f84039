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
# Row triggers, each a few index reads, fire only when a column the figures read changes;
# a draft's lines mark nothing (a draft counts nowhere). The functions are PL/pgSQL, whose
# statements are planned once a session, not once a call.
MARK = """
CREATE FUNCTION reports_mark_invoice(invoice bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    row billing_invoice%ROWTYPE;
BEGIN
    SELECT * INTO row FROM billing_invoice WHERE id = invoice;
    -- A draft counts nowhere and has no payments or refunds on it yet.
    IF NOT FOUND OR row.status = 'draft' THEN
        RETURN;
    END IF;
    INSERT INTO reports_revenuestale (practice_id, day)
    SELECT row.practice_id, d FROM (
        SELECT row.issue_date
        UNION ALL
        SELECT (row.written_off_at AT TIME ZONE 'UTC')::date + shift FROM generate_series(-1, 1) shift
        UNION ALL
        SELECT p.received_on
        FROM billing_paymentallocation a JOIN billing_payment p ON p.id = a.payment_id WHERE a.invoice_id = invoice
        UNION ALL
        SELECT r.refunded_on
        FROM billing_refundallocation ra JOIN billing_refund r ON r.id = ra.refund_id WHERE ra.invoice_id = invoice
    ) days(d)
    WHERE d IS NOT NULL;
END $$;

CREATE FUNCTION reports_invoice_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO reports_revenuestale (practice_id, day)
        SELECT OLD.practice_id, d FROM (
            SELECT OLD.issue_date
            UNION ALL
            SELECT (OLD.written_off_at AT TIME ZONE 'UTC')::date + shift FROM generate_series(-1, 1) shift
        ) days(d) WHERE d IS NOT NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM reports_mark_invoice(NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_invoice_inserted AFTER INSERT ON billing_invoice FOR EACH ROW
    WHEN (NEW.issue_date IS NOT NULL OR NEW.written_off_at IS NOT NULL)
    EXECUTE FUNCTION reports_invoice_changed();
CREATE TRIGGER reports_invoice_updated AFTER UPDATE ON billing_invoice FOR EACH ROW
    WHEN ((OLD.practice_id, OLD.kind, OLD.status, OLD.total, OLD.issue_date, OLD.written_off, OLD.written_off_at)
          IS DISTINCT FROM (NEW.practice_id, NEW.kind, NEW.status, NEW.total, NEW.issue_date, NEW.written_off,
                            NEW.written_off_at))
    EXECUTE FUNCTION reports_invoice_changed();
CREATE TRIGGER reports_invoice_deleted AFTER DELETE ON billing_invoice FOR EACH ROW
    EXECUTE FUNCTION reports_invoice_changed();

CREATE FUNCTION reports_line_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM reports_mark_invoice(OLD.invoice_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.invoice_id <> OLD.invoice_id) THEN
        PERFORM reports_mark_invoice(NEW.invoice_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_line_inserted AFTER INSERT OR DELETE ON billing_invoiceline FOR EACH ROW
    EXECUTE FUNCTION reports_line_changed();
CREATE TRIGGER reports_line_updated AFTER UPDATE ON billing_invoiceline FOR EACH ROW
    WHEN ((OLD.invoice_id, OLD.amount, OLD.service_id, OLD.clinician_id)
          IS DISTINCT FROM (NEW.invoice_id, NEW.amount, NEW.service_id, NEW.clinician_id))
    EXECUTE FUNCTION reports_line_changed();

CREATE FUNCTION reports_payment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO reports_revenuestale (practice_id, day) VALUES (OLD.practice_id, OLD.received_on);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reports_revenuestale (practice_id, day) VALUES (NEW.practice_id, NEW.received_on);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_payment_inserted AFTER INSERT OR DELETE ON billing_payment FOR EACH ROW
    EXECUTE FUNCTION reports_payment_changed();
CREATE TRIGGER reports_payment_updated AFTER UPDATE ON billing_payment FOR EACH ROW
    WHEN ((OLD.practice_id, OLD.status, OLD.received_on, OLD.amount, OLD.credited)
          IS DISTINCT FROM (NEW.practice_id, NEW.status, NEW.received_on, NEW.amount, NEW.credited))
    EXECUTE FUNCTION reports_payment_changed();

CREATE FUNCTION reports_allocation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO reports_revenuestale (practice_id, day)
        SELECT p.practice_id, p.received_on FROM billing_payment p WHERE p.id = OLD.payment_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reports_revenuestale (practice_id, day)
        SELECT p.practice_id, p.received_on FROM billing_payment p WHERE p.id = NEW.payment_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_allocation_inserted AFTER INSERT OR DELETE ON billing_paymentallocation FOR EACH ROW
    EXECUTE FUNCTION reports_allocation_changed();
CREATE TRIGGER reports_allocation_updated AFTER UPDATE ON billing_paymentallocation FOR EACH ROW
    WHEN ((OLD.payment_id, OLD.invoice_id, OLD.amount) IS DISTINCT FROM (NEW.payment_id, NEW.invoice_id, NEW.amount))
    EXECUTE FUNCTION reports_allocation_changed();

CREATE FUNCTION reports_refund_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO reports_revenuestale (practice_id, day) VALUES (OLD.practice_id, OLD.refunded_on);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reports_revenuestale (practice_id, day) VALUES (NEW.practice_id, NEW.refunded_on);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_refund_inserted AFTER INSERT OR DELETE ON billing_refund FOR EACH ROW
    EXECUTE FUNCTION reports_refund_changed();
CREATE TRIGGER reports_refund_updated AFTER UPDATE ON billing_refund FOR EACH ROW
    WHEN ((OLD.practice_id, OLD.refunded_on, OLD.amount, OLD.from_credit)
          IS DISTINCT FROM (NEW.practice_id, NEW.refunded_on, NEW.amount, NEW.from_credit))
    EXECUTE FUNCTION reports_refund_changed();

CREATE FUNCTION reports_refund_allocation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO reports_revenuestale (practice_id, day)
        SELECT r.practice_id, r.refunded_on FROM billing_refund r WHERE r.id = OLD.refund_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO reports_revenuestale (practice_id, day)
        SELECT r.practice_id, r.refunded_on FROM billing_refund r WHERE r.id = NEW.refund_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER reports_refund_allocation_inserted AFTER INSERT OR DELETE ON billing_refundallocation FOR EACH ROW
    EXECUTE FUNCTION reports_refund_allocation_changed();
CREATE TRIGGER reports_refund_allocation_updated AFTER UPDATE ON billing_refundallocation FOR EACH ROW
    WHEN ((OLD.refund_id, OLD.invoice_id, OLD.amount) IS DISTINCT FROM (NEW.refund_id, NEW.invoice_id, NEW.amount))
    EXECUTE FUNCTION reports_refund_allocation_changed();

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

UNMARK = """
DROP TRIGGER IF EXISTS reports_practice_timezone ON practice_practice;
DROP TRIGGER IF EXISTS reports_refund_allocation_inserted ON billing_refundallocation;
DROP TRIGGER IF EXISTS reports_refund_allocation_updated ON billing_refundallocation;
DROP TRIGGER IF EXISTS reports_refund_inserted ON billing_refund;
DROP TRIGGER IF EXISTS reports_refund_updated ON billing_refund;
DROP TRIGGER IF EXISTS reports_allocation_inserted ON billing_paymentallocation;
DROP TRIGGER IF EXISTS reports_allocation_updated ON billing_paymentallocation;
DROP TRIGGER IF EXISTS reports_payment_inserted ON billing_payment;
DROP TRIGGER IF EXISTS reports_payment_updated ON billing_payment;
DROP TRIGGER IF EXISTS reports_line_inserted ON billing_invoiceline;
DROP TRIGGER IF EXISTS reports_line_updated ON billing_invoiceline;
DROP TRIGGER IF EXISTS reports_invoice_inserted ON billing_invoice;
DROP TRIGGER IF EXISTS reports_invoice_updated ON billing_invoice;
DROP TRIGGER IF EXISTS reports_invoice_deleted ON billing_invoice;
DROP FUNCTION IF EXISTS reports_practice_moved();
DROP FUNCTION IF EXISTS reports_refund_allocation_changed();
DROP FUNCTION IF EXISTS reports_refund_changed();
DROP FUNCTION IF EXISTS reports_allocation_changed();
DROP FUNCTION IF EXISTS reports_payment_changed();
DROP FUNCTION IF EXISTS reports_line_changed();
DROP FUNCTION IF EXISTS reports_invoice_changed();
DROP FUNCTION IF EXISTS reports_mark_invoice(bigint);
"""


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
