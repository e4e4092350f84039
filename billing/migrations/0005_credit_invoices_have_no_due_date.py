from django.db import migrations

# A credit invoice is owed to the client, not by them; issuing used to give it a due date.
CLEAR = "UPDATE billing_invoice SET due_date = NULL WHERE kind = 'credit' AND due_date IS NOT NULL;"


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_ledger_append_only")]

    operations = [migrations.RunSQL(CLEAR, migrations.RunSQL.noop)]
