"""RDAP answers for the demo domains of ``manage.py seed_demo`` (what ``make run`` loads)."""

from io import StringIO

import pytest
from django.core.management import call_command

from domains.models import Domain, DomainContact

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def test_the_demo_domains_answer_over_rdap(client, demo):
    okafor = client.get("/rdap/domain/okafor.tech")
    assert okafor.status_code == 200
    assert okafor["Content-Type"] == "application/rdap+json"
    answer = okafor.json()
    assert answer["status"] == ["client transfer prohibited"]
    glue = {ns["ldhName"]: ns.get("ipAddresses") for ns in answer["nameservers"]}
    assert glue == {
        "ns1.okafor.tech": {"v4": ["192.0.2.53"], "v6": ["2001:db8::53"]},
        "ns2.okafor.tech": {"v4": ["192.0.2.54"], "v6": ["2001:db8::54"]},
    }
    assert [e["roles"][0] for e in answer["entities"]] == [
        "registrar",
        "reseller",
        "registrant",
        "administrative",
        "technical",
    ]
    domain = Domain.objects.get(name_puny="okafor.tech")
    registrant = domain.contacts.get(role=DomainContact.Role.REGISTRANT)
    text = okafor.content.decode()
    for value in (registrant.email, registrant.phone, registrant.address_1, registrant.last_name):
        assert value not in text

    magi = client.get("/rdap/domain/magi.ee").json()
    assert magi["secureDNS"]["delegationSigned"] is True
    assert magi["secureDNS"]["dsData"][0]["algorithm"] == 13

    idn = client.get("/rdap/domain/bücher-demo.com").json()
    assert (idn["ldhName"], idn["unicodeName"]) == ("xn--bcher-demo-9db.com", "bücher-demo.com")
    assert idn["status"] == ["client hold"]

    assert client.get("/rdap/nameserver/ns1.okafor.tech").json()["ipAddresses"]["v4"] == [
        "192.0.2.53"
    ]


def test_the_demo_sandbox_and_released_domains_are_not_found(client, demo):
    for name in ("sandbox-demo.com", "bola-old.org", "bola-sold.com"):
        response = client.get(f"/rdap/domain/{name}")
        assert response.status_code == 404, name
        assert response.json()["errorCode"] == 404
