"""What every app's FilterSet shares: numbers a database column can hold.

A query parameter such as ``?customer=99999999999999999999`` used to reach the database, where
SQLite raises ``OverflowError`` and PostgreSQL ``DataError`` (both a 500). Every number filter of
every app is bounded here instead: ids are whole numbers from 1 to the largest bigint (the ids
are ``BigAutoField``), any other number filter is bounded to the bigint range unless it declares
a tighter bound. A value outside is a form error: the API answers 400 with the usual
``{"message", "errors"}`` body (django-filter's DRF backend), a list page shows the error beside
the filter and ignores that filter.

Date-time filters are read in UTC: PostgreSQL refuses a UTC offset past 15:59 that Python takes
(``?created_after=2020-06-10T03:56:00+16:22`` was a DataError), and SQLite's conversion to UTC
overflowed for ``0001-01-01T00:00:00+01:00`` (an OverflowError); both are form errors now.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError

MAX_ID = 2**63 - 1  # the largest bigint, on SQLite and PostgreSQL alike
MIN_BIGINT = -(2**63)
DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
ID_MESSAGE = f"An id is a whole number from 1 to {MAX_ID}."


def is_id(value: str) -> bool:
    """``value`` (text) is an id that a bigint column can hold."""
    value = value.strip()
    return value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID


def validate_id(value) -> None:
    if not is_id(str(value)):
        raise ValidationError(ID_MESSAGE, code="invalid")


class IdFilter(django_filters.NumberFilter):
    """A foreign key's id: a whole number (not a decimal) from 1 to ``MAX_ID``."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault(
            "error_messages",
            {"invalid": ID_MESSAGE, "min_value": ID_MESSAGE, "max_value": ID_MESSAGE},
        )
        super().__init__(*args, **kwargs)


class UtcDateTimeMixin:
    """A date-time field whose value is in UTC (and must have a UTC form). A date alone (what
    a list page's date input sends) is the start of that day in UTC."""

    def to_python(self, value):
        if isinstance(value, str) and DATE_ONLY.fullmatch(value.strip()):
            value = f"{value.strip()}T00:00:00+00:00"
        value = super().to_python(value)  # type: ignore[misc]
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError(
                "Give a date and time from the year 1 to 9999 in UTC.", code="invalid"
            ) from None


@functools.cache
def _in_utc(field_class: type) -> type:
    return type(f"Utc{field_class.__name__}", (UtcDateTimeMixin, field_class), {})


class FilterSet(django_filters.FilterSet):
    """The base of every app's FilterSet: no number filter is unbounded, every date-time is
    read in UTC.

    A number filter that declares no ``max_value``/``min_value`` gets the bigint range, so a
    FilterSet added later cannot send an out-of-range number to the database either.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for each in self.filters.values():
            if isinstance(each, django_filters.NumberFilter):
                each.extra.setdefault("max_value", MAX_ID)
                each.extra.setdefault("min_value", MIN_BIGINT)
            if issubclass(each.field_class, forms.DateTimeField):
                each.field_class = _in_utc(each.field_class)
