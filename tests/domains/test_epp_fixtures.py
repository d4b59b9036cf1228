"""The EPP client reads what a production registry sends: every response of Nomulus (Google's
open-source registry) in ``../shared/epp-fixtures/nomulus/`` goes through the response layer
(domains/registrars/epp_responses.py).

For each file: its placeholders are filled with values of the right type, the parser that applies
is chosen by what the document is (greeting, error, poll, check, info, create, renew, transfer,
fee-only answer, plain result), and what it extracts is checked: the result code, the clTRID (or
its absence), the names the file holds; exact values for a representative set below. Files the
client does not read are in IGNORED with the reason; the test fails when one of them becomes
readable or a file nobody reviewed appears. The filled-in files that the README says validate are
validated against ``../shared/epp-xsd/epp-all.xsd`` (a check of the filling).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from domains.registrars import epp_responses as r
from domains.registrars.base import (
    CheckResult,
    DsData,
    Greeting,
    HostInfo,
    NotFoundError,
    PermanentError,
    PollMessage,
    RegistrarError,
    TransferInfo,
)

SHARED = Path(__file__).resolve().parents[3] / "shared"
FIXTURES = SHARED / "epp-fixtures" / "nomulus"
XSD = SHARED / "epp-xsd" / "epp-all.xsd"

if not FIXTURES.is_dir():
    pytest.skip(
        f"The Nomulus EPP responses are not at {FIXTURES} (the shared epp-fixtures checkout)",
        allow_module_level=True,
    )

FILES = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*.xml"))
REVIEWED_COUNT = 262  # the README's count: a new file fails test_every_file_was_reviewed

# --- placeholders ---------------------------------------------------------------------------------
CRDATE = "2025-04-03T22:00:00.0Z"
EXDATE = "2027-04-03T22:00:00.0Z"
UPDATE = "2026-01-05T10:00:00.0Z"
TRDATE = "2026-02-01T09:00:00.0Z"
REDATE = "2026-03-28T22:00:00.0Z"
ACDATE = "2026-04-02T22:00:00.0Z"
QDATE = "2026-04-03T22:00:00.0Z"
VALUES = {
    "%ROID%": "2FE-ROID",
    "%DATE%": "2026-04-03T22:00:00.0Z",
    "%CRDATE%": CRDATE,
    "%CREATE_TIME%": CRDATE,
    "%EXDATE%": EXDATE,
    "%EX_DATE%": EXDATE,
    "%EXPIRATION_TIME%": EXDATE,
    "%UPDATE%": UPDATE,
    "%TRDATE%": TRDATE,
    "%REDATE%": REDATE,
    "%ACDATE%": ACDATE,
    "%QDATE%": QDATE,
    "%DOMAIN%": "example.tld",
    "%NAME%": "example.tld",
    "%HOSTNAME%": "ns1.example.tld",
    "%FEE_NS%": "fee",
    "%FEE_VERSION%": "epp:fee-1.0",  # urn:ietf:params:xml:ns:%FEE_VERSION%: RFC 8748
    "%CURRENCY%": "USD",
    "%FEE%": "26.00",
    "%RENEWPRICE%": "11.00",
    "%COST_1YR%": "13.00",
    "%COST_2YR%": "26.00",
    "%COST_5YR%": "65.00",
    "%FEE_CLASS%": "<fee:class>STANDARD PROMOTION</fee:class>",  # an element, or nothing
    "%CODE%": "2303",
    "%MSG%": "The domain with given ID (unknown.tld) doesn't exist.",
    "%ID%": "7-2026",
    "%MSGID%": "7-2026",
    "%COUNT%": "4",
    "%STATUS%": "redemptionPeriod",  # an rgpStatus, except in the transfer query (OVERRIDES)
    "%RGPSTATUS%": "addPeriod",
    "%GRACEPERIOD%": "autoRenewPeriod",
    "%COMMAND%": "renew",
    "%PERIOD%": "1",
    "%DESCRIPTION%": "renew",
    "%SERVER_TRID%": "server-trid-2",
}
OVERRIDES = {"domain_transfer_query_response_wildcard.xml": {"%STATUS%": "clientApproved"}}
_PLACEHOLDER = re.compile(r"%[A-Z][A-Z0-9_]*%")


def filled(name: str) -> bytes:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    values = {**VALUES, **OVERRIDES.get(name, {})}
    text = _PLACEHOLDER.sub(lambda m: values.get(m.group(0), m.group(0)), text)
    # Five files write the roid their test does not compare as the word IGNORED.
    text = text.replace(
        "<domain:roid>IGNORED</domain:roid>", f"<domain:roid>{VALUES['%ROID%']}</domain:roid>"
    )
    return text.encode()


# --- what is ignored, and why ---------------------------------------------------------------------
LAUNCH_CLAIMS = (
    "a launch-1.0 claims check (launch:chkData only, no domain:chkData): Nameport does not "
    "support the launch phases (sunrise, claims)"
)
IGNORED = {
    "domain/domain_check_claims_response.xml": LAUNCH_CLAIMS,
    "domain/domain_check_claims_response_multiple_tlds.xml": LAUNCH_CLAIMS,
    "domain/domain_check_claims_response_none.xml": LAUNCH_CLAIMS,
}
# Files whose fee data is in an older draft of the fee extension (fee-0.6, 0.11, 0.12) are read,
# but that data is ignored (no quotes, no charge), as for a registry without fee-1.0.
FEE_DRAFTS = "urn:ietf:params:xml:ns:fee-0."
# Not validated against epp-all.xsd: namespaces it has no schema for.
NO_SCHEMA = {
    "urn:ietf:params:xml:ns:launch-1.0": "launch-1.0",
    "urn:google:params:xml:ns:bulkToken-1.0": "bulkToken-1.0",
    "urn:ietf:params:xml:ns:fee-0.6": "fee-0.6",
    "urn:ietf:params:xml:ns:fee-0.11": "fee-0.11",
    "urn:ietf:params:xml:ns:fee-0.12": "fee-0.12",
}


# --- which parser applies -------------------------------------------------------------------------
def understand(data: bytes) -> tuple[str, object]:
    """(kind, what the response layer read), chosen by what the document is."""
    root = r.document(data)
    if root.find(f"{{{r.EPP}}}greeting") is not None:
        return "greeting", r.parse_greeting(data)
    response = r.parse_response(data)
    if not response.succeeded:
        return "error", r.error_for(response)
    element = root.find(f"{{{r.EPP}}}response")
    res = element.find(f"{{{r.EPP}}}resData")
    first = res[0].tag if res is not None and len(res) else None
    if response.code in (1300, 1301) or response.queue is not None:
        return "poll", r.parse_poll(data)
    readers = {
        f"{{{r.DOMAIN}}}chkData": ("domain check", r.parse_domain_check),
        f"{{{r.HOST}}}chkData": ("host check", r.parse_host_check),
        f"{{{r.DOMAIN}}}infData": ("domain info", r.parse_domain_info),
        f"{{{r.HOST}}}infData": ("host info", r.parse_host_info),
        f"{{{r.DOMAIN}}}creData": ("domain create", r.parse_domain_create),
        f"{{{r.HOST}}}creData": ("host create", r.parse_host_create),
        f"{{{r.DOMAIN}}}renData": ("domain renew", r.parse_domain_renew),
        f"{{{r.DOMAIN}}}trnData": ("domain transfer", r.parse_domain_transfer),
    }
    if first in readers:
        kind, reader = readers[first]
        return kind, reader(data)
    if first is not None:
        return "unknown", first
    extension = element.find(f"{{{r.EPP}}}extension")
    fee_tags = (f"{{{r.FEE}}}", f"{{{FEE_DRAFTS}")
    if extension is not None and any(e.tag.startswith(fee_tags) for e in extension):
        return "fee", r.parse_fee_charge(data)
    if extension is not None:
        return "unknown", [e.tag for e in extension]
    return "result", response


NS = {
    "epp": r.EPP,
    "domain": r.DOMAIN,
    "host": r.HOST,
    "rgp": r.RGP,
    "secDNS": r.SECDNS,
    "fee": r.FEE,
}


def xp(data: bytes, path: str) -> list[str]:
    """What the file holds at ``path`` (lxml XPath, texts stripped), to compare with the reader."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    found = etree.fromstring(data, parser).xpath(path, namespaces=NS)
    return [f.strip() if isinstance(f, str) else (f.text or "").strip() for f in found]


# --- every file -----------------------------------------------------------------------------------
def test_every_file_was_reviewed():
    assert len(FILES) == REVIEWED_COUNT, "new or removed fixtures: review them, then the count"
    assert set(IGNORED) <= set(FILES)
    leftovers = {n: _PLACEHOLDER.findall(filled(n).decode()) for n in FILES}
    assert {n: found for n, found in leftovers.items() if found} == {}


@pytest.mark.parametrize("name", [n for n in FILES if n not in IGNORED])
def test_the_client_reads_it(name):
    data = filled(name)
    text = data.decode()
    kind, value = understand(data)
    assert kind != "unknown", f"{name}: no reader for {value}"

    if kind == "greeting":
        assert isinstance(value, Greeting)
        assert value.server_id and r.DOMAIN in value.objects
        return

    response = r.parse_response(data)
    codes = [int(c) for c in re.findall(r'<result code="(\d{4})"', text)]
    assert [res.code for res in response.results] == codes
    trid = re.search(r"<clTRID>([^<]*)</clTRID>", text.split("<trID>")[-1])
    assert response.cl_trid == (trid.group(1) if trid else "")
    assert response.sv_trid

    fee_1_0 = bool(xp(data, "//fee:*"))  # fee-1.0 elements, whatever their prefix
    if kind == "error":
        assert isinstance(value, RegistrarError) and value.code == codes[0]
        assert response.message and response.message in value.message
    elif kind == "domain check":
        assert [c.name for c in value] == xp(data, "//domain:cd/domain:name")
        assert all(isinstance(c, CheckResult) for c in value)
        for check in value:
            if not fee_1_0:
                assert (check.fees, check.premium, check.price) == ([], False, None)
                continue
            objects = xp(data, "//fee:objID")
            assert bool(check.fees) == (check.name in objects)
            for quote in check.fees:
                assert quote.currency == "USD"
                assert quote.amount is None or quote.amount == sum(f.amount for f in quote.fees)
            assert check.premium == any(r.is_premium_class(q.fee_class) for q in check.fees)
        assert all(c.reason == "" for c in value if c.available)
        assert all(c.reason and c.detail for c in value if not c.available)
    elif kind == "host check":
        assert [c.name for c in value] == xp(data, "//host:cd/host:name")
    elif kind == "domain info":
        info = value.info
        assert info.name == xp(data, "//epp:resData//domain:name")[0]
        assert [info.reference] == xp(data, "//domain:roid")
        assert info.statuses == xp(data, "//domain:status/@s")
        assert info.rgp_statuses == xp(data, "//rgp:rgpStatus/@s")
        assert info.nameservers == xp(data, "//domain:hostObj")
        assert info.hosts == xp(data, "//domain:infData/domain:host")
        assert [info.sponsor] == xp(data, "//domain:clID")
        assert info.registered_at is not None and info.registered_at.tzinfo is UTC
        assert (info.expires_at is None) == ("<domain:exDate>" not in text)
        assert len(info.ds_records) == len(xp(data, "//secDNS:dsData"))
        assert bool(value.auth_code) == ("<domain:pw>" in text)
        assert value.auth_code not in repr(value) or not value.auth_code
        roles = xp(data, "//domain:contact/@type") + ["registrant"] * bool(
            xp(data, "//domain:registrant")
        )
        assert sorted(value.contacts) == sorted(set(roles))
        assert sum(len(v) for v in value.contacts.values()) == len(roles)
    elif kind == "host info":
        assert isinstance(value, HostInfo)
        assert [value.hostname] == [n.lower() for n in xp(data, "//host:name")]
        assert value.statuses == xp(data, "//host:status/@s")
        assert value.ipv4 == xp(data, "//host:addr[not(@ip='v6')]")
        assert value.ipv6 == xp(data, "//host:addr[@ip='v6']")
        assert value.sponsor
    elif kind in ("domain create", "domain renew"):
        assert value.name == xp(data, "//epp:resData//domain:name")[0]
        assert value.expires_at is not None
        if kind == "domain create":
            assert value.registered_at is not None
        assert (value.fee is not None) == fee_1_0
    elif kind == "host create":
        assert [value.hostname] == xp(data, "//host:name")
        assert value.registered_at is not None
    elif kind == "domain transfer":
        assert isinstance(value, TransferInfo)
        assert value.name == xp(data, "//epp:resData//domain:name")[0]
        assert [value.status] == xp(data, "//domain:trStatus")
        assert value.pending == (value.status == "pending")
        assert value.pending or response.code == 1000
        assert value.requested_by and value.action_by
        assert value.requested_at is not None and value.action_at is not None
        assert (value.fee is not None) == fee_1_0
    elif kind == "poll":
        if response.code == 1301:
            assert isinstance(value, PollMessage)
            assert value.id == response.queue.id and value.count == response.queue.count
            assert value.queued_at is not None and value.message
            in_res = xp(data, "//epp:resData/*/domain:name | //epp:resData/*/host:name")
            assert value.name == (in_res[0].lower() if in_res else value.name)
            assert value.kind != "notice" or "resData" not in text
        else:
            assert value is None
    elif kind == "fee":
        assert (value is not None) == fee_1_0
        if value is not None:
            assert value.currency == "USD"
            assert value.amount == sum((f.amount for f in value.fees), Decimal(0))
            assert value.credit == sum((c.amount for c in value.credits), Decimal(0))
    else:
        assert kind == "result" and value.succeeded


@pytest.mark.parametrize("name", sorted(IGNORED))
def test_an_ignored_file_is_still_not_read(name):
    """The reason in IGNORED still holds: the client reads nothing from it, and does not crash."""
    data = filled(name)
    response = r.parse_response(data)  # the envelope is fine
    assert response.succeeded
    with pytest.raises(r.MalformedResponseError):
        r.parse_domain_check(data)


# --- the schema check of the filling --------------------------------------------------------------
def _validated() -> list[str]:
    chosen = []
    for name in FILES:
        if re.search(r"_v(06|11|12)", name):
            continue  # the README: only files without a fee version, and stdv1 ones, validate
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        root = etree.fromstring(filled(name), parser)
        used = {etree.QName(e).namespace for e in root.iter() if isinstance(e.tag, str)}
        if used & set(NO_SCHEMA):
            continue  # elements of a namespace epp-all.xsd has no schema for
        chosen.append(name)
    return chosen


VALIDATED = _validated()


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not XSD.exists():
        pytest.skip(f"The EPP schemas are not at {XSD.parent}")
    return etree.XMLSchema(etree.parse(str(XSD)))


def test_at_least_the_110_files_of_the_readme_are_validated():
    assert len(VALIDATED) >= 110, len(VALIDATED)


@pytest.mark.parametrize("name", VALIDATED)
def test_the_filled_file_is_valid_epp(name, schema):
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    doc = etree.fromstring(filled(name), parser)
    if not schema.validate(doc):
        raise AssertionError(f"{name}: {schema.error_log.last_error}")


# --- exact values, for a representative set -------------------------------------------------------
def at(text: str) -> datetime:
    return r.parse_time(text)


def read(name: str):
    return understand(filled(name))[1]


def test_the_greeting_offers_fee_1_0_beside_its_drafts():
    greeting = read("greeting.xml")
    assert greeting.server_id == "Nomulus Registry"
    assert greeting.server_date == datetime(2026, 4, 3, 22, tzinfo=UTC)
    assert greeting.versions == ["1.0"] and greeting.languages == ["en"]
    assert greeting.objects == [r.HOST, r.DOMAIN]
    assert greeting.fee is True
    assert greeting.fee_drafts == [f"urn:ietf:params:xml:ns:fee-0.{v}" for v in (6, 11, 12)]
    assert greeting.offers(r.SECDNS) and greeting.offers(r.RGP) and greeting.offers(r.LAUNCH)
    assert read("session/greeting.xml") == greeting


def test_a_greeting_with_only_fee_drafts_has_no_fee_extension():
    text = (
        filled("greeting.xml")
        .decode()
        .replace("<extURI>urn:ietf:params:xml:ns:epp:fee-1.0</extURI>", "")
    )
    greeting = r.parse_greeting(text)
    assert greeting.fee is False and len(greeting.fee_drafts) == 3


def test_a_premium_check_with_fee_1_0_gives_premium_and_the_registry_price():
    [rich] = read("domain/domain_check_fee_premium_response_stdv1.xml")
    assert (rich.name, rich.available, rich.reason) == ("rich.example", True, "")
    assert rich.premium is True and rich.fee_class == "premium"
    assert (rich.price, rich.currency) == (Decimal("100.00"), "USD")
    amounts = {q.command: (q.amount, q.fee_class, q.years) for q in rich.fees}
    assert amounts == {
        "create": (Decimal("100.00"), "premium", 1),
        "renew": (Decimal("100.00"), "premium", 1),
        "transfer": (Decimal("100.00"), "premium", 1),
        "restore": (Decimal("17.00"), "standard", 1),
        "update": (Decimal("0.00"), "standard", 1),
    }
    assert rich.fee("restore").premium is False
    assert rich.fee("create").fees[0].description == "create"


def test_a_standard_name_is_not_premium_and_fractions_stay_exact():
    [name] = read("domain/domain_check_fee_fractional_response_stdv1.xml")
    assert (name.premium, name.price, name.fee_class) == (False, Decimal("11.10"), "standard")


def test_an_existing_premium_name_says_why_it_is_not_available():
    [rich] = read("domain/domain_check_fee_response_domain_exists_stdv1.xml")
    assert (rich.available, rich.reason, rich.detail) == (False, "registered", "In use")
    assert rich.premium is True and rich.price == Decimal("100.00")
    assert rich.fee("renew").amount == Decimal("11.00")  # %RENEWPRICE%, a standard renewal


def test_reserved_names_have_no_create_price_and_a_reserved_class():
    checks = {c.name: c for c in read("domain/domain_check_fee_reserved_response_stdv1.xml")}
    reserved = checks["reserved.tld"]
    assert (reserved.available, reserved.reason, reserved.detail) == (False, "reserved", "Reserved")
    create = reserved.fee("create")
    assert (create.amount, create.fee_class, create.premium) == (None, "reserved", False)
    assert reserved.price is None and reserved.premium is False
    assert reserved.fee("renew").amount == Decimal("11.00")
    collision = checks["premiumcollision.tld"]
    assert collision.detail == "Cannot be delegated" and collision.reason == "registered"
    assert collision.premium is True  # premium renewals; not available to create anyway


def test_a_fee_draft_check_is_read_without_its_fees():
    [rich] = read("domain/domain_check_fee_premium_response_v06.xml")
    assert (rich.name, rich.available) == ("rich.example", True)
    assert (rich.fees, rich.premium, rich.price) == ([], False, None)


def test_an_early_access_check_adds_the_fees_of_a_command():
    checks = {c.name: c for c in read("domain/domain_check_eap_fee_response_stdv1.xml")}
    create = checks["example1.tld"].fee("create")
    assert len(create.fees) == 2
    assert create.amount == sum(f.amount for f in create.fees)
    assert create.fees[1].description.startswith("Early Access Period")


def test_an_info_in_redemption_gives_the_rgp_status_and_everything_else():
    reply = read("domain/domain_info_response_redemptionperiod.xml")
    info = reply.info
    assert (info.name, info.reference) == ("example.tld", "2FE-ROID")
    assert info.statuses == ["pendingDelete"] and info.rgp_statuses == ["redemptionPeriod"]
    assert info.nameservers == ["ns1.example.tld", "ns1.example.net"]
    assert info.hosts == ["ns1.example.tld", "ns2.example.tld"]
    assert info.sponsor == "NewRegistrar"
    assert info.registered_at == at("1999-04-03T22:00:00.0Z")
    assert info.updated_at == at("1999-12-03T09:00:00.0Z")
    assert info.expires_at == datetime(2005, 4, 3, 22, tzinfo=UTC)
    assert info.transferred_at == at("2000-04-08T09:00:00.0Z")
    assert info.locked is False
    assert reply.auth_code == "2fooBAR" and "2fooBAR" not in repr(reply)
    assert reply.contacts == {}  # this answer names no contacts
    full = read("domain_info_response.xml")
    assert full.contacts == {"registrant": ["jd1234"], "admin": ["sh8013"], "tech": ["sh8013"]}
    assert (full.info.name, full.info.reference) == ("example.com", "EXAMPLE1-REP")


@pytest.mark.parametrize(
    ("name", "rgp"),
    [
        ("domain/domain_info_response_addperiod.xml", ["addPeriod"]),
        ("domain/domain_info_response_autorenewperiod.xml", ["autoRenewPeriod"]),
        ("domain/domain_info_response_renewperiod.xml", ["renewPeriod"]),
        ("domain/domain_info_response_transferperiod.xml", ["transferPeriod"]),
        ("domain/domain_info_response_pendingdelete.xml", ["pendingDelete"]),
        ("domain/domain_info_response_stackedaddrenewperiod.xml", ["addPeriod", "renewPeriod"]),
        ("domain/domain_info_response.xml", []),
    ],
)
def test_each_grace_period_is_read(name, rgp):
    assert read(name).info.rgp_statuses == rgp


def test_epp_statuses_of_every_state():
    assert read("domain_info_response_fakesite_pending_transfer.xml").info.statuses == [
        "pendingTransfer"
    ]
    assert read("domain_info_response_fakesite_inactive.xml").info.statuses == ["inactive"]
    assert read("domain_info_response_fakesite_ok.xml").info.statuses == ["ok"]
    pending_delete = read("domain_info_response_fakesite_pending_delete.xml").info
    assert pending_delete.statuses == ["pendingDelete"]
    assert pending_delete.rgp_statuses == ["redemptionPeriod"]


def test_ds_records_and_an_answer_without_clTRID():
    info = read("domain/domain_info_response_dsdata.xml").info
    assert info.ds_records == [
        DsData(12345, 8, 2, "D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A")
    ]
    data = filled("domain/domain_info_response_no_cltrid.xml")
    assert r.parse_response(data).cl_trid == ""
    assert r.parse_domain_info(data).info.name == "example.tld"


def test_an_info_without_authinfo_or_hosts():
    reply = read("domain/domain_info_response_unauthorized.xml")
    assert reply.auth_code == "" and reply.info.hosts == []
    assert reply.info.registered_at == datetime(1999, 4, 3, 22, tzinfo=UTC)
    assert reply.info.sponsor == "NewRegistrar"
    assert read("domain/domain_info_response.xml").auth_code == "2fooBAR"


def test_a_create_with_an_early_access_fee_reports_what_it_cost():
    created = read("domain/domain_create_response_eap_fee.xml")
    assert created.name == "example.tld"
    assert created.registered_at == at("1999-04-03T22:00:00.0Z")
    assert created.expires_at == at("2001-04-03T22:00:00.0Z")
    fee = created.fee
    assert (fee.currency, fee.amount, fee.credit) == ("USD", Decimal("124.00"), Decimal(0))
    assert [f.amount for f in fee.fees] == [Decimal("24.00"), Decimal("100.00")]


def test_a_renew_with_a_fee():
    renewed = read("domain/domain_renew_response_fee.xml")
    assert (renewed.name, renewed.expires_at) == ("example.tld", at(EXDATE))
    assert (renewed.fee.amount, renewed.fee.currency) == (Decimal("26.00"), "USD")


def test_a_transfer_request_is_pending_with_its_dates_and_fees():
    transfer = read("domain/domain_transfer_request_response_fees.xml")
    assert (transfer.name, transfer.status, transfer.pending) == ("example.tld", "pending", True)
    assert (transfer.requested_by, transfer.action_by) == ("NewRegistrar", "TheRegistrar")
    assert transfer.requested_at == at("2000-06-09T22:00:00.0Z")
    assert transfer.action_at == at("2000-06-14T22:00:00.0Z")
    assert transfer.expires_at == at(EXDATE)
    assert transfer.fee.amount == Decimal("111.00")


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("domain/domain_transfer_query_response.xml", "pending"),
        ("domain/domain_transfer_query_response_client_approved.xml", "clientApproved"),
        ("domain/domain_transfer_query_response_client_rejected.xml", "clientRejected"),
        ("domain/domain_transfer_query_response_client_cancelled.xml", "clientCancelled"),
        ("domain/domain_transfer_query_response_server_approved.xml", "serverApproved"),
        ("domain/domain_transfer_query_response_server_cancelled.xml", "serverCancelled"),
        ("domain/domain_transfer_approve_response.xml", "clientApproved"),
        ("domain/domain_transfer_reject_response.xml", "clientRejected"),
        ("domain/domain_transfer_cancel_response.xml", "clientCancelled"),
    ],
)
def test_transfer_query_approve_reject_cancel(name, status):
    transfer = read(name)
    assert transfer.status == status
    assert transfer.approved == (status in ("clientApproved", "serverApproved"))


def test_delete_and_restore_answers():
    pending = filled("domain/domain_delete_response_autorenew_fee.xml")
    assert r.parse_response(pending).pending is True
    refund = r.parse_fee_charge(pending)
    assert (refund.amount, refund.credit) == (Decimal(0), Decimal("-11.00"))
    assert refund.credits[0].description == "autoRenewPeriod credit"
    done = filled("domain/domain_delete_response_fee.xml")
    assert r.parse_response(done).code == 1000
    restored = r.parse_fee_charge(
        filled("domain/domain_update_restore_request_response_premium.xml")
    )
    assert restored.amount == Decimal("117.00")
    assert [f.description for f in restored.fees] == ["restore", "renew"]
    assert (
        r.parse_fee_charge(filled("domain/domain_delete_response_fee_free_grace_v12.xml")) is None
    )


def test_a_poll_transfer_request_gives_the_name_and_pending():
    message = read("poll_response_domain_transfer_request.xml")
    assert (message.kind, message.name) == ("transfer", "fakesite.example")
    assert (message.id, message.count) == ("7-2026", 1)
    assert message.queued_at == datetime(2001, 1, 1, tzinfo=UTC)
    assert message.message == "Transfer requested."
    assert message.transfer.status == "pending" and message.transfer.pending
    assert message.transfer.requested_by == "TheRegistrar"
    assert message.transfer.action_at == datetime(2001, 1, 6, tzinfo=UTC)


def test_a_poll_auto_approval_to_the_winner_carries_the_pending_action_result():
    message = read("poll_response_domain_transfer_server_approve_winner.xml")
    assert message.kind == "transfer" and message.transfer.status == "serverApproved"
    action = message.pending_action
    assert (action.name, action.succeeded) == ("fakesite.example", True)
    assert (action.cl_trid, action.sv_trid) == ("ABC-12345", "server-trid-2")
    assert action.acted_at == datetime(2001, 1, 1, tzinfo=UTC)
    loser = read("poll_response_domain_transfer_server_approve_loser.xml")
    assert loser.transfer.status == "serverApproved" and loser.pending_action is None


def test_poll_pending_action_server_hold_and_auto_renewal():
    hold = read("poll_response_server_hold.xml")
    assert (hold.kind, hold.name, hold.id) == ("pending_action", "example.tld", "12-2000")
    assert hold.message == "The registry administrator has added the status(es) [serverHold]."
    deleted = read("poll/poll_response_domain_pending_notification.xml")
    assert deleted.pending_action.succeeded and deleted.message == "Domain deleted."
    renewal = read("poll/poll_response_autorenew.xml")
    assert (renewal.kind, renewal.name) == ("renewal", "test.example")
    assert renewal.expires_at == datetime(2012, 1, 1, 1, 1, 1, tzinfo=UTC)


def test_poll_deletions_and_notices():
    host = read("poll/poll_response_host_delete.xml")
    assert (host.kind, host.name) == ("host_deleted", "ns1.test.example")
    contact = read("poll/poll_response_contact_delete.xml")
    assert (contact.kind, contact.name) == ("contact_deleted", "jd1234")
    unrenew = read("poll_response_unrenew.xml")
    assert unrenew.kind == "notice" and unrenew.message.startswith("Domain example.tld was")
    no_cltrid = filled("poll/poll_response_domain_transfer_no_cltrid.xml")
    assert r.parse_response(no_cltrid).cl_trid == ""
    assert r.parse_poll(no_cltrid).transfer.status == "serverApproved"


def test_an_empty_queue_and_an_ack():
    empty = filled("poll/poll_response_empty.xml")
    assert r.parse_poll(empty) is None and r.parse_response(empty).code == 1300
    ack = filled("poll/poll_ack_response.xml")
    assert r.parse_poll(ack) is None
    assert r.parse_response(ack).queue == r.MessageQueue(count=4, id="7-2026")


def test_an_error_gives_its_code_and_message():
    error = read("response_error.xml")
    assert isinstance(error, NotFoundError) and error.code == 2303
    assert error.message == "EPP 2303: The domain with given ID (unknown.tld) doesn't exist."
    assert error.epp_result.message == VALUES["%MSG%"]
    with pytest.raises(NotFoundError):
        r.parse_domain_info(filled("response_error_no_cltrid.xml"))
    too_long = read("domain_renew_response_exceeds_max_years.xml")
    assert type(too_long) is PermanentError and too_long.code == 2004
    assert "maximum number of years (10)" in too_long.message
    assert read("domain_transfer_query_response_wildcard_not_requested.xml").code == 2002


def test_host_check_and_host_info():
    checks = read("host/host_check_response.xml")
    assert [(c.name, c.available, c.detail) for c in checks] == [
        ("ns1.example.tld", True, ""),
        ("ns2.example.tld", False, "In use"),
        ("ns3.example.tld", True, ""),
    ]
    host = read("host/host_info_response.xml")
    assert host.ipv4 == ["192.0.2.2", "192.0.2.29"]
    assert host.ipv6 == ["1080:0:0:0:8:800:200C:417A"]
    assert (host.sponsor, host.reference) == ("TheRegistrar", "NS1_EXAMPLE1-REP")
    assert host.statuses == ["clientUpdateProhibited"]
    assert "linked" in read("host/host_info_response_linked.xml").statuses
