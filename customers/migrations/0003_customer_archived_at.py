from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0002_billing_accounts_invoicing"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="archived_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
