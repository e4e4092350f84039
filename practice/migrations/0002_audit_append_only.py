from django.db import migrations

# The audit log is a record: the database itself refuses to change or remove a row,
# whatever code (or admin action, or manual UPDATE) tries.
FORBID = """
CREATE OR REPLACE FUNCTION practica_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER practice_auditlog_append_only
    BEFORE UPDATE OR DELETE ON practice_auditlog
    FOR EACH ROW EXECUTE FUNCTION practica_forbid_change();
"""

ALLOW = """
DROP TRIGGER IF EXISTS practice_auditlog_append_only ON practice_auditlog;
"""


class Migration(migrations.Migration):
    dependencies = [("practice", "0001_initial")]

    operations = [migrations.RunSQL(FORBID, ALLOW)]
