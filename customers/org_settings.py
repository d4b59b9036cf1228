"""The organisation's settings (/settings/): name, invoice details, default currency and
nameservers, renewal invoice lead time and reminder days, support address and the brand; and the
custom host name staff map to it. Owner and admin change them (``Right.SETTINGS`` of
customers/roles.py); every change is audited (field names, and the values that are not files)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from customers.branding import validate_logo
from customers.models import Organisation
from customers.roles import Right, require
from portal.audit import audit
from portal.tenancy import Actor

HOST_TAKEN = "This host name already belongs to another organisation."
SETTINGS_FIELDS = (
    "name",
    "legal_name",
    "address",
    "tax_number",
    "invoice_email",
    "default_currency",
    "default_nameservers",
    "renewal_invoice_days",
    "reminder_days",
    "support_email",
    "portal_name",
    "accent_colour",
)


def supported_currencies() -> tuple[str, ...]:
    return tuple(getattr(settings, "NAMEPORT_CURRENCIES", ("USD",)))


def _own_organisation(actor: Actor, organisation: Organisation) -> None:
    if not actor.is_staff and actor.organisation_id != organisation.pk:
        raise PermissionDenied("You may change your own organisation's settings only.")


def organisation_update_settings(
    *,
    actor: Actor,
    organisation: Organisation,
    values: dict,
    logo=None,
    remove_logo: bool = False,
) -> tuple[Organisation, list[str]]:
    """Set the given settings (keys of SETTINGS_FIELDS), a new logo (an uploaded image) or
    remove the logo. Returns the organisation and the names of the fields that changed."""
    require(actor, Right.SETTINGS)
    _own_organisation(actor, organisation)
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(f"Not a setting: {', '.join(sorted(unknown))}.")
    if "default_currency" in values and values["default_currency"] not in supported_currencies():
        raise ValidationError(
            {"default_currency": f"Choose one of {', '.join(supported_currencies())}."}
        )
    if logo is not None:
        try:
            validate_logo(logo)
        except ValidationError as error:
            raise ValidationError({"logo": error.messages}) from error
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = {name: getattr(organisation, name) for name in SETTINGS_FIELDS}
        old_logo = organisation.logo.name if organisation.logo else ""
        for name, value in values.items():
            setattr(organisation, name, value)
        organisation.full_clean(exclude=["logo", "slug"])
        changed = [n for n in SETTINGS_FIELDS if getattr(organisation, n) != before[n]]
        if logo is not None:
            organisation.logo.save(logo.name, logo, save=False)
            changed.append("logo")
        elif remove_logo and old_logo:
            organisation.logo = ""
            changed.append("logo")
        if not changed:
            return organisation, []
        organisation.save(update_fields=changed)
        audit(
            actor=actor,
            action="organisation.settings",
            obj=organisation,
            organisation=organisation,
            data={
                "changed": changed,
                "values": {n: _shown(getattr(organisation, n)) for n in changed if n != "logo"},
            },
        )
        if old_logo and "logo" in changed:
            storage = organisation.logo.storage
            transaction.on_commit(lambda: storage.delete(old_logo))
    return organisation, changed


def _shown(value):
    return value if isinstance(value, str | int | list | bool) or value is None else str(value)


def organisation_set_custom_host(
    *, actor: Actor, organisation: Organisation, host: str | None
) -> Organisation:
    """Staff map ``host`` (or nothing) to ``organisation``; a host belongs to one organisation."""
    if not actor.is_staff:
        raise PermissionDenied("Only platform staff map host names.")
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = organisation.custom_host
        organisation.custom_host = (host or "").strip().lower().rstrip(".") or None
        organisation.full_clean(exclude=["logo", "slug"])
        if organisation.custom_host == before:
            return organisation
        try:
            with transaction.atomic():
                organisation.save(update_fields=["custom_host"])
        except IntegrityError as taken:
            raise ValidationError({"custom_host": HOST_TAKEN}) from taken
        audit(
            actor=actor,
            action="organisation.custom_host",
            obj=organisation,
            organisation=organisation,
            data={"from": before, "to": organisation.custom_host},
        )
    return organisation
