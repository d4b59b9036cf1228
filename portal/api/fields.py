"""Serializer fields of the native API that DRF's defaults get wrong for us."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.fields import empty


class BooleanField(serializers.BooleanField):
    """A boolean that a form or multipart body must send too.

    DRF reads a boolean missing from a form body as ``false`` (an HTML checkbox left unticked
    sends nothing), so ``PUT /domains/{id}/lock/`` with the body ``x=1`` unlocked the domain.
    An API call is not a checkbox: here a missing boolean is missing whatever the content type,
    so a required one is a 400 and an optional one takes its declared default.
    """

    default_empty_html = empty
