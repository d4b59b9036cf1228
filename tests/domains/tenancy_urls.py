"""This app's object URLs for the tenancy matrix (tests/test_tenancy.py).

URL name -> how to build its kwargs for an object of tenant ``t`` (a tests.conftest.Tenant, with
the extra objects that ``prepare(tenant)`` below adds when the app needs some).
"""

OBJECT_URLS = {
    "domains:detail": lambda t: {"pk": t.domain.pk},
    "api:domain-detail": lambda t: {"pk": t.domain.pk},
    "api:domain-renew": lambda t: {"pk": t.domain.pk},
    "api:domain-restore": lambda t: {"pk": t.domain.pk},
    "api:domain-nameservers": lambda t: {"pk": t.domain.pk},
    "api:domain-lock": lambda t: {"pk": t.domain.pk},
    "api:domain-privacy": lambda t: {"pk": t.domain.pk},
    "api:domain-autorenew": lambda t: {"pk": t.domain.pk},
    "api:domain-contacts": lambda t: {"pk": t.domain.pk},
    "api:domain-auth-code": lambda t: {"pk": t.domain.pk},
    "api:domain-sync": lambda t: {"pk": t.domain.pk},
    "api:domain-drifts": lambda t: {"pk": t.domain.pk},
    "api:domain-hosts": lambda t: {"pk": t.domain.pk},
    "api:domain-host": lambda t: {"pk": t.domain.pk, "host_id": t.host.pk},
    "api:domain-dnssec": lambda t: {"pk": t.domain.pk},
    "api:domain-dnssec-remove": lambda t: {"pk": t.domain.pk, "ds_id": t.ds.pk},
    "api:domain-transfer-request": lambda t: {"pk": t.domain.pk},
    "api:domain-transfer-request-approve": lambda t: {"pk": t.domain.pk},
    "api:domain-transfer-request-reject": lambda t: {"pk": t.domain.pk},
    "api:domain-transfer-cancel": lambda t: {"pk": t.domain.pk},
    "api:operation-detail": lambda t: {"pk": t.operation.pk},
    "api:operation-retry": lambda t: {"pk": t.operation.pk},
    "api:operation-cancel": lambda t: {"pk": t.operation.pk},
    # the domain page's fragments and actions (POST only; each object through the domain)
    "domains:operations": lambda t: {"pk": t.domain.pk},
    "domains:renew": lambda t: {"pk": t.domain.pk},
    "domains:restore": lambda t: {"pk": t.domain.pk},
    "domains:autorenew": lambda t: {"pk": t.domain.pk},
    "domains:nameservers": lambda t: {"pk": t.domain.pk},
    "domains:lock": lambda t: {"pk": t.domain.pk},
    "domains:privacy": lambda t: {"pk": t.domain.pk},
    "domains:contacts": lambda t: {"pk": t.domain.pk},
    "domains:host_create": lambda t: {"pk": t.domain.pk},
    "domains:host_edit": lambda t: {"pk": t.domain.pk, "host_id": t.ui_host.pk},
    "domains:host_delete": lambda t: {"pk": t.domain.pk, "host_id": t.ui_host.pk},
    "domains:ds_add": lambda t: {"pk": t.domain.pk},
    "domains:ds_delete": lambda t: {"pk": t.domain.pk, "ds_id": t.ui_ds.pk},
    "domains:auth_code": lambda t: {"pk": t.domain.pk},
    "domains:auth_code_reveal": lambda t: {"pk": t.domain.pk},
    "domains:sync": lambda t: {"pk": t.domain.pk},
    "domains:transfer_request_approve": lambda t: {"pk": t.domain.pk},
    "domains:transfer_request_reject": lambda t: {"pk": t.domain.pk},
    "domains:transfer_cancel": lambda t: {"pk": t.domain.pk},
    "domains:drift_accept": lambda t: {"pk": t.domain.pk, "drift_id": t.drift.pk},
    "domains:drift_repush": lambda t: {"pk": t.domain.pk, "drift_id": t.drift.pk},
    "domains:operation_detail": lambda t: {"pk": t.operation.pk},
    "domains:operation_retry": lambda t: {"pk": t.operation.pk},
    "domains:operation_cancel": lambda t: {"pk": t.operation.pk},
}

# The operation page is for those who run the queue (staff and the organisation's members).
RESELLER_ONLY = {"domains:operation_detail"}


def prepare(tenant) -> None:
    """Create, on ``tenant``, the objects these URLs need beyond the shared world fixture."""
    from domains.models import DnssecDs, DomainDrift, HostRecord, TransferRequest
    from tests.domains.factories import RegistrarOperationFactory

    domain = tenant.domain
    tenant.host = HostRecord.objects.create(
        domain=domain, hostname=f"ns1.{domain.name}", ipv4=["192.0.2.53"]
    )
    tenant.ds = DnssecDs.objects.create(
        domain=domain, key_tag=4242, algorithm=13, digest_type=2, digest="AB" * 32
    )
    tenant.operation = RegistrarOperationFactory(domain=domain, kind="lock", status="failed")
    # Separate objects for the UI's delete actions, so the API's deletes do not race them.
    tenant.ui_host = HostRecord.objects.create(
        domain=domain, hostname=f"ns2.{domain.name}", ipv4=["192.0.2.54"]
    )
    tenant.ui_ds = DnssecDs.objects.create(
        domain=domain, key_tag=4343, algorithm=13, digest_type=2, digest="CD" * 32
    )
    tenant.drift = DomainDrift.objects.create(
        domain=domain, field="autorenew", portal_value=True, registry_value=False
    )
    # Another registrar asked for the domain: its request is the customer's to answer.
    tenant.transfer_request = TransferRequest.objects.create(
        domain=domain, gaining_registrar="RivalRegistrar", act_by=domain.expires_at
    )
