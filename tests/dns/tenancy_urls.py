"""This app's object URLs for the tenancy matrix (tests/test_tenancy.py).

URL name -> how to build its kwargs for an object of tenant ``t`` (a tests.conftest.Tenant, with
the extra objects that ``prepare(tenant)`` below adds when the app needs some). Actions that delete
point at spare objects, so that the owner walking every URL still finds the others.
"""

OBJECT_URLS = {
    # pages
    "dns:zone_detail": lambda t: {"pk": t.zone.pk},
    "dns:zone_status": lambda t: {"pk": t.zone.pk},
    "dns:zone_export": lambda t: {"pk": t.zone.pk},
    "dns:zone_import": lambda t: {"pk": t.zone.pk},
    "dns:zone_history": lambda t: {"pk": t.zone.pk},
    "dns:zone_rollback": lambda t: {"pk": t.zone.pk, "change_pk": t.zone_change.pk},
    "dns:zone_publish": lambda t: {"pk": t.zone.pk},
    "dns:zone_forwarding": lambda t: {"pk": t.zone.pk},
    "dns:zone_dnssec": lambda t: {"pk": t.zone.pk},
    "dns:record_add": lambda t: {"pk": t.zone.pk},
    "dns:record_row": lambda t: {"pk": t.zone.pk, "record_pk": t.record.pk},
    "dns:record_edit": lambda t: {"pk": t.zone.pk, "record_pk": t.record.pk},
    "dns:record_delete": lambda t: {"pk": t.zone.pk, "record_pk": t.spare_record.pk},
    "dns:email_forward_add": lambda t: {"pk": t.zone.pk},
    "dns:email_forward_delete": lambda t: {"pk": t.zone.pk, "forward_pk": t.spare_forward.pk},
    "dns:dnssec_key_delete": lambda t: {"pk": t.zone.pk, "key_pk": t.spare_key.pk},
    "dns:zone_delete": lambda t: {"pk": t.spare_zone.pk},
    "dns:template_edit": lambda t: {"pk": t.zone_template.pk},
    "dns:template_delete": lambda t: {"pk": t.spare_template.pk},
    # native API
    "api:zone-detail": lambda t: {"pk": t.zone.pk},
    "api:zone-export": lambda t: {"pk": t.zone.pk},
    "api:zone-import": lambda t: {"pk": t.zone.pk},
    "api:zone-history": lambda t: {"pk": t.zone.pk},
    "api:zone-rollback": lambda t: {"pk": t.zone.pk},
    "api:zone-publish": lambda t: {"pk": t.zone.pk},
    "api:zone-forwarding": lambda t: {"pk": t.zone.pk},
    "api:zone-record-list": lambda t: {"zone_pk": t.zone.pk},
    "api:zone-record-detail": lambda t: {"zone_pk": t.zone.pk, "pk": t.record.pk},
    "api:zone-email-forward-list": lambda t: {"zone_pk": t.zone.pk},
    "api:zone-email-forward-detail": lambda t: {"zone_pk": t.zone.pk, "pk": t.email_forward.pk},
    "api:zone-dnssec-key-list": lambda t: {"zone_pk": t.zone.pk},
    "api:zone-dnssec-key-detail": lambda t: {"zone_pk": t.zone.pk, "pk": t.dnssec_key.pk},
    "api:zone-template-detail": lambda t: {"pk": t.zone_template.pk},
}

# Zone templates are a reseller's tool: the owning organisation's customers get 404 too.
RESELLER_ONLY = {"dns:template_edit", "dns:template_delete", "api:zone-template-detail"}


def prepare(tenant) -> None:
    """Create, on ``tenant``, the objects these URLs need beyond the shared world fixture."""
    from dns.models import DnssecKey, EmailForward, ZoneChange, ZoneTemplate
    from tests.dns.factories import RecordFactory, ZoneFactory
    from tests.domains.factories import DomainFactory

    zone = tenant.zone
    tenant.zone_change = ZoneChange.objects.create(
        zone=zone, serial=zone.serial, action=ZoneChange.Action.CREATE, summary="created"
    )
    tenant.spare_record = RecordFactory(zone=zone, name="spare", content="192.0.2.99")
    tenant.email_forward = EmailForward.objects.create(
        zone=zone, source="info", destination=f"{tenant.customer.last_name.lower()}@example.org"
    )
    tenant.dnssec_key = DnssecKey.objects.create(
        zone=zone, flags=257, algorithm=13, public_key="AAAA", key_tag=12345, digest="AB" * 32
    )
    tenant.spare_forward = EmailForward.objects.create(
        zone=zone, source="spare", destination="spare@example.org"
    )
    tenant.spare_key = DnssecKey.objects.create(
        zone=zone, flags=256, algorithm=13, public_key="BBBB", key_tag=54321, digest="CD" * 32
    )
    spare_domain = DomainFactory(
        customer=tenant.customer, name=f"spare-{tenant.organisation.slug}.com"
    )
    tenant.spare_zone = ZoneFactory(domain=spare_domain)
    tenant.zone_template = ZoneTemplate.objects.create(
        organisation=tenant.organisation, name="Ours", body="@ A 192.0.2.1"
    )
    tenant.spare_template = ZoneTemplate.objects.create(
        organisation=tenant.organisation, name="Spare", body="@ A 192.0.2.2"
    )
