from django.db import migrations

# The ledger is the record of every movement of money: the database refuses to change or
# remove a row (the function is the audit log's, from practice 0002).
FORBID = """
CREATE TRIGGER billing_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON billing_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION practica_forbid_change();
"""

ALLOW = "DROP TRIGGER IF EXISTS billing_ledgerentry_append_only ON billing_ledgerentry;"


class Migration(migrations.Migration):
    dependencies = [("billing", "0003_invoices_payments_ledger_packages"), ("practice", "0002_audit_append_only")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
