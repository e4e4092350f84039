import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# A line's clinician is its session's: set by the database from the line's billing item,
# before every insert and every update that sets either column (a line typed by hand has
# neither: nothing to look up), and again on the lines of a session given to
# another clinician or an item moved to another session. Reports read a clinician's share
# of an invoice from these lines alone (the line_clinician_invoice index).
KEEP = """
CREATE FUNCTION billing_line_clinician() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.clinician_id := (
        SELECT ap.clinician_id FROM billing_billingitem b JOIN appointments_appointment ap ON ap.id = b.appointment_id
        WHERE b.id = NEW.billing_item_id
    );
    RETURN NEW;
END $$;

CREATE TRIGGER billing_line_clinician BEFORE INSERT OR UPDATE OF billing_item_id, clinician_id ON billing_invoiceline
    FOR EACH ROW WHEN (NEW.billing_item_id IS NOT NULL OR NEW.clinician_id IS NOT NULL)
    EXECUTE FUNCTION billing_line_clinician();

CREATE FUNCTION billing_lines_of_item_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE billing_invoiceline SET billing_item_id = billing_item_id WHERE billing_item_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER billing_item_session AFTER UPDATE ON billing_billingitem FOR EACH ROW
    WHEN (OLD.appointment_id IS DISTINCT FROM NEW.appointment_id)
    EXECUTE FUNCTION billing_lines_of_item_moved();

CREATE FUNCTION billing_lines_of_session_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE billing_invoiceline l SET billing_item_id = l.billing_item_id
    FROM billing_billingitem b WHERE b.appointment_id = NEW.id AND l.billing_item_id = b.id;
    RETURN NULL;
END $$;

CREATE TRIGGER billing_session_clinician AFTER UPDATE ON appointments_appointment FOR EACH ROW
    WHEN (OLD.clinician_id IS DISTINCT FROM NEW.clinician_id)
    EXECUTE FUNCTION billing_lines_of_session_moved();

UPDATE billing_invoiceline SET clinician_id = NULL WHERE billing_item_id IS NOT NULL;
"""

DROP = """
DROP TRIGGER IF EXISTS billing_session_clinician ON appointments_appointment;
DROP TRIGGER IF EXISTS billing_item_session ON billing_billingitem;
DROP TRIGGER IF EXISTS billing_line_clinician ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_lines_of_session_moved();
DROP FUNCTION IF EXISTS billing_lines_of_item_moved();
DROP FUNCTION IF EXISTS billing_line_clinician();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0019_refund_practice_refunded"),
        ("appointments", "0003_service_procedure_code"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="invoiceline",
            name="clinician",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="invoiceline",
            index=models.Index(
                condition=models.Q(("clinician__isnull", False)),
                fields=["clinician", "invoice"],
                include=["amount"],
                name="line_clinician_invoice",
            ),
        ),
        # The backfill is the trigger's own work: each line with an item is updated once.
        migrations.RunSQL(KEEP, DROP),
    ]
