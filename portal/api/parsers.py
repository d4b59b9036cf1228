"""The native API's request parsers: what a body may hold is decided here, once, for every write.

- JSON is nested at most ``MAX_JSON_DEPTH`` levels. ``"[" * 5000 + "]" * 5000`` made Python's
  decoder raise ``RecursionError`` (a 500); now it is a 400 before any view sees it.
- No text anywhere in a body (values and keys, JSON or form fields) may hold a lone surrogate
  (``"\\ud800"``: it cannot be encoded as UTF-8, so echoing it in an error or storing it in
  PostgreSQL failed) or a NUL character (PostgreSQL refuses it in text).
- JSON numbers are finite (``1e999`` is infinity, which no JSON answer can carry back).

Each refusal is a ``ParseError``: 400 with the usual ``{"message": ...}`` body. ``check_data``
serves the pages' JSON fields too (it raises ``UnstorableData``, a ``ValueError``).
"""

from __future__ import annotations

import json
import math
import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32


class UnstorableData(ValueError):
    """A parsed body holds what no field can take."""


# Any surrogate left in a str after decoding is a lone one (a valid pair is one code point).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _where(path: tuple) -> str:
    if not path:
        return "the body"
    # json.dumps escapes whatever the key holds, so the message itself stays valid UTF-8.
    return "".join(f"[{p}]" if isinstance(p, int) else f"[{json.dumps(p)}]" for p in path)


def _check_text(text: str, path: tuple) -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    if found.group() == "\x00":
        raise UnstorableData(f"Text cannot hold a NUL character (\\u0000): {_where(path)}.")
    raise UnstorableData(
        f"Text must be valid Unicode: {_where(path)} holds a lone surrogate "
        f"(\\u{ord(found.group()):04x})."
    )


def check_data(data, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse (``UnstorableData``) what no field can take; walked without recursion."""
    stack: list[tuple[object, tuple, int]] = [(data, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value, path)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise UnstorableData(f"Numbers must be finite: {_where(path)}.")
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                raise UnstorableData(f"The JSON is nested too deeply (at most {max_depth} levels).")
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(str(key), (*path, key))
                    stack.append((item, (*path, key), depth + 1))
            else:
                stack.extend((item, (*path, i), depth + 1) for i, item in enumerate(value))


def check_form(data) -> None:
    """A form body (QueryDict): names and values. Form text is decoded with replacement
    characters, so only a NUL can get through."""
    for key, values in data.lists():
        _check_text(key, ())
        for value in values:
            if isinstance(value, str):
                _check_text(value, (key,))


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)."
            ) from None
        try:
            check_data(data)
        except UnstorableData as exc:
            raise ParseError(str(exc)) from None
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        try:
            check_form(data)
        except UnstorableData as exc:
            raise ParseError(str(exc)) from None
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        try:
            check_form(parsed.data)
        except UnstorableData as exc:
            raise ParseError(str(exc)) from None
        return parsed
