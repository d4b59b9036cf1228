"""Pagination that stays fast on a million rows: the count stops at ``COUNT_CAP``.

An exact ``COUNT(*)`` over a million domains costs more than the page itself; past the cap
nobody pages through results anyway, they narrow the search. The count is then reported as
"10,000+" (UI) or ``count_exact: false`` (API). A partial-name search (``?q=``) counts up to
``SEARCH_COUNT_CAP``: its matches are checked row by row, and past a thousand the useful answer
is "narrow the search", not the exact number.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000
# From this offset on, a page is read in two steps (a "deferred join"): the ids of the page by
# the ordering index alone, then the rows and their joins for those ids only. A plain OFFSET
# would build every skipped row and its joins just to throw it away.
DEFERRED_JOIN_FROM = 500


def capped_count(queryset, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """(count, exact): counts at most ``cap + 1`` rows."""
    if hasattr(queryset, "order_by"):
        counted = queryset.order_by()[: cap + 1].count()
    else:
        counted = len(queryset[: cap + 1])
    return (counted, True) if counted <= cap else (cap, False)


def cap_for(request) -> int:
    """The count cap for a list request: lower when it searches by text."""
    return SEARCH_COUNT_CAP if request is not None and request.GET.get("q") else COUNT_CAP


class CappedPaginator(Paginator):
    cap = COUNT_CAP

    def __init__(self, *args, cap: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if cap is not None:
            self.cap = cap

    @cached_property
    def _capped(self) -> tuple[int, bool]:
        return capped_count(self.object_list, self.cap)

    @cached_property
    def count(self) -> int:
        return self._capped[0]

    @property
    def count_is_exact(self) -> bool:
        return self._capped[1]

    def page(self, number):
        """As Django's, but a capped count does not cut the page short at the cap."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.count_is_exact and top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._slice(bottom, top), number, self)

    def _slice(self, bottom: int, top: int):
        queryset = self.object_list
        if bottom < DEFERRED_JOIN_FROM or not hasattr(queryset, "values_list"):
            return queryset[bottom:top]
        ids = list(queryset.values_list("pk", flat=True)[bottom:top])
        rows = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]
