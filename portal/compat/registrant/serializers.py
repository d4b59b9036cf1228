"""Seed 004's domain object, field by field, from Nameport's domain.

The declared fields are the OpenAPI document (each ``help_text`` says where the value comes
from); ``to_representation`` writes the object as the document shows it: every time in UTC with
milliseconds and a ``Z`` ("2015-09-09T09:11:14.861Z"), null when Nameport has no such time.
The list's and the detail's examples differ by one field (``valid_from`` in the list,
``registered_at`` in the detail): both answers carry both, with the same value.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers

from domains.models import Domain

TIME = "UTC, milliseconds, Z: 2015-09-09T09:11:14.861Z"


def document_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def registrar_name(domain: Domain) -> str:
    """The reseller as its customers know it: its brand's portal name, else its name."""
    organisation = domain.organisation
    return organisation.portal_name or organisation.name


def _time(help_text: str) -> serializers.DateTimeField:
    return serializers.DateTimeField(allow_null=True, help_text=f"{help_text} ({TIME}).")


def _null(help_text: str) -> serializers.CharField:
    return serializers.CharField(allow_null=True, help_text=help_text)


class RegistrantDomainSerializer(serializers.Serializer):
    """A domain as seed 004 shows it, with Nameport's data mapped into each field (see each
    field's description). The list and the detail answer the same object: the union of the
    document's two examples (``valid_from`` and ``registered_at`` both)."""

    # to_representation reads ``context["transfer_codes"]`` (domain id -> code, from
    # domains.services.domain_transfer_codes) and each domain's ``locked_since`` (the view's
    # annotation).
    id = serializers.UUIDField(help_text="The domain's UUID (Nameport's `Domain.uuid`).")
    name = serializers.CharField(help_text="The domain name, in its Unicode form.")
    registrar = serializers.CharField(
        help_text="The reseller (organisation) that holds the domain for the registrant, as its "
        "customers know it: the portal name of its brand when it set one, else its name."
    )
    valid_from = _time("When the domain was registered (`registered_at`); null while pending")
    registered_at = _time("The same value as `valid_from` (the detail example's name for it)")
    valid_to = _time("When the registration expires (`expires_at`)")
    registrant_id = serializers.IntegerField(
        help_text="The id of the customer account that holds the domain (the token's customer)."
    )
    transfer_code = serializers.CharField(
        allow_null=True,
        help_text="The transfer (auth, EPP) code, only while the domain is unlocked "
        "(registrar lock off) and the code has been fetched from the registry; null otherwise, "
        "as the registry shows it. Every answer that shows a code is written to the audit log.",
    )
    created_at = _time("When Nameport created the domain")
    updated_at = _time("When Nameport last changed the domain")
    name_dirty = serializers.CharField(help_text="The name in its Unicode form (as `name`).")
    name_puny = serializers.CharField(help_text="The name in its ASCII (punycode) form.")
    period = serializers.IntegerField(help_text="The registration period, in years.")
    period_unit = serializers.CharField(help_text='Always "y" (Nameport registers by the year).')
    creator_str = _null("Always null: Nameport does not expose who created the domain here.")
    updator_str = _null("Always null: Nameport does not expose who changed the domain here.")
    legacy_id = _null("Always null (the registry's migration fields).")
    legacy_registrar_id = _null("Always null (the registry's migration fields).")
    legacy_registrant_id = _null("Always null (the registry's migration fields).")
    outzone_at = _time("When the domain leaves the zone after expiry (the lifecycle's date)")
    delete_at = _time("When the domain is to be deleted after expiry (the lifecycle's date)")
    registrant_verification_asked_at = _null("Always null: no registrant verification flow.")
    registrant_verification_token = _null("Always null: no registrant verification flow.")
    locked_by_registrant_at = _time(
        "Null when the registrar lock is off. While it is on: when the lock was set, i.e. when "
        "the latest registry operation turning it on finished (when it was asked for, while it "
        "is still on its way), or when the domain was registered if it has been locked since"
    )
    pending_json = serializers.DictField(
        help_text="Always {}: the registry's pending registrant-change data (none in Nameport)."
    )
    force_delete_at = _null("Always null: Nameport has no forced deletion.")
    statuses = serializers.ListField(
        child=serializers.CharField(),
        help_text='The EPP statuses the registry last reported; ["ok"] when it reported none.',
    )
    reserved = serializers.BooleanField(
        help_text="Always false: a name Nameport holds is registered, not reserved."
    )
    status_notes = serializers.DictField(help_text="Always {}: Nameport keeps no notes per status.")
    statuses_backup = serializers.ListField(
        child=serializers.CharField(),
        help_text="Always []: Nameport keeps no backup of statuses.",
    )

    def to_representation(self, domain: Domain) -> dict:
        codes = self.context.get("transfer_codes", {})
        registered = document_time(domain.registered_at)
        locked_since = getattr(domain, "locked_since", None) if domain.registrar_lock else None
        return {
            "id": str(domain.uuid),
            "name": domain.name,
            "registrar": registrar_name(domain),
            "valid_from": registered,
            "registered_at": registered,
            "valid_to": document_time(domain.expires_at),
            "registrant_id": domain.customer_id,
            "transfer_code": codes.get(domain.pk),
            "created_at": document_time(domain.created_at),
            "updated_at": document_time(domain.updated_at),
            "name_dirty": domain.name,
            "name_puny": domain.name_puny,
            "period": domain.period,
            "period_unit": "y",
            "creator_str": None,
            "updator_str": None,
            "legacy_id": None,
            "legacy_registrar_id": None,
            "legacy_registrant_id": None,
            "outzone_at": document_time(domain.outzone_at),
            "delete_at": document_time(domain.delete_at),
            "registrant_verification_asked_at": None,
            "registrant_verification_token": None,
            "locked_by_registrant_at": document_time(locked_since),
            "pending_json": {},
            "force_delete_at": None,
            "statuses": list(domain.epp_statuses or []) or ["ok"],
            "reserved": False,
            "status_notes": {},
            "statuses_backup": [],
        }
