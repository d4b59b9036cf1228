# Sandbox zones live in the database backend only; the data step runs in its own migration
# (its own transaction) before the check constraint that holds it.

from django.db import migrations, models


def sandbox_zones_in_database(apps, schema_editor):
    """Sandbox zones move to the database backend (the new check constraint), and every push
    row learns its zone's mode; a delete push whose zone is gone keeps the live default."""
    Zone = apps.get_model("dns", "Zone")
    ZonePush = apps.get_model("dns", "ZonePush")
    Zone.objects.filter(livemode=False).exclude(backend="database").update(
        backend="database", push_status="published"
    )
    ZonePush.objects.filter(zone__livemode=False).update(livemode=False)


class Migration(migrations.Migration):
    dependencies = [
        ("dns", "0005_zone_enabled_owner_and_sandbox_apart"),
    ]

    operations = [
        migrations.RunPython(sandbox_zones_in_database, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="zone",
            constraint=models.CheckConstraint(
                condition=models.Q(("livemode", True), ("backend", "database"), _connector="OR"),
                name="zone_sandbox_in_database",
            ),
        ),
    ]
