"""The EPP response layer on what the Nomulus files do not show: error results with their
``<extValue>`` reasons, several results in one response, hostAttr nameservers, fee-1.0 quotes
without a class, credits and balances, poll messages carrying object data, and documents that
are not EPP responses. (tests/domains/test_epp_fixtures.py reads the registry's own files.)"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domains.registrars import epp_responses as r
from domains.registrars.base import (
    AuthorizationError,
    EppReason,
    InsufficientFundsError,
    MalformedResponseError,
    PermanentError,
    TransientError,
)

EPP = r.EPP


def response(body: str, *, code: int = 1000, msg: str = "Command completed successfully") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><epp xmlns="{EPP}"><response>'
        f'<result code="{code}"><msg>{msg}</msg></result>{body}'
        "<trID><clTRID>NP-1</clTRID><svTRID>SV-1</svTRID></trID></response></epp>"
    )


ERROR = f"""<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="{EPP}"><response>
  <result code="2306">
    <msg lang="en">Parameter value policy error</msg>
    <extValue>
      <value><domain:name xmlns:domain="{r.DOMAIN}">bad--name.example</domain:name></value>
      <reason>Hyphens in the third and fourth positions</reason>
    </extValue>
  </result>
  <result code="2005">
    <msg>Parameter value syntax error</msg>
    <value><domain:period xmlns:domain="{r.DOMAIN}" unit="y">11</domain:period></value>
  </result>
  <trID><svTRID>SV-2</svTRID></trID>
</response></epp>"""


def test_several_results_with_their_reasons_and_no_clTRID():
    read = r.parse_response(ERROR)
    assert [(x.code, x.message) for x in read.results] == [
        (2306, "Parameter value policy error"),
        (2005, "Parameter value syntax error"),
    ]
    assert read.results[0].reasons == [
        EppReason(
            reason="Hyphens in the third and fourth positions",
            value="bad--name.example",
            element="name",
        )
    ]
    assert read.results[1].reasons == [EppReason(reason="", value="11", element="period")]
    assert (read.code, read.cl_trid, read.sv_trid) == (2306, "", "SV-2")
    error = r.error_for(read)
    assert type(error) is PermanentError and error.code == 2306
    assert error.message == (
        "EPP 2306: Parameter value policy error ('bad--name.example': Hyphens in the third and "
        "fourth positions; '11')"
    )
    assert error.epp_result == read.results[0]
    with pytest.raises(PermanentError) as raised:
        r.parse_domain_check(ERROR)
    assert raised.value.code == 2306


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (2104, InsufficientFundsError),
        (2201, AuthorizationError),
        (2202, AuthorizationError),
        (2400, TransientError),
        (2502, TransientError),
        (2304, PermanentError),
    ],
)
def test_codes_map_to_the_error_taxonomy(code, kind):
    error = r.error_for(r.parse_response(response("", code=code, msg="No")))
    assert type(error) is kind and error.code == code


def test_a_success_is_no_error():
    assert r.error_for(r.parse_response(response(""))) is None


def test_host_attr_nameservers_and_key_data_free_secdns():
    body = f"""<resData><domain:infData xmlns:domain="{r.DOMAIN}">
      <domain:name>Glue.Example</domain:name><domain:roid>D1-EX</domain:roid>
      <domain:status s="clientTransferProhibited"/><domain:status s="serverHold"/>
      <domain:ns>
        <domain:hostAttr><domain:hostName>ns1.glue.example</domain:hostName>
          <domain:hostAddr ip="v4">192.0.2.1</domain:hostAddr></domain:hostAttr>
        <domain:hostAttr><domain:hostName>NS2.other.example.</domain:hostName></domain:hostAttr>
      </domain:ns>
      <domain:clID>np</domain:clID><domain:crDate>2024-01-02T03:04:05+02:00</domain:crDate>
      <domain:exDate>2026-01-02T01:04:05.123456789Z</domain:exDate>
    </domain:infData></resData>"""
    info = r.parse_domain_info(response(body)).info
    assert info.name == "glue.example"
    assert info.nameservers == ["ns1.glue.example", "ns2.other.example"]
    assert info.statuses == ["clientTransferProhibited", "serverHold"] and info.locked is True
    assert info.registered_at == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert info.expires_at == datetime(2026, 1, 2, 1, 4, 5, 123456, tzinfo=UTC)


FEE_CHECK = f"""<resData><domain:chkData xmlns:domain="{r.DOMAIN}">
  <domain:cd><domain:name avail="true">gold.example</domain:name></domain:cd>
  <domain:cd><domain:name avail="true">plain.example</domain:name></domain:cd>
  <domain:cd><domain:name avail="false">gone.example</domain:name>
    <domain:reason>Invalid label</domain:reason></domain:cd>
</domain:chkData></resData>
<extension><f:chkData xmlns:f="{r.FEE}"><f:currency>EUR</f:currency>
  <f:cd><f:objID>gold.example</f:objID>
    <f:command name="create" standard="0" phase="open">
      <f:period unit="m">24</f:period>
      <f:fee description="Registration" refundable="1" grace-period="P5D" applied="immediate"
        >180.00</f:fee>
    </f:command>
    <f:command name="renew" standard="0"><f:period unit="y">1</f:period>
      <f:fee>90.00</f:fee><f:credit description="promo">-10.00</f:credit></f:command>
  </f:cd>
  <f:cd><f:objID>plain.example</f:objID>
    <f:command name="create" standard="1"><f:period unit="y">1</f:period>
      <f:fee>9.50</f:fee></f:command>
  </f:cd>
  <f:cd avail="0"><f:objID>gone.example</f:objID><f:reason>Fees not available</f:reason></f:cd>
</f:chkData></extension>"""


def test_without_a_class_standard_0_marks_a_premium_price():
    gold, plain, gone = r.parse_domain_check(response(FEE_CHECK))
    assert (gold.premium, gold.currency, gold.fee_class) == (True, "EUR", "")
    create = gold.fee("create")
    assert (create.years, create.standard, create.phase, create.amount) == (
        2,
        False,
        "open",
        Decimal("180.00"),
    )
    assert gold.price == Decimal("180.00")  # no 1-year create quote: the first one
    item = create.fees[0]
    assert (item.refundable, item.grace_period, item.applied) == (True, "P5D", "immediate")
    renew = gold.fee("renew", 1)
    assert renew.amount == Decimal("90.00") and renew.credits[0].amount == Decimal("-10.00")
    assert (plain.premium, plain.price) == (False, Decimal("9.50"))
    assert (gone.available, gone.reason, gone.detail, gone.fees) == (
        False,
        "invalid",
        "Invalid label",
        [],
    )


def test_a_charge_with_balance_and_credit_limit():
    body = f"""<resData><domain:renData xmlns:domain="{r.DOMAIN}">
      <domain:name>a.example</domain:name><domain:exDate>2030-01-01T00:00:00Z</domain:exDate></domain:renData></resData>
      <extension><fee:renData xmlns:fee="{r.FEE}"><fee:currency>USD</fee:currency>
      <fee:period unit="y">2</fee:period><fee:fee>20.00</fee:fee><fee:fee>1.25</fee:fee>
      <fee:balance>-1000.50</fee:balance><fee:creditLimit>5000</fee:creditLimit>
      </fee:renData></extension>"""
    renewed = r.parse_domain_renew(response(body))
    assert renewed.expires_at == datetime(2030, 1, 1, tzinfo=UTC)
    fee = renewed.fee
    assert (fee.amount, fee.years, fee.balance, fee.credit_limit) == (
        Decimal("21.25"),
        2,
        Decimal("-1000.50"),
        Decimal("5000"),
    )


def test_poll_messages_with_object_data():
    domain = f"""<msgQ count="2" id="42"><qDate>2026-01-01T00:00:00Z</qDate>
      <msg lang="fr">Mis en attente</msg></msgQ>
      <resData><domain:infData xmlns:domain="{r.DOMAIN}"><domain:name>held.example</domain:name>
      <domain:roid>D2-EX</domain:roid><domain:status s="serverHold"/></domain:infData></resData>"""
    message = r.parse_poll(response(domain, code=1301))
    assert (message.kind, message.name, message.id, message.count) == (
        "domain",
        "held.example",
        "42",
        2,
    )
    assert message.domain.statuses == ["serverHold"] and message.lang == "fr"
    host = f"""<msgQ count="1" id="43"><qDate>2026-01-01T00:00:00Z</qDate><msg>Host</msg></msgQ>
      <resData><host:infData xmlns:host="{r.HOST}"><host:name>ns1.held.example</host:name>
      <host:status s="ok"/><host:clID>np</host:clID></host:infData></resData>"""
    message = r.parse_poll(response(host, code=1301))
    assert (message.kind, message.name, message.host.sponsor) == ("host", "ns1.held.example", "np")
    notice = '<msgQ count="1" id="44"><qDate>2026-01-01T00:00:00Z</qDate><msg>Hi</msg></msgQ>'
    assert r.parse_poll(response(notice, code=1301)).kind == "notice"


@pytest.mark.parametrize(
    "document",
    [
        "not xml at all",
        "<epp xmlns='urn:ietf:params:xml:ns:epp-1.0'><response>",  # truncated
        "<other/>",
        f"<epp xmlns='{EPP}'><response><trID><svTRID>x</svTRID></trID></response></epp>",
        f"<epp xmlns='{EPP}'><response><result code='ok'><msg/></result></response></epp>",
        f"<epp xmlns='{EPP}'><greeting><svID>x</svID></greeting></epp>",
        b"<epp>" + b" " * (r.MAX_RESPONSE_BYTES + 1) + b"</epp>",
    ],
)
def test_what_is_not_an_epp_response_is_malformed(document):
    with pytest.raises(MalformedResponseError):
        r.parse_response(document)


def test_a_success_without_the_data_it_needs_is_malformed():
    with pytest.raises(MalformedResponseError):
        r.parse_domain_info(response(""))
    with pytest.raises(MalformedResponseError):
        r.parse_greeting(response(""))
