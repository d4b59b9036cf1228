# The zones at or under a name (dns.ownership.zones_at_or_under) are a prefix range of the
# reversed names. On PostgreSQL an expression index over REVERSE(name) with text_pattern_ops
# (LIKE 'prefix%' in any collation) makes that an index scan instead of a pass over every zone.
# SQLite has no REVERSE() for an index (Django registers one per connection), and the table there
# is small, so the index is PostgreSQL's only and is kept out of the model state: SQLite's table
# rebuilds would otherwise try to recreate it.

from django.db import migrations

INDEX = "dns_zone_reversed_name"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "dns_zone" ((REVERSE("name")) text_pattern_ops)'
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("dns", "0006_sandbox_zones_in_database"),
    ]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
