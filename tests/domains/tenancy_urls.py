"""This app's object URLs for the tenancy matrix (tests/test_tenancy.py).

URL name -> how to build its kwargs for an object of tenant ``t`` (a tests.conftest.Tenant, with
the extra objects that ``prepare(tenant)`` below adds when the app needs some).
"""

OBJECT_URLS = {
    "domains:detail": lambda t: {"pk": t.domain.pk},
    "api:domain-detail": lambda t: {"pk": t.domain.pk},
    "api:domain-renew": lambda t: {"pk": t.domain.pk},
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
    "api:operation-detail": lambda t: {"pk": t.operation.pk},
    "api:operation-retry": lambda t: {"pk": t.operation.pk},
    "api:operation-cancel": lambda t: {"pk": t.operation.pk},
}


def prepare(tenant) -> None:
    """Create, on ``tenant``, the objects these URLs need beyond the shared world fixture."""
    from domains.models import DnssecDs, HostRecord
    from tests.domains.factories import RegistrarOperationFactory

    domain = tenant.domain
    tenant.host = HostRecord.objects.create(
        domain=domain, hostname=f"ns1.{domain.name}", ipv4=["192.0.2.53"]
    )
    tenant.ds = DnssecDs.objects.create(
        domain=domain, key_tag=4242, algorithm=13, digest_type=2, digest="AB" * 32
    )
    tenant.operation = RegistrarOperationFactory(domain=domain, kind="lock", status="failed")
