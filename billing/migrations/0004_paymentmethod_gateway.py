from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_billing_accounts_invoicing"),
    ]

    operations = [
        migrations.AddField(
            model_name="paymentmethod",
            name="gateway",
            field=models.CharField(default="bank_transfer", max_length=32),
        ),
    ]
