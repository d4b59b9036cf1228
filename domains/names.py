"""Name rules: what a domain name, a host name and a contact look like (no state, no writes).

The lowest layer of ``domains`` above the models (see the package docstring): the actions, the
availability checks, the forms and the simulator all validate names here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import idna
from django.core.exceptions import ValidationError

from domains.models import Tld

LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
HOSTNAME_MAX = 253


@dataclass(frozen=True)
class DomainName:
    unicode: str
    ascii: str
    label: str
    tld: Tld

    @property
    def is_idn(self) -> bool:
        return self.unicode != self.ascii


def _to_ascii(name: str) -> str:
    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValidationError(f"{name!r} is not a valid domain name: {exc}") from None


def _check_ldh(ascii_name: str, *, what: str) -> None:
    if len(ascii_name) > HOSTNAME_MAX:
        raise ValidationError(f"{what} {ascii_name!r} is longer than 253 characters.")
    for label in ascii_name.split("."):
        if not LDH_LABEL.match(label):
            raise ValidationError(
                f"{what} {ascii_name!r} is not valid: each label is 1-63 letters, digits or "
                "hyphens, and does not start or end with a hyphen."
            )
        if label[2:4] == "--" and not label.startswith("xn--"):
            raise ValidationError(f"{what} {ascii_name!r} has '--' in the third and fourth place.")


def parse_domain_name(raw: str, *, tlds: dict[str, Tld] | None = None) -> DomainName:
    """Validate a name to register: LDH/IDN rules, one label under a TLD that Nameport sells.

    ``tlds``: the active TLDs by name, when the caller parses many names (saves a query each)."""
    name = (raw or "").strip().lower().rstrip(".")
    if not name or "." not in name:
        raise ValidationError("Enter a full domain name, e.g. example.com.")
    ascii_name = _to_ascii(name)
    _check_ldh(ascii_name, what="Domain name")
    labels = ascii_name.split(".")
    candidates = [".".join(labels[i:]) for i in range(1, len(labels))]
    if tlds is None:
        tlds = {
            tld.name: tld
            for tld in Tld.objects.filter(is_active=True, name__in=candidates).select_related(
                "registrar_account"
            )
        }
    by_name = tlds
    tld = next((by_name[c] for c in candidates if c in by_name), None)
    if tld is None:
        raise ValidationError(f"We do not offer .{'.'.join(labels[1:])} domains.")
    label = ascii_name[: -(len(tld.name) + 1)]
    if "." in label:
        raise ValidationError(f"{name} is a subdomain; register {label.split('.')[-1]}.{tld.name}.")
    unicode_name = idna.decode(ascii_name)
    if unicode_name != ascii_name and not tld.idn_allowed:
        raise ValidationError(f".{tld.name} does not accept internationalised names.")
    if label in set(tld.reserved_names or []):
        raise ValidationError(f"{unicode_name} is reserved: it cannot be registered.")
    return DomainName(unicode=unicode_name, ascii=ascii_name, label=label, tld=tld)


def normalise_reserved_names(raw: list[str], *, tld: str) -> list[str]:
    """Reserved labels as stored: ASCII (punycode), lower case, without the TLD, each once, in
    order; a ValidationError names the first one that is not a single valid label."""
    suffix = f".{tld}"
    names: list[str] = []
    for item in raw:
        name = (item or "").strip().lower().rstrip(".")
        if not name:
            continue
        if name.endswith(suffix):
            name = name[: -len(suffix)]
        try:
            ascii_name = _to_ascii(name)
            if "." in ascii_name:
                raise ValidationError("")
            _check_ldh(ascii_name, what="Reserved name")
        except ValidationError:
            raise ValidationError(
                f"{item!r} is not a single label (letters, digits or hyphens; e.g. premium)."
            ) from None
        if ascii_name not in names:
            names.append(ascii_name)
    return names


def validate_hostname(raw: str) -> str:
    """A nameserver or glue host name: LDH, at least two labels, not an address or an e-mail."""
    name = (raw or "").strip().lower().rstrip(".")
    if not name:
        raise ValidationError("Enter a host name.")
    if "@" in name or "/" in name or " " in name:
        raise ValidationError(f"{raw!r} is not a valid host name.")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise ValidationError(
            f"{raw!r} is an IP address; enter a host name such as ns1.example.com."
        )
    ascii_name = _to_ascii(name)
    if "." not in ascii_name:
        raise ValidationError(f"{raw!r} is not a fully qualified host name.")
    _check_ldh(ascii_name, what="Host name")
    return ascii_name


def validate_nameservers(domain_ascii: str, raw: list[str], *, glue: set[str]) -> list[str]:
    """2 to 13 distinct host names; a host inside the domain itself needs a glue host."""
    hosts = [validate_hostname(h) for h in raw if (h or "").strip()]
    if len(hosts) < 2:
        raise ValidationError("Give at least two nameservers.")
    if len(hosts) > 13:
        raise ValidationError("Give at most thirteen nameservers.")
    if len(set(hosts)) != len(hosts):
        raise ValidationError("Each nameserver may be given only once.")
    for host in hosts:
        if (host == domain_ascii or host.endswith(f".{domain_ascii}")) and host not in glue:
            raise ValidationError(
                f"{host} is inside {domain_ascii}: create it as a glue host with its IP "
                "addresses first."
            )
    return hosts


# The fields of a domain contact that a customer may set (the four roles share them).
CONTACT_FIELDS = [
    "first_name",
    "last_name",
    "organization",
    "email",
    "phone",
    "address_1",
    "address_2",
    "city",
    "state",
    "zip",
    "country",
]
