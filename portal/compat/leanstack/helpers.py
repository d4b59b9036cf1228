"""What the Leanstack documents (seeds 000 and 001) write differently from Nameport: phone
numbers, dates, prices as strings, the domain status codes, and the reseller's cost in the two
currencies the documents show (``dollar_price``, ``naira_price``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

from billing.pricing import PriceList, exchange_rate
from domains.availability import Availability
from domains.models import DomainStatus, Tld
from portal.filtersets import MAX_ID
from portal.tenancy import Actor

CENT = Decimal("0.01")
# The two prices every availability and suggestion answer carries.
PRICE_FIELDS = {"dollar_price": "USD", "naira_price": "NGN"}


# --- phone numbers ----------------------------------------------------------------------------
# Countries whose national numbers start with a trunk 0 ("090383938393" in Nigeria), and their
# calling codes: such a number with the customer's ``country`` becomes +234 9038... A country
# not listed here needs the number with its country code.
TRUNK_ZERO_CALLING_CODES = {
    "NG": "234",
    "GH": "233",
    "KE": "254",
    "ZA": "27",
    "UG": "256",
    "TZ": "255",
    "RW": "250",
    "ZM": "260",
    "ZW": "263",
    "EG": "20",
    "MA": "212",
    "CM": "237",
    "GB": "44",
    "IE": "353",
    "DE": "49",
    "FR": "33",
    "NL": "31",
    "BE": "32",
    "CH": "41",
    "AT": "43",
    "IN": "91",
    "PK": "92",
    "AU": "61",
    "NZ": "64",
    "TR": "90",
}
PHONE_SHAPE = re.compile(r"^\+?[0-9][0-9 .\-()]{4,24}$")
PHONE_HELP = (
    "phone: give the number with its country code (e.g. 2349018191818 or +2349018191818), or "
    "a national number starting with 0 together with the customer's country"
)


def phone_to_nameport(raw: str, country: str | None) -> str:
    """The document's phone ("2349018191818", "+234 901 819 1818", or the national
    "09018191818" with ``country`` NG) in Nameport's international form ("+2349018191818")."""
    text = raw.strip()
    if not PHONE_SHAPE.match(text):
        raise ValidationError(f"{PHONE_HELP}.")
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        code = TRUNK_ZERO_CALLING_CODES.get((country or "").strip().upper())
        if code is None:
            raise ValidationError(
                f"{PHONE_HELP}; a national number needs a country whose numbers start with 0 "
                f"({', '.join(sorted(TRUNK_ZERO_CALLING_CODES))})."
            )
        international = code + digits[1:]
    else:
        international = digits
    if not (7 <= len(international) <= 15) or international.startswith("0"):
        raise ValidationError(f"{PHONE_HELP}.")
    return f"+{international}"


def phone_to_document(stored: str) -> str:
    """Nameport's "+234.9018191818" as the documents show it: digits with the country code."""
    return re.sub(r"[^0-9]", "", stored or "")


# --- dates and prices ---------------------------------------------------------------------------
def timestamp(value: datetime | None) -> str | None:
    """ "2019-01-05T13:04:33.000Z": UTC, milliseconds, Z."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def price_text(amount: Decimal | None) -> str | None:
    """5.00 -> "5", 4.90 -> "4.9", 3000 -> "3000" (no exponent, no trailing zeros)."""
    if amount is None:
        return None
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    text = format(amount, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _convert(amount: Decimal, source: str, target: str) -> Decimal | None:
    rate = exchange_rate(source, target)
    if rate is None:
        return None
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def charge_price_list(actor: Actor, tlds: list[Tld]) -> PriceList:
    """The price list an order's charge reads (billing.ledger.price_operations): register, one
    year, as the key's organisation pays the platform."""
    return PriceList(actor, tlds, "register", 1)


def sells(prices: PriceList, tld: Tld) -> bool:
    quote = prices.price(tld)
    return quote is not None and quote.cost is not None and quote.cost > 0


def reseller_costs(
    actor: Actor, tld: Tld, result: Availability | None = None
) -> dict[str, str | None]:
    """``{"dollar_price": "5", "naira_price": "3000"}``: what one year's registration of a name
    under ``tld`` costs the key's organisation (the platform's price to it, what an order
    charges its account), in USD and NGN: the price list's row in that currency, else the
    platform's row converted at today's exchange rate; None where neither exists. A premium
    name (``result.premium``) costs the registry's quote with the platform's markup, in the
    currency it was quoted in, converted for the other; priced on request: None."""
    if result is not None and result.premium:
        if result.on_request or result.cost is None:
            return dict.fromkeys(PRICE_FIELDS)
        return {
            field: price_text(_convert(result.cost, result.currency, currency))
            for field, currency in PRICE_FIELDS.items()
        }
    answer: dict[str, str | None] = {}
    for field, currency in PRICE_FIELDS.items():
        quote = PriceList(actor, [tld], "register", 1, currency=currency).price(tld)
        ok = quote is not None and quote.cost is not None and quote.currency == currency
        answer[field] = price_text(quote.cost) if ok else None  # type: ignore[union-attr]
    return answer


# --- the domain status codes --------------------------------------------------------------------
@dataclass(frozen=True)
class StatusCode:
    code: str
    label: str


PROCESSING = StatusCode("0", "InActive - Order Locked In Processing.")
STATUS_CODES: dict[str, StatusCode] = {
    DomainStatus.PENDING_REGISTRATION: PROCESSING,
    DomainStatus.PENDING_TRANSFER: PROCESSING,
    DomainStatus.ACTIVE: StatusCode("1", "Active"),
    DomainStatus.EXPIRED: StatusCode("2", "Expired"),
    DomainStatus.GRACE: StatusCode("3", "Expired - Grace Period"),
    DomainStatus.REDEMPTION: StatusCode("4", "Expired - Redemption Period"),
    DomainStatus.PENDING_DELETE: StatusCode("5", "Pending Delete"),
    DomainStatus.SUSPENDED: StatusCode("6", "Suspended"),
    DomainStatus.REGISTRATION_FAILED: StatusCode("7", "Order Failed"),
    DomainStatus.TRANSFER_FAILED: StatusCode("7", "Order Failed"),
    DomainStatus.DELETED: StatusCode("8", "Deleted"),
    DomainStatus.TRANSFERRED_AWAY: StatusCode("9", "Transferred Away"),
}
# Not listed by POST /v1/enterprise/domains (the name is no longer the reseller's).
UNLISTED_STATUSES = (DomainStatus.DELETED, DomainStatus.TRANSFERRED_AWAY)


def status_table_markdown() -> str:
    rows = [f"| {s.label} | `{c.code}` | {c.label} |" for s, c in _table_rows()]
    header = ["| Nameport status | code (list) | label (get) |", "| --- | --- | --- |"]
    return "\n".join([*header, *rows])


def _table_rows():
    for value, code in STATUS_CODES.items():
        yield DomainStatus(value), code


# --- pagination --------------------------------------------------------------------------------
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_PAGE = MAX_ID // MAX_PAGE_SIZE  # an offset a bigint holds


def total_pages(total: int, page_size: int) -> int:
    return math.ceil(total / page_size) if total else 0
