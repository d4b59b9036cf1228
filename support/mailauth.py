"""What our receiving mail server says about a mail's sender: ``Authentication-Results``.

The header is RFC 8601's: ``Authentication-Results: <authserv-id> [version]; <method>=<result>
[reason=...] [<ptype>.<property>=<value> ...]; ...``, e.g.::

    Authentication-Results: mx.nameport.test;
        dkim=pass header.d=ada-bakery.com header.s=mail;
        spf=pass smtp.mailfrom=ada@ada-bakery.com;
        dmarc=pass (p=reject) header.from=ada-bakery.com

Anyone can write such a header into a mail, so only those whose authserv-id is one of
``NAMEPORT_MAILIN_AUTHSERV_ID`` (our own receiving server, which must remove any header carrying
its authserv-id that arrived with the mail, as RFC 8601 section 5 asks) are read; the others are
ignored. With the setting empty (the default) no header is trusted.

The rule, for the domain of the ``From`` address (compared exactly, without case):

* a trusted ``dmarc=fail`` for that ``header.from`` refuses, whatever else is said;
* ``dmarc=pass`` with ``header.from`` equal to the From domain passes;
* so does ``dkim=pass`` with ``header.d`` equal to the From domain (strict alignment), or
  ``spf=pass`` with ``smtp.mailfrom`` in the From domain (strict alignment);
* anything else (no trusted header, ``none``, ``neutral``, ``softfail``, another domain) does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

HEADER = "Authentication-Results"
TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|;|=|[^\s=;"]+')


@dataclass(frozen=True)
class Result:
    method: str  # "dmarc", "dkim", "spf", ... (without a "/version")
    result: str  # "pass", "fail", "none", ...
    properties: dict[str, str] = field(default_factory=dict)  # "header.from": "example.com"


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: list[Result]


def _without_comments(value: str) -> str:
    """``value`` with its RFC 5322 comments ``( ... )`` (nested, escaped) turned into spaces;
    quoted strings are kept as they are."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            out.append(char)
            quoted = char != '"'
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
            continue
        if char == "(":
            depth = 1
            out.append(" ")
            continue
        quoted = char == '"'
        out.append(char)
    return "".join(out)


def _unquote(token: str) -> str:
    if len(token) >= 2 and token.startswith('"') and token.endswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def parse(value: str) -> AuthenticationResults | None:
    """One header's value; None when it has no authserv-id."""
    groups: list[list[str]] = [[]]
    for token in TOKEN.findall(_without_comments(value or "")):
        if token == ";":
            groups.append([])
        else:
            groups[-1].append(token)
    head = groups[0]
    if not head or head[0] == "=":
        return None
    results = []
    for group in groups[1:]:
        pairs = []
        i = 0
        while i < len(group):
            if i + 2 < len(group) and group[i + 1] == "=" and group[i] != "=":
                pairs.append((group[i].lower(), _unquote(group[i + 2])))
                i += 3
            else:
                i += 1  # "none", or a stray token: skipped
        if not pairs:
            continue
        (method, result), properties = pairs[0], dict(pairs[1:])
        results.append(
            Result(
                method=method.split("/", 1)[0],
                result=result.lower(),
                properties={k: v for k, v in properties.items() if k != "reason"},
            )
        )
    return AuthenticationResults(authserv_id=_unquote(head[0]).lower(), results=results)


def _domain(value: str) -> str:
    """The domain of ``user@domain``, ``@domain`` or ``domain``, lower case, no final dot."""
    return value.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def trusted_results(headers: Iterable[str], trusted_ids: Iterable[str]) -> list[Result]:
    """The results of the headers written by one of ``trusted_ids``; the others are ignored."""
    trusted = {i.strip().lower() for i in trusted_ids if i.strip()}
    results: list[Result] = []
    for value in headers:
        parsed = parse(str(value))
        if parsed is not None and parsed.authserv_id in trusted:
            results.extend(parsed.results)
    return results


def sender_domain_passed(
    headers: Iterable[str], sender: str, trusted_ids: Iterable[str]
) -> tuple[bool, str]:
    """Whether our server vouches for the domain of ``sender``, and why (for the log)."""
    domain = _domain(sender)
    results = trusted_results(headers, trusted_ids)
    if not results:
        return False, "no trusted Authentication-Results"

    def about(result: Result, prop: str) -> bool:
        return _domain(result.properties.get(prop, "")) == domain

    if any(r.method == "dmarc" and r.result == "fail" and about(r, "header.from") for r in results):
        return False, f"dmarc=fail for {domain}"
    for result in results:
        if result.result != "pass":
            continue
        if result.method == "dmarc" and about(result, "header.from"):
            return True, f"dmarc=pass for {domain}"
        if result.method == "dkim" and about(result, "header.d"):
            return True, f"dkim=pass for {domain}"
        if result.method == "spf" and about(result, "smtp.mailfrom"):
            return True, f"spf=pass for {domain}"
    return False, f"no pass for {domain}"
