# Tickets get a mode of their own (a sandbox key never reads or answers a live ticket, the
# organisation's own customer-less tickets included). Existing tickets take the mode of what they
# are about: their customer, else their domain, operation, invoice or order; else live.

from django.db import migrations, models


def mode_from_links(apps, schema_editor):
    Ticket = apps.get_model("support", "Ticket")
    for link in ("customer", "domain", "operation", "invoice", "order"):
        Ticket.objects.filter(**{f"{link}__isnull": False, f"{link}__livemode": False}).update(
            livemode=False
        )


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0003_ticket_staff_only"),
        ("billing", "0002_initial"),
        ("domains", "0007_list_indexes_cover_ids"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="livemode",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(mode_from_links, migrations.RunPython.noop),
    ]
