from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0018_invoice_written_off"),
        ("clients", "0007_autopay_paused"),
        ("practice", "0014_job_runs"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["practice", "refunded_on"], name="refund_practice_refunded"),
        ),
    ]
