from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0017_invoice_creation_run_date"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("written_off__gt", 0)),
                fields=["practice", "written_off_at"],
                name="invoice_written_off",
            ),
        ),
    ]
