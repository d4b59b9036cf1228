"""Record validation and rendering: the one place that knows what a valid record looks like.

Stored form (what the editor, the API and the zone file show):

* ``name`` is relative to the zone, in ASCII (IDN labels as punycode), ``@`` for the apex;
* host names in the content (CNAME, NS, PTR, MX, SRV targets) are absolute, with the final dot;
* TXT content is one or more quoted character-strings of at most 255 bytes each;
* MX, SRV and MXE keep their preference in ``priority``; SRV content is ``weight port target``;
* CAA content is ``flags tag "value"``; DS content is ``key-tag algorithm digest-type digest``;
* URL and FRAME hold an http(s) URL; MXE an IPv4 address.

``clean_record`` checks one record on its own; ``check_neighbours`` checks it against the other
records at the same name (CNAME exclusivity, forwarding conflicts, duplicates). ``render`` turns a
record into what a name server serves (URL/FRAME become the forwarding addresses, MXE an MX plus
the A record of a helper host).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
from django.conf import settings
from django.core.exceptions import ValidationError

TYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "SRV", "NS", "CAA", "PTR", "DS", "URL", "FRAME", "MXE")
PSEUDO_TYPES = {"URL", "FRAME", "MXE"}
PRIORITY_TYPES = {"MX", "SRV", "MXE"}
HOST_TARGET_TYPES = {"CNAME", "NS", "PTR"}
FORWARDING_TYPES = {"URL", "FRAME"}
TTL_MIN = 60
TTL_MAX = 604800
MAX_NAME = 253
CAA_TAGS = {"issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone"}
DS_DIGEST_LENGTHS = {1: 40, 2: 64, 4: 96}
DNSSEC_ALGORITHMS = {
    5: "RSASHA1",
    7: "RSASHA1-NSEC3-SHA1",
    8: "RSASHA256",
    10: "RSASHA512",
    13: "ECDSAP256SHA256",
    14: "ECDSAP384SHA384",
    15: "ED25519",
    16: "ED448",
}

_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_CHARSTRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_CHARSTRINGS = re.compile(r'^(?:\s*"(?:[^"\\]|\\.)*")+\s*$')
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_MAYBE_ADDRESS = re.compile(r"[0-9.]+\.?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


class RecordInvalid(ValidationError):
    """A record failed validation; ``message_dict`` maps fields to reasons."""


@dataclass(frozen=True)
class Clean:
    name: str
    type: str
    ttl: int
    priority: int | None
    content: str

    def key(self) -> tuple:
        return (self.name, self.type, self.priority, self.content)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "ttl": self.ttl,
            "priority": self.priority,
            "content": self.content,
        }


def record_key(record) -> tuple:
    """The identity of a record's data (two records with the same key are duplicates)."""
    if isinstance(record, dict):
        return (record["name"], record["type"], record["priority"], record["content"])
    return (record.name, record.type, record.priority, record.content)


# --- names ---------------------------------------------------------------------------------------


def _ascii_label(label: str, *, host: bool) -> str:
    if not label:
        raise ValueError("empty label (two dots in a row)")
    if label.isascii():
        label = label.lower()
    else:
        try:
            label = idna.alabel(label).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"“{label}” is not a valid international label ({exc})") from exc
    if len(label) > 63:
        raise ValueError(f"label “{label[:20]}…” is longer than 63 characters")
    pattern = _HOST_LABEL if host else _LABEL
    if not pattern.match(label):
        allowed = "letters, digits and inner hyphens" if host else "letters, digits, - and _"
        raise ValueError(f"label “{label}” may only hold {allowed}")
    return label


_FAST_NAME = re.compile(
    r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
)
_FAST_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


def ascii_name(name: str, *, host: bool = False, wildcard: bool = False) -> str:
    """``name`` (without the final dot) in lower-case ASCII; ValueError says what is wrong."""
    if name.isascii():  # the common case, checked in one go; the slow path explains failures
        lowered = name.lower()
        if (_FAST_HOST if host else _FAST_NAME).fullmatch(lowered) and len(lowered) <= MAX_NAME:
            return lowered
    labels = name.split(".")
    out = []
    for index, label in enumerate(labels):
        if label == "*" and wildcard and index == 0:
            out.append("*")
            continue
        out.append(_ascii_label(label, host=host))
    result = ".".join(out)
    if len(result) > MAX_NAME:
        raise ValueError(f"the name is longer than {MAX_NAME} characters")
    return result


def zone_ascii(name: str) -> str:
    """A zone name as stored: ASCII, lower case, no final dot (ValidationError if invalid)."""
    raw = (name or "").strip().rstrip(".")
    if "." not in raw:
        raise ValidationError({"name": "Give the full domain name, e.g. example.com."})
    try:
        return ascii_name(raw, host=True)
    except ValueError as exc:
        raise ValidationError({"name": f"Not a valid domain name: {exc}."}) from exc


def owner_fqdn(zone: str, name: str) -> str:
    return f"{zone}." if name == "@" else f"{name}.{zone}."


def relative_owner(raw: str, zone: str, *, strict: bool = False) -> str:
    """The stored (relative) form of an owner name typed by a person or read from a file.

    ``@`` or empty is the apex; a name ending with a dot is absolute; without the dot, a name that
    ends with the zone's name is taken as absolute too (people type ``www.example.com``) unless
    ``strict`` (zone files: relative means relative).
    """
    text = (raw or "").strip()
    if text in {"", "@"}:
        return "@"
    absolute = text.endswith(".")
    text = text.rstrip(".") if absolute else text
    if not text:
        raise ValueError("“.” is the root, not a name in this zone")
    name = ascii_name(text, wildcard=True)
    if name == zone:
        return "@"
    if name.endswith("." + zone):
        return name[: -len(zone) - 1]
    if absolute:
        raise ValueError(f"{name}. is outside the zone {zone}")
    if strict or len(name) + len(zone) + 1 <= MAX_NAME:
        return name
    raise ValueError(f"the name is longer than {MAX_NAME} characters")


def _is_address(text: str) -> bool:
    if not _MAYBE_ADDRESS.fullmatch(text):
        return False
    try:
        ipaddress.ip_address(text.rstrip("."))
    except ValueError:
        return False
    return True


def target_host(raw: str, zone: str, *, what: str, allow_root: bool = False, cname=False) -> str:
    """An absolute host name with its final dot. A name without dots is inside the zone
    (``mail`` -> ``mail.example.com.``); ``@`` is the zone itself."""
    text = (raw or "").strip()
    if not text:
        raise ValueError(f"give the {what}")
    if text == ".":
        if allow_root:
            return "."
        raise ValueError(f"the {what} cannot be the root “.”")
    if _is_address(text):
        raise ValueError(f"the {what} must be a host name, not an address")
    if text == "@":
        return f"{zone}."
    absolute = text.endswith(".")
    text = text.rstrip(".")
    if not absolute and "." not in text:
        text = f"{text}.{zone}"
    labels = text.split(".")
    host = not cname
    out = [_ascii_label(label, host=host and not label.startswith("_")) for label in labels]
    if host and any(label.startswith("_") for label in out):
        raise ValueError(f"the {what} must be a host name (no “_” labels)")
    name = ".".join(out)
    if len(name) > MAX_NAME:
        raise ValueError(f"the {what} is longer than {MAX_NAME} characters")
    return name + "."


# --- TXT -----------------------------------------------------------------------------------------


_PLAIN_TEXT = re.compile(rb"[ !#-\[\]-~]*")


def _escape_bytes(data: bytes) -> str:
    if _PLAIN_TEXT.fullmatch(data):
        return data.decode("ascii")
    out = []
    for byte in data:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def _unescape(text: str) -> bytes:
    if "\\" not in text:
        return text.encode()
    out = bytearray()
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            digits = text[index + 1 : index + 4]
            if len(digits) == 3 and digits.isdigit():
                value = int(digits)
                if value > 255:
                    raise ValueError(f"\\{digits} is not a byte")
                out.append(value)
                index += 4
                continue
            if index + 1 >= len(text):
                raise ValueError("a lone backslash at the end")
            out.extend(text[index + 1].encode())
            index += 2
            continue
        out.extend(char.encode())
        index += 1
    return bytes(out)


def txt_strings(content: str) -> list[bytes]:
    """The character-strings of stored TXT content, as bytes."""
    return [_unescape(part) for part in _CHARSTRING.findall(content)]


def clean_txt(raw: str) -> str:
    """Quoted strings are kept (each at most 255 bytes); plain text is split into 255-byte
    strings."""
    text = (raw or "").strip()
    if not text:
        raise ValueError("give the text")
    if text.startswith('"'):
        if not _CHARSTRINGS.match(text):
            raise ValueError(
                'quoted text must be one or more "strings" (escape a quote inside as \\")'
            )
        parts = [_unescape(part) for part in _CHARSTRING.findall(text)]
        for number, part in enumerate(parts, 1):
            if len(part) > 255:
                raise ValueError(
                    f"string {number} is {len(part)} bytes; a TXT string holds at most 255 "
                    "(split it, or give the text unquoted to have it split for you)"
                )
    else:
        data = text.encode()
        parts = [data[i : i + 255] for i in range(0, len(data), 255)]
    if sum(len(p) + 1 for p in parts) > 65000:
        raise ValueError("the text is too long for one record")
    return " ".join(f'"{_escape_bytes(part)}"' for part in parts)


# --- one record ----------------------------------------------------------------------------------


def _int(value, field: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be a whole number") from None
    if not low <= number <= high:
        raise ValueError(f"{field} must be between {low} and {high}")
    return number


def _split_priority(content: str, priority) -> tuple[str, object]:
    """Accept ``10 mail.example.com`` in the content when no priority was given."""
    parts = content.split(None, 1)
    if priority in (None, "") and len(parts) == 2 and parts[0].isdigit():
        return parts[1], parts[0]
    return content, priority


def _clean_url(raw: str) -> str:
    text = (raw or "").strip().strip('"')
    if not text:
        raise ValueError("give the address to forward to, e.g. https://example.org/")
    if any(ord(c) < 0x21 or c in '"<>\\' for c in text) or len(text) > 2000:
        raise ValueError("the address may not hold spaces, quotes, < > or backslashes")
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"}:
        raise ValueError("forward only to http:// or https:// addresses")
    if not parts.hostname:
        raise ValueError("the address needs a host name, e.g. https://example.org/")
    if parts.username or parts.password:
        raise ValueError("the address may not carry a user name or password")
    return text


def _clean_caa(raw: str) -> str:
    match = re.match(r"^\s*(\d+)\s+([A-Za-z0-9]+)\s+(.+?)\s*$", raw or "")
    if not match:
        raise ValueError('CAA is flags tag "value", e.g. 0 issue "letsencrypt.org"')
    flags = _int(match.group(1), "the flags", 0, 255)
    tag = match.group(2).lower()
    if tag not in CAA_TAGS:
        raise ValueError(f"unknown CAA tag “{tag}”; use one of {', '.join(sorted(CAA_TAGS))}")
    value = match.group(3)
    if value.startswith('"'):
        if not re.match(r'^"(?:[^"\\]|\\.)*"$', value):
            raise ValueError("the CAA value must be one quoted string")
        value = value[1:-1]
    if tag in {"issue", "issuewild"}:
        issuer = value.split(";", 1)[0].strip()
        if issuer:
            try:
                ascii_name(issuer, host=True)
            except ValueError as exc:
                raise ValueError(f"the CA “{issuer}” is not a domain name: {exc}") from None
    elif tag == "iodef":
        scheme = urlsplit(value).scheme.lower()
        if scheme not in {"mailto", "http", "https"}:
            raise ValueError("iodef takes a mailto: or http(s):// address")
    if any(ord(c) < 0x20 for c in value):
        raise ValueError("the CAA value may not hold control characters")
    return f'{flags} {tag} "{value}"'


def _clean_ds(raw: str) -> str:
    parts = (raw or "").split()
    if len(parts) < 4:
        raise ValueError("DS is key-tag algorithm digest-type digest, e.g. 12345 13 2 ABCD…")
    tag = _int(parts[0], "the key tag", 0, 65535)
    algorithm = _int(parts[1], "the algorithm", 1, 255)
    digest_type = _int(parts[2], "the digest type", 1, 255)
    digest = "".join(parts[3:])
    if not _HEX.match(digest):
        raise ValueError("the digest must be hexadecimal")
    expected = DS_DIGEST_LENGTHS.get(digest_type)
    if expected is None:
        raise ValueError("the digest type must be 1 (SHA-1), 2 (SHA-256) or 4 (SHA-384)")
    if len(digest) != expected:
        raise ValueError(f"a type {digest_type} digest has {expected} hex digits")
    return f"{tag} {algorithm} {digest_type} {digest.upper()}"


def clean_record(
    zone: str,
    *,
    name,
    type,
    ttl=None,
    priority=None,
    content="",
    default_ttl: int = 3600,
    strict_names: bool = False,
    owner_ready: bool = False,
) -> Clean:
    """Check and normalise one record of ``zone`` (ASCII, no final dot); raise RecordInvalid with
    a reason per field."""
    errors: dict[str, str] = {}
    rtype = str(type or "").strip().upper()
    if rtype not in TYPES:
        errors["type"] = f"Choose a record type: {', '.join(TYPES)}."
    try:
        if owner_ready:  # the zone-file reader gives relative names it has checked
            owner = name
        else:
            owner = relative_owner(str(name if name is not None else ""), zone, strict=strict_names)
    except ValueError as exc:
        errors["name"] = f"Not a valid name: {exc}."
        owner = "@"
    if ttl in (None, ""):
        ttl_value = default_ttl
    else:
        try:
            ttl_value = _int(ttl, "the TTL", TTL_MIN, TTL_MAX)
        except ValueError as exc:
            errors["ttl"] = f"{str(exc)[0].upper()}{str(exc)[1:]} seconds."
            ttl_value = default_ttl
    text = str(content if content is not None else "").strip()
    prio_value: int | None = None
    try:
        if rtype in {"MX", "SRV", "MXE"}:
            text, priority = _split_priority(text, priority)
            if priority in (None, ""):
                if rtype == "MXE":
                    priority = 10
                else:
                    errors["priority"] = f"{rtype} records need a priority (0-65535)."
            if priority not in (None, ""):
                try:
                    prio_value = _int(priority, "the priority", 0, 65535)
                except ValueError as exc:
                    errors["priority"] = f"{str(exc)[0].upper()}{str(exc)[1:]}."
        text = _clean_content(rtype, text, zone, owner) if rtype in TYPES else text
    except ValueError as exc:
        message = str(exc)
        errors["content"] = f"{message[0].upper()}{message[1:]}."
    if rtype == "CNAME" and owner == "@" and "name" not in errors:
        errors["name"] = "The zone's apex cannot be a CNAME (it holds the SOA and NS records)."
    if rtype == "DS" and owner == "@" and "name" not in errors:
        errors["name"] = "A DS record belongs to a delegated child name, not to the apex."
    if rtype == "SRV" and "name" not in errors:
        labels = owner.split(".")
        if len(labels) < 2 or not (labels[0].startswith("_") and labels[1].startswith("_")):
            errors["name"] = "An SRV name starts with _service._protocol, e.g. _sip._tcp."
    if errors:
        raise RecordInvalid(errors)
    return Clean(owner, rtype, ttl_value, prio_value, text)


def _clean_content(rtype: str, text: str, zone: str, owner: str) -> str:
    if rtype in {"A", "MXE"}:
        if _IPV4.fullmatch(text):  # canonical already (no leading zeros): keep it
            return text
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise ValueError(f"“{text}” is not an IPv4 address like 192.0.2.10") from None
    if rtype == "AAAA":
        try:
            return ipaddress.IPv6Address(text).compressed
        except ValueError:
            raise ValueError(f"“{text}” is not an IPv6 address like 2001:db8::1") from None
    if rtype in HOST_TARGET_TYPES:
        what = {"CNAME": "alias target", "NS": "name server", "PTR": "pointer target"}[rtype]
        return target_host(text, zone, what=what, cname=rtype == "CNAME")
    if rtype == "MX":
        return target_host(text, zone, what="mail server", allow_root=True)
    if rtype == "SRV":
        parts = text.split()
        if len(parts) == 4:  # priority weight port target, priority given separately
            parts = parts[1:]
        if len(parts) != 3:
            raise ValueError("SRV content is weight port target, e.g. 5 5060 sip.example.com.")
        weight = _int(parts[0], "the weight", 0, 65535)
        port = _int(parts[1], "the port", 0, 65535)
        target = target_host(parts[2], zone, what="SRV target", allow_root=True)
        return f"{weight} {port} {target}"
    if rtype == "TXT":
        return clean_txt(text)
    if rtype == "CAA":
        return _clean_caa(text)
    if rtype == "DS":
        return _clean_ds(text)
    if rtype in FORWARDING_TYPES:
        return _clean_url(text)
    raise ValueError("unknown type")


# --- records beside each other -------------------------------------------------------------------


def check_neighbours(new: Clean, neighbours: Iterable) -> None:
    """``neighbours``: the other records at the same name (dicts, Records or Cleans)."""
    types = set()
    for other in neighbours:
        other_key = record_key(other) if not isinstance(other, Clean) else other.key()
        if other_key == new.key():
            raise RecordInvalid({"content": "This record already exists."})
        types.add(other_key[1])
    label = "the apex" if new.name == "@" else new.name
    if new.type == "CNAME" and types:
        raise RecordInvalid(
            {
                "type": f"A CNAME cannot sit beside other records; {label} already has "
                f"{', '.join(sorted(types))}."
            }
        )
    if "CNAME" in types:
        raise RecordInvalid(
            {"type": f"{label} is a CNAME (an alias); nothing else may sit beside it."}
        )
    if new.type in FORWARDING_TYPES and types & {"A", "AAAA", "URL", "FRAME"}:
        clash = ", ".join(sorted(types & {"A", "AAAA", "URL", "FRAME"}))
        raise RecordInvalid(
            {"type": f"{label} already has {clash}; forwarding answers with its own addresses."}
        )
    if new.type in {"A", "AAAA"} and types & FORWARDING_TYPES:
        raise RecordInvalid(
            {"type": f"{label} is forwarded (URL/FRAME); remove the forwarding to add addresses."}
        )


# --- what a name server serves -------------------------------------------------------------------


def mxe_helper(owner: str, address: str) -> str:
    """The helper host an MXE record points its MX at (``mxe-192-0-2-1.<owner>``)."""
    return f"mxe-{address.replace('.', '-')}.{owner}"


def render(zone: str, record) -> list[tuple[str, str, int, str]]:
    """(owner with final dot, type, ttl, content) of what ``record`` publishes."""
    if isinstance(record, dict):
        name, rtype, ttl = record["name"], record["type"], record["ttl"]
        priority, content = record["priority"], record["content"]
    else:
        name, rtype, ttl = record.name, record.type, record.ttl
        priority, content = record.priority, record.content
    owner = owner_fqdn(zone, name)
    if rtype in {"MX", "SRV"}:
        return [(owner, rtype, ttl, f"{priority} {content}")]
    if rtype in FORWARDING_TYPES:
        rows = [(owner, "A", ttl, ip) for ip in settings.NAMEPORT_FORWARDING_IPV4]
        rows += [(owner, "AAAA", ttl, ip) for ip in settings.NAMEPORT_FORWARDING_IPV6]
        return rows
    if rtype == "MXE":
        helper = mxe_helper(owner, content)
        return [(owner, "MX", ttl, f"{priority} {helper}"), (helper, "A", ttl, content)]
    return [(owner, rtype, ttl, content)]


def rrsets(zone: str, records: Iterable) -> dict[tuple[str, str], tuple[int, list[str]]]:
    """Group rendered records by (owner, type): one TTL (the lowest) and the contents."""
    out: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for record in records:
        for owner, rtype, ttl, content in render(zone, record):
            key = (owner, rtype)
            if key in out:
                low, contents = out[key]
                if content not in contents:
                    contents.append(content)
                out[key] = (min(low, ttl), contents)
            else:
                out[key] = (ttl, [content])
    return out


def rdata_text(record) -> str:
    """The record's data as it appears in a zone file line (after the type)."""
    if isinstance(record, dict):
        rtype, priority, content = record["type"], record["priority"], record["content"]
    else:
        rtype, priority, content = record.type, record.priority, record.content
    if rtype in {"MX", "SRV", "MXE"}:
        return f"{priority} {content}"
    if rtype in FORWARDING_TYPES:
        return f'"{content}"'
    return content
