"""The settings page's form: shape only (the service, customers.org_settings, decides)."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from customers.branding import logo_max_bytes, validate_logo
from customers.models import COLOUR_VALIDATOR, HOST_PATTERN
from customers.org_settings import supported_currencies
from portal.forms import StyledFormMixin

_SPLIT = re.compile(r"[\s,;]+")


def _items(text: str) -> list[str]:
    return [item for item in _SPLIT.split(text or "") if item]


class OrganisationSettingsForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label="Organisation name", max_length=200)
    legal_name = forms.CharField(
        label="Legal name on invoices",
        max_length=200,
        required=False,
        help_text="Shown as the seller on your customers' invoices; the name when empty.",
    )
    address = forms.CharField(
        label="Address on invoices", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tax_number = forms.CharField(label="Tax number", max_length=50, required=False)
    invoice_email = forms.EmailField(
        label="Invoice e-mail address",
        required=False,
        help_text="Receives a copy of every invoice e-mailed to your customers.",
    )
    default_currency = forms.ChoiceField(label="Default currency")
    default_nameservers = forms.CharField(
        label="Default nameservers",
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "ns1.example.net\nns2.example.net", "class": "np-mono"}
        ),
        help_text="One per line, 2 to 13: a registration without nameservers gets these. "
        "Leave blank for the platform's nameservers.",
    )
    renewal_invoice_days = forms.IntegerField(
        label="Renewal invoices, days before expiry",
        min_value=1,
        max_value=120,
        help_text="A renewal invoice is raised this many days before a domain expires.",
    )
    reminder_days = forms.CharField(
        label="Reminder days",
        max_length=100,
        required=False,
        help_text="Days before the expiry when an unpaid renewal invoice is reminded, "
        "e.g. 30, 14, 7, 1. Leave blank for no reminders.",
    )
    support_email = forms.EmailField(
        label="Support e-mail address",
        required=False,
        help_text="Ticket e-mails to your customers come from this address.",
    )
    portal_name = forms.CharField(
        label="Portal name",
        max_length=60,
        required=False,
        help_text="What your customers see instead of Nameport.",
    )
    accent_colour = forms.CharField(
        label="Accent colour",
        max_length=7,
        required=False,
        validators=[COLOUR_VALIDATOR],
        widget=forms.TextInput(attrs={"placeholder": "#1f4e79", "class": "np-mono"}),
        help_text="As #rrggbb; the colour of your customers' header.",
    )
    logo = forms.ImageField(
        label="Logo",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    remove_logo = forms.BooleanField(label="Remove the logo", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_currency"].choices = [(c, c) for c in supported_currencies()]
        self.fields[
            "logo"
        ].help_text = f"PNG, JPEG, GIF or WebP, at most {logo_max_bytes() // 1024} KB."

    @classmethod
    def initial_for(cls, organisation) -> dict:
        return {
            "name": organisation.name,
            "legal_name": organisation.legal_name,
            "address": organisation.address,
            "tax_number": organisation.tax_number,
            "invoice_email": organisation.invoice_email,
            "default_currency": organisation.default_currency,
            "default_nameservers": "\n".join(organisation.default_nameservers or []),
            "renewal_invoice_days": organisation.renewal_invoice_days,
            "reminder_days": ", ".join(str(d) for d in organisation.reminder_days or []),
            "support_email": organisation.support_email,
            "portal_name": organisation.portal_name,
            "accent_colour": organisation.accent_colour,
        }

    def clean_accent_colour(self) -> str:
        return self.cleaned_data["accent_colour"].strip().lower()

    def clean_default_nameservers(self) -> list[str]:
        hosts = [h.lower().rstrip(".") for h in _items(self.cleaned_data["default_nameservers"])]
        bad = [h for h in hosts if not HOST_PATTERN.match(h)]
        if bad:
            raise ValidationError(f"Not a host name: {', '.join(bad[:3])}.")
        if hosts and not 2 <= len(hosts) <= 13:
            raise ValidationError("Give 2 to 13 nameservers, or none.")
        return hosts

    def clean_reminder_days(self) -> list[int]:
        items = _items(self.cleaned_data["reminder_days"])
        if not all(item.isdigit() and 1 <= int(item) <= 120 for item in items):
            raise ValidationError("Give whole days from 1 to 120, e.g. 30, 14, 7, 1.")
        return sorted({int(item) for item in items}, reverse=True)

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if upload:
            validate_logo(upload)
        return upload

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("logo", None)
        data.pop("remove_logo", None)
        return data
