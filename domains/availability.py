"""Availability checks and suggestions, priced for the actor's organisation and currency.

Prices come from billing through ``domains.hooks`` (``price_list``, ``priced_tlds``).

Names are validated locally first; what passes goes to the registries in batches (one check
command per ``check_batch_size`` names, 10 by default, per registrar account), every batch at once
in a shared thread pool, so 50 TLDs take about as long as the slowest registry answers.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from domains import hooks
from domains.models import RELEASED_STATUSES, Domain, Tld
from domains.names import DomainName, parse_domain_name
from domains.registrars import adapter_for
from domains.registrars.base import CheckResult, RegistrarError
from portal.tenancy import Actor

MAX_PARALLEL_CHECKS = 32
MAX_NAMES = 100
CHECK_BATCH_SIZE = 10


@dataclass(frozen=True)
class Availability:
    name: str
    name_unicode: str
    tld: str
    available: bool | None  # None: the registry could not be asked
    premium: bool = False
    price: Decimal | None = None  # the actor's price (a customer's: the sell price, never a cost)
    currency: str = ""
    reason: str = ""
    cost: Decimal | None = None  # what the actor pays upstream: resellers and staff only
    # A premium name its seller prices on request: no price is shown ("Price on request").
    on_request: bool = False

    @property
    def status(self) -> str:
        if self.available is None:
            return "unknown"
        return "available" if self.available else "taken"


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    """One pool per process, reused: starting 50 threads per search costs more than the checks."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(MAX_PARALLEL_CHECKS, thread_name_prefix="domain-check")
        return _pool


def _check_group(account, names: list[str]) -> dict[str, CheckResult | str]:
    close_old_connections()
    try:
        return {r.name: r for r in adapter_for(account).check(names)}
    except RegistrarError as exc:
        return dict.fromkeys(names, exc.message)
    finally:
        # Give the connection back: a pool thread holding one per search would exhaust
        # PostgreSQL's max_connections with a few web processes.
        connection.close()


def check_names(actor: Actor, raw_names: list[str]) -> list[Availability]:
    """Check many names; invalid ones come back with the reason and are not sent anywhere."""
    if len(raw_names) > MAX_NAMES:
        raise ValidationError(f"Check at most {MAX_NAMES} names at once.")
    active_tlds = {
        tld.name: tld
        for tld in Tld.objects.filter(is_active=True).select_related("registrar_account")
    }
    parsed: list[DomainName | ValidationError] = []
    for raw in raw_names:
        try:
            parsed.append(parse_domain_name(raw, tlds=active_tlds))
        except ValidationError as exc:
            parsed.append(exc)
    valid = [p for p in parsed if isinstance(p, DomainName)]
    held = set(
        Domain.objects.filter(name_puny__in=[p.ascii for p in valid])
        .exclude(status__in=RELEASED_STATUSES)
        .values_list("name_puny", flat=True)
    )
    # One call per batch of names at each registrar account (registries check many names in one
    # command), every batch at once.
    by_account: dict[int, list[DomainName]] = defaultdict(list)
    for p in valid:
        if p.ascii not in held and p.tld.registrar_account_id:
            by_account[p.tld.registrar_account_id].append(p)
    accounts = {p.tld.registrar_account_id: p.tld.registrar_account for p in valid}
    answers: dict[str, CheckResult | str] = {}
    pool = _executor()
    futures = []
    for account_id, names in by_account.items():
        account = accounts[account_id]
        size = max(1, int((account.settings or {}).get("check_batch_size", CHECK_BATCH_SIZE)))
        for start in range(0, len(names), size):
            batch = [p.ascii for p in names[start : start + size]]
            futures.append(pool.submit(_check_group, account, batch))
    for future in futures:
        answers.update(future.result())
    prices = hooks.price_list(actor, list({p.tld.pk: p.tld for p in valid}.values()))
    results = []
    for raw, p in zip(raw_names, parsed, strict=True):
        if isinstance(p, ValidationError):
            results.append(
                Availability(
                    name=raw, name_unicode=raw, tld="", available=False, reason=" ".join(p.messages)
                )
            )
            continue
        standard = prices.price(p.tld)
        price, currency, cost = (
            (standard.price, standard.currency, standard.cost) if standard else (None, "", None)
        )
        answer = answers.get(p.ascii)
        if p.ascii in held:
            results.append(
                Availability(
                    p.ascii,
                    p.unicode,
                    p.tld.name,
                    False,
                    price=price,
                    currency=currency,
                    reason="registered",
                    cost=cost,
                )
            )
        elif answer is None:
            results.append(
                Availability(
                    p.ascii, p.unicode, p.tld.name, None, reason="no registry handles this TLD"
                )
            )
        elif isinstance(answer, str):
            results.append(Availability(p.ascii, p.unicode, p.tld.name, None, reason=answer))
        else:
            on_request = False
            if answer.premium and prices.premium_on_request(p.tld):
                # The seller prices premium names on request: no number at all, not the
                # standard price and never the registry's quote.
                on_request, price, cost = True, None, None
            elif answer.premium and answer.price is not None:
                # The registry quotes its wholesale price: the actor is offered its own price
                # for it (the quote with each level's markup), never the quote itself.
                quoted = prices.price(p.tld, registry_quote=(answer.price, answer.currency))
                price, currency, cost = (
                    (quoted.price, quoted.currency, quoted.cost) if quoted else (None, "", None)
                )
            results.append(
                Availability(
                    p.ascii,
                    p.unicode,
                    p.tld.name,
                    answer.available,
                    premium=answer.premium,
                    price=price,
                    currency=currency,
                    reason=answer.reason,
                    cost=cost,
                    on_request=on_request,
                )
            )
    return results


def check_across_tlds(
    actor: Actor, label: str, tlds: list[str] | None = None
) -> list[Availability]:
    """One label under many TLDs (all active TLDs when none are given)."""
    label = (label or "").strip().lower().rstrip(".")
    if not label:
        raise ValidationError("Enter a name to look for.")
    if "." in label:
        label = label.split(".", 1)[0]
    names = tlds or list(Tld.objects.filter(is_active=True).values_list("name", flat=True))
    return check_names(actor, [f"{label}.{tld}" for tld in names])


SUGGESTION_PREFIXES = ["get", "my", "the", "go"]
SUGGESTION_SUFFIXES = ["hq", "app", "online", "club", "hub"]


def suggestion_candidates(keyword: str, tlds: list[str], limit: int = 20) -> list[str]:
    """Variants of a keyword (seed 000's domain_suggestion): prefixes, suffixes, hyphenation,
    and the keyword under other TLDs of the price list."""
    word = (keyword or "").strip().lower().split(".", 1)[0]
    base = "".join(ch for ch in word if ch.isalnum() or ch == "-")  # IDN letters stay
    if not base:
        raise ValidationError("Enter a keyword, e.g. tunji.")
    words = [base]
    words += [f"{prefix}{base}" for prefix in SUGGESTION_PREFIXES]
    words += [f"{base}{suffix}" for suffix in SUGGESTION_SUFFIXES]
    if len(base) > 5 and "-" not in base:
        words.append(f"{base[: len(base) // 2]}-{base[len(base) // 2 :]}")
    candidates = []
    for index, word in enumerate(words):
        for tld in tlds if index == 0 else tlds[:2]:
            candidates.append(f"{word}.{tld}")
    seen: dict[str, None] = {}
    for name in candidates:
        seen.setdefault(name)
    return list(seen)[:limit]


def suggest(
    actor: Actor, keyword: str, limit: int = 20, *, exclude: Iterable[str] = ()
) -> list[Availability]:
    """Available variants of ``keyword``; names in ``exclude`` (those a page already shows,
    e.g. the search results) are neither checked nor suggested."""
    tlds = list(hooks.priced_tlds(action="register")) or list(
        Tld.objects.filter(is_active=True).values_list("name", flat=True)
    )
    if "com" in tlds:
        tlds.remove("com")
        tlds.insert(0, "com")
    shown = {name.lower() for name in exclude}
    candidates = [
        name
        for name in suggestion_candidates(keyword, tlds, limit * 2 + len(shown))
        if name not in shown
    ][: limit * 2]
    results = check_names(actor, candidates)
    return [r for r in results if r.available][:limit]
