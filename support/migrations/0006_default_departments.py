"""Every organisation gets its default support department ("Support"), where its customers'
tickets land; new organisations get it when they are made (customers.hooks.organisation_created).
Departments an organisation made itself stay as they are."""

from django.db import migrations


def add_default_departments(apps, schema_editor):
    Organisation = apps.get_model("customers", "Organisation")
    Department = apps.get_model("support", "Department")
    with_departments = set(
        Department.objects.filter(organisation__isnull=False, name="Support").values_list(
            "organisation_id", flat=True
        )
    )
    Department.objects.bulk_create(
        [
            Department(organisation_id=pk, name="Support", is_public=True, position=0)
            for pk in Organisation.objects.values_list("pk", flat=True)
            if pk not in with_departments
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("support", "0005_ticket_escalation"),
    ]

    operations = [migrations.RunPython(add_default_departments, migrations.RunPython.noop)]
