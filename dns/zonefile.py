"""BIND zone files: export a zone, and read one back with every rejected line reported.

Reading understands ``$ORIGIN``, ``$TTL``, ``@``, relative and absolute names, a blank owner
(the previous line's), TTL and class in either order, TTL units (1h, 2d, 1w), comments, quoted
strings (multi-string TXT) and parentheses spanning lines. Each record goes through the same
validation as the editor (``dns.rdata.clean_record``); records beside each other are checked as a
whole (CNAME exclusivity, duplicates, one TTL per name and type). ``$INCLUDE`` and ``$GENERATE``
are refused. The SOA line is accepted and not imported: the zone's serial and SOA are Nameport's.
URL, FRAME and MXE (Nameport's forwarding types) are read and written like other types; the
``rendered`` export writes what the name server serves instead (plain A and MX records).
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from dns.rdata import (
    Clean,
    RecordInvalid,
    ascii_name,
    check_neighbours,
    clean_record,
    rdata_text,
    rrsets,
)

_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(;.*)|([()])|([^\s"();]+))')
_TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TTL = re.compile(r"^(?:\d+[smhdwSMHDW]?)+$")
_CLASSES = {"IN", "CH", "HS", "CS"}
# rdata fields that hold a domain name (index into the rdata tokens), resolved against $ORIGIN.
_NAME_FIELDS = {"CNAME": (0,), "NS": (0,), "PTR": (0,), "MX": (1,), "SRV": (3,)}
_SIMPLE = re.compile(r'^[^"();]*$')


@dataclass
class LineError:
    line: int
    message: str
    text: str = ""

    def as_dict(self) -> dict:
        return {"line": self.line, "message": self.message, "text": self.text}


@dataclass
class Parsed:
    records: list[tuple[int, Clean]] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    soa_seen: bool = False


def parse_ttl(token: str) -> int:
    if token.isdigit():
        return int(token)
    if not _TTL.match(token):
        raise ValueError(token)
    total = 0
    for number, unit in re.findall(r"(\d+)([smhdwSMHDW]?)", token):
        total += int(number) * _TTL_UNITS[(unit or "s").lower()]
    return total


def _entries(text: str) -> Iterable[tuple[int, bool, list[str], str, str | None]]:
    """Logical entries: (first line number, starts with blank, tokens, source text, error).

    A quoted token keeps its quotes (an unquoted one cannot start with one). Parentheses join
    lines; comments are dropped."""
    lines = text.splitlines()
    index = 0
    count = len(lines)
    while index < count:
        line = lines[index]
        number = index + 1
        index += 1
        if not line or line.isspace():
            continue
        blank_owner = line[0] in " \t"
        if _SIMPLE.match(line):  # the common case: no quotes, comments or parentheses
            yield number, blank_owner, line.split(), line, None
            continue
        tokens = []
        depth = 0
        source = [line]
        error = None
        while True:
            position = 0
            stripped_end = len(line.rstrip())
            while position < stripped_end:
                match = _TOKEN.match(line, position)
                if match is None or match.end() == position:
                    rest = line[position:].strip()
                    if rest.startswith('"'):
                        error = "a quoted string is not closed on this line"
                    else:
                        error = f"cannot read “{rest[:30]}”"
                    break
                position = match.end()
                quoted, comment, paren, word = match.groups()
                if comment is not None:
                    break
                if paren == "(":
                    depth += 1
                elif paren == ")":
                    depth -= 1
                    if depth < 0:
                        error = "a “)” without its “(”"
                        break
                elif quoted is not None:
                    tokens.append(quoted)
                elif word is not None:
                    tokens.append(word)
            if error or depth == 0:
                break
            if index >= count:
                error = "a “(” is never closed"
                break
            line = lines[index]
            index += 1
            source.append(line)
        if not tokens and not error:
            continue
        yield number, blank_owner, tokens, "\n".join(source), error


def _absolute(name: str, origin: str) -> str:
    """``name`` as an absolute name without the final dot ("" is the root)."""
    if name == "@":
        return origin
    if name.endswith("."):
        return name[:-1]
    return f"{name}.{origin}" if origin else name


def parse(text: str, zone: str, *, default_ttl: int = 3600) -> Parsed:
    """Read a zone file for ``zone`` (ASCII, no final dot). Records come out validated, each with
    its line number; every rejected line is in ``errors``."""
    result = Parsed()
    origin = zone
    ttl_default: int | None = None
    last_owner: str | None = None
    suffix = "." + zone
    for number, blank_owner, tokens, source, error in _entries(text):
        first_line = source.split("\n", 1)[0][:200] if "\n" in source else source[:200]
        if error:
            result.errors.append(LineError(number, error[0].upper() + error[1:] + ".", first_line))
            continue
        head = tokens[0]
        if head.startswith("$"):
            directive = head.upper()
            args = tokens[1:]
            if directive == "$ORIGIN" and len(args) == 1:
                try:
                    origin = ascii_name(_absolute(args[0], origin).rstrip("."), wildcard=False)
                except ValueError as exc:
                    result.errors.append(LineError(number, f"Bad $ORIGIN: {exc}.", first_line))
            elif directive == "$TTL" and len(args) == 1:
                try:
                    ttl_default = parse_ttl(args[0])
                except ValueError:
                    result.errors.append(LineError(number, f"Bad $TTL “{args[0]}”.", first_line))
            elif directive in {"$INCLUDE", "$GENERATE"}:
                result.errors.append(
                    LineError(number, f"{directive} is not supported; paste the lines.", first_line)
                )
            else:
                result.errors.append(
                    LineError(number, f"Unknown or malformed directive {head}.", first_line)
                )
            continue
        position = 0
        if blank_owner:
            if last_owner is None:
                result.errors.append(
                    LineError(
                        number, "The line starts with a blank but no name came before.", first_line
                    )
                )
                continue
            owner = last_owner
        else:
            raw_owner = tokens[0]
            position = 1
            try:
                owner = _absolute(raw_owner, origin)
                owner = ascii_name(owner.rstrip("."), wildcard=True) if owner else ""
            except ValueError as exc:
                result.errors.append(LineError(number, f"Bad name: {exc}.", first_line))
                continue
            last_owner = owner
        ttl: int | None = None
        klass_seen = False
        while position < len(tokens):
            word = tokens[position]
            if word[0] == '"':
                break
            if not klass_seen and word.upper() in _CLASSES:
                if word.upper() != "IN":
                    break
                klass_seen = True
                position += 1
                continue
            if ttl is None and word[0].isdigit() and _TTL.match(word):
                ttl = parse_ttl(word)
                position += 1
                continue
            break
        if position >= len(tokens):
            result.errors.append(LineError(number, "The record type is missing.", first_line))
            continue
        rtype = tokens[position].upper()
        if rtype in _CLASSES:
            result.errors.append(
                LineError(number, f"Class {rtype} is not supported; only IN.", first_line)
            )
            continue
        rdata = tokens[position + 1 :]
        if rtype == "SOA":
            if owner != zone:
                result.errors.append(
                    LineError(number, f"The SOA must be at the apex {zone}.", first_line)
                )
            elif result.soa_seen:
                result.errors.append(LineError(number, "A second SOA record.", first_line))
            else:
                result.soa_seen = True
                if ttl_default is None and len(rdata) >= 7:
                    # RFC 1035: without $TTL the SOA minimum is the default.
                    with contextlib.suppress(ValueError):
                        ttl_default = parse_ttl(rdata[6])
            continue
        if owner != zone and not owner.endswith(suffix):
            shown = owner or "."
            result.errors.append(
                LineError(number, f"{shown}. is outside the zone {zone}.", first_line)
            )
            continue
        words = list(rdata)
        for index in _NAME_FIELDS.get(rtype, ()):
            if index < len(words) and words[index] != ".":
                words[index] = _absolute(words[index], origin) + "."
        priority = None
        if rtype in {"MX", "SRV", "MXE"} and words and words[0].isdigit():
            priority, words = words[0], words[1:]
        if rtype == "TXT":  # unquoted words are strings of their own, as in BIND
            content = " ".join(t if t[0] == '"' else f'"{t}"' for t in rdata)
        elif rtype in {"URL", "FRAME"}:
            content = " ".join(
                w[1:-1] if w.startswith('"') and w.endswith('"') else w for w in words
            )
        else:
            content = " ".join(words)
        relative = "@" if owner == zone else owner[: -len(suffix)]
        try:
            clean = clean_record(
                zone,
                name=relative,
                owner_ready=True,
                type=rtype,
                ttl=ttl if ttl is not None else (ttl_default or default_ttl),
                priority=priority,
                content=content,
                default_ttl=default_ttl,
                strict_names=True,
            )
        except RecordInvalid as exc:
            reasons = "; ".join(
                f"{message}" for messages in exc.message_dict.values() for message in messages
            )
            result.errors.append(LineError(number, reasons, first_line))
            continue
        result.records.append((number, clean))
    return result


def check_together(
    records: list[tuple[int, Clean]], existing: Iterable = ()
) -> tuple[list[tuple[int, Clean]], list[LineError]]:
    """Records beside each other: duplicates, CNAME exclusivity, forwarding conflicts and one TTL
    per name and type. ``existing`` records (kept by a merge) count as earlier lines. Returns the
    records that pass and one error per line that does not (the later line of a clash)."""
    by_name: dict[str, list] = defaultdict(list)
    ttl_of: dict[tuple[str, str], tuple[int, int]] = {}
    for record in existing:
        by_name[record.name].append(record)
        ttl_of.setdefault((record.name, record.type), (record.ttl, 0))
    kept: list[tuple[int, Clean]] = []
    errors: list[LineError] = []
    seen_lines: dict[tuple, int] = {}
    for number, clean in records:
        key = clean.key()
        if key in seen_lines:
            errors.append(LineError(number, f"The same record as line {seen_lines[key]}."))
            continue
        neighbours = by_name.get(clean.name)
        if neighbours:
            try:
                check_neighbours(clean, neighbours)
            except RecordInvalid as exc:
                message = next(iter(exc.message_dict.values()))[0]
                errors.append(LineError(number, message))
                continue
        rrset = (clean.name, clean.type)
        if rrset in ttl_of and ttl_of[rrset][0] != clean.ttl:
            ttl, line = ttl_of[rrset]
            where = f"line {line}" if line else "the zone"
            errors.append(
                LineError(
                    number,
                    f"TTL {clean.ttl} differs from {ttl} of the same name and type ({where}); "
                    "records of one name and type share one TTL.",
                )
            )
            continue
        ttl_of.setdefault(rrset, (clean.ttl, number))
        seen_lines[key] = number
        by_name[clean.name].append(clean)
        kept.append((number, clean))
    return kept, errors


# --- export --------------------------------------------------------------------------------------


def soa_content(zone: str, serial: int, default_ttl: int) -> str:
    primary = (settings.NAMEPORT_DEFAULT_NAMESERVERS or ["ns1.nameport.test"])[0].rstrip(".")
    hostmaster = settings.NAMEPORT_DNS_HOSTMASTER.rstrip(".")
    return f"{primary}. {hostmaster}. {serial} 10800 3600 604800 {min(default_ttl, 3600)}"


def export(zone, records: Iterable, *, rendered: bool = False) -> str:
    """The zone as a BIND file. ``records`` are Records or dicts, ordered as they should appear.
    With ``rendered``, URL/FRAME/MXE are written as the plain records a name server serves."""
    name = zone.name
    out = [
        f"; Zone {name}, serial {zone.serial}, exported by Nameport",
        *(
            [f"; Disabled, served nowhere: {zone.disabled_reason}"]
            if not getattr(zone, "enabled", True)
            else []
        ),
        f"$ORIGIN {name}.",
        f"$TTL {zone.default_ttl}",
        f"@\t{zone.default_ttl}\tIN\tSOA\t{soa_content(name, zone.serial, zone.default_ttl)}",
    ]
    append = out.append
    if rendered:
        suffix = f".{name}."
        for (owner, rtype), (ttl, contents) in sorted(rrsets(name, records).items()):
            relative = "@" if owner == f"{name}." else owner.removesuffix(suffix)
            for content in contents:
                append(f"{relative}\t{ttl}\tIN\t{rtype}\t{content}")
    else:
        for record in records:
            if isinstance(record, dict):
                owner, ttl, rtype = record["name"], record["ttl"], record["type"]
            else:
                owner, ttl, rtype = record.name, record.ttl, record.type
            append(f"{owner}\t{ttl}\tIN\t{rtype}\t{rdata_text(record)}")
    append("")
    return "\n".join(out)
