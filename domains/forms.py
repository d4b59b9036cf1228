"""Forms of the domains pages. They check shape only; the services decide (and their
``ValidationError`` messages are put back onto these forms by the views)."""

from __future__ import annotations

import re

from django import forms

from domains.models import DomainContact, RegistrarAccount, Tld
from domains.names import CONTACT_FIELDS
from portal.filtersets import is_id
from portal.forms import StyledFormMixin, style_form

MAX_YEARS = 10


def split_lines(value: str) -> list[str]:
    """One item per line (commas and spaces separate too); blanks dropped."""
    return [item for item in re.split(r"[\s,;]+", value or "") if item]


def year_choices(tld: Tld | None, *, minimum: int | None = None) -> list[tuple[int, str]]:
    low = minimum if minimum is not None else (tld.min_years if tld else 1)
    high = tld.max_years if tld else MAX_YEARS
    return [(n, f"{n} year{'s' if n > 1 else ''}") for n in range(low, high + 1)]


class YearsField(forms.TypedChoiceField):
    def __init__(self, *, choices, **kwargs):
        super().__init__(choices=choices, coerce=int, empty_value=None, **kwargs)


# --- ordering ---------------------------------------------------------------------------------
class SearchForm(StyledFormMixin, forms.Form):
    q = forms.CharField(
        label="Domain name",
        max_length=253,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Find your next domain, e.g. tunji or bücher.com",
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class CustomerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        label = f"{obj.name} <{obj.email}>"
        return label if obj.livemode else f"{label} (sandbox)"


class _OrderForm(StyledFormMixin, forms.Form):
    """Register and transfer share the name, the customer and the years."""

    name = forms.CharField(
        label="Domain name",
        max_length=253,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, customers=None, tld: Tld | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if customers is not None:
            self.fields["customer"] = CustomerChoiceField(
                queryset=customers, label="Customer", empty_label="Choose a customer…"
            )
            self.order_fields(["name", "customer"])
            style_form(self)
        self.tld = tld


class RegisterForm(_OrderForm):
    years = YearsField(choices=year_choices(None), label="Registration period", initial=1)
    nameservers = forms.CharField(
        required=False,
        label="Nameservers",
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "ns1.example.net\nns2.example.net", "class": "np-mono"}
        ),
        help_text="One per line, 2 to 13. Leave blank for the default nameservers.",
    )
    id_protection = forms.BooleanField(
        required=False,
        label="ID protection",
        help_text="Hide the registrant's details from the public WHOIS.",
    )
    autorenew = forms.BooleanField(
        required=False,
        initial=True,
        label="Renew automatically",
        help_text="Renewed before it expires, so it is never lost by accident.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["years"].choices = year_choices(self.tld)


class TransferForm(_OrderForm):
    auth_code = forms.CharField(
        label="Authorisation (EPP) code",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "np-mono"}),
        help_text="Ask the current registrar for it and unlock the domain there first.",
    )
    years = YearsField(choices=year_choices(None, minimum=1), label="Extend by", initial=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["years"].choices = year_choices(self.tld, minimum=1)


# --- one domain -------------------------------------------------------------------------------
class RenewForm(StyledFormMixin, forms.Form):
    years = YearsField(choices=year_choices(None, minimum=1), label="Renew for", initial=1)

    def __init__(self, *args, tld: Tld | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["years"].choices = year_choices(tld, minimum=1)


class RestoreForm(StyledFormMixin, forms.Form):
    """Restore from redemption: the reason goes to the registry (the rgp restore report)."""

    reason = forms.CharField(
        label="Why restore it?",
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional; sent to the registry with the restore. 200 characters at most.",
    )


class ToggleForm(forms.Form):
    """``value=1`` or ``value=0``: turn a flag on or off."""

    value = forms.TypedChoiceField(
        choices=[("1", "On"), ("0", "Off")],
        coerce=lambda v: v == "1",
        error_messages={"required": "Choose on or off."},
    )


class NameserversForm(StyledFormMixin, forms.Form):
    nameservers = forms.CharField(
        label="Nameservers",
        widget=forms.Textarea(attrs={"rows": 5, "class": "np-mono", "spellcheck": "false"}),
        help_text="One host name per line, 2 to 13.",
        error_messages={"required": "Give at least two nameservers."},
    )

    def clean_nameservers(self) -> list[str]:
        return split_lines(self.cleaned_data["nameservers"])


class ContactForm(StyledFormMixin, forms.Form):
    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    organization = forms.CharField(max_length=200, required=False, label="Organisation")
    email = forms.EmailField(label="E-mail")
    phone = forms.CharField(max_length=32, help_text="With the country code: +234.8012345678")
    address_1 = forms.CharField(max_length=255, label="Address")
    address_2 = forms.CharField(max_length=255, required=False, label="Address (line 2)")
    city = forms.CharField(max_length=100)
    state = forms.CharField(max_length=100, required=False, label="State / region")
    zip = forms.CharField(max_length=20, required=False, label="Post code")
    country = forms.CharField(
        max_length=2, min_length=2, help_text="Two letters, e.g. NG", label="Country"
    )

    @classmethod
    def for_contact(cls, role: str, contact: DomainContact | None) -> ContactForm:
        initial = {f: getattr(contact, f) for f in CONTACT_FIELDS} if contact else {}
        return cls(prefix=role, initial=initial)


class HostForm(StyledFormMixin, forms.Form):
    hostname = forms.CharField(
        label="Host name",
        max_length=253,
        widget=forms.TextInput(attrs={"class": "np-mono", "spellcheck": "false"}),
    )
    ipv4 = forms.CharField(
        label="IPv4 addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "np-mono", "placeholder": "192.0.2.53"}),
    )
    ipv6 = forms.CharField(
        label="IPv6 addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "np-mono", "placeholder": "2001:db8::53"}),
    )

    def clean_ipv4(self) -> list[str]:
        return split_lines(self.cleaned_data["ipv4"])

    def clean_ipv6(self) -> list[str]:
        return split_lines(self.cleaned_data["ipv6"])


class HostAddressesForm(HostForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["hostname"]


DS_ALGORITHMS = [
    (13, "13 · ECDSA P-256 SHA-256"),
    (14, "14 · ECDSA P-384 SHA-384"),
    (15, "15 · Ed25519"),
    (16, "16 · Ed448"),
    (8, "8 · RSA SHA-256"),
    (10, "10 · RSA SHA-512"),
    (7, "7 · RSA SHA-1 NSEC3"),
    (5, "5 · RSA SHA-1"),
]
DS_DIGEST_TYPES = [(2, "2 · SHA-256"), (4, "4 · SHA-384"), (1, "1 · SHA-1")]


class DsForm(StyledFormMixin, forms.Form):
    key_tag = forms.IntegerField(label="Key tag", min_value=0, max_value=65535)
    algorithm = forms.TypedChoiceField(choices=DS_ALGORITHMS, coerce=int, label="Algorithm")
    digest_type = forms.TypedChoiceField(choices=DS_DIGEST_TYPES, coerce=int, label="Digest type")
    digest = forms.CharField(
        label="Digest",
        max_length=200,
        widget=forms.TextInput(attrs={"class": "np-mono", "spellcheck": "false"}),
    )


# --- many domains -----------------------------------------------------------------------------
class IdsField(forms.Field):
    """Selected row ids (checkboxes named ``ids``). Any id is accepted here: the selector
    decides which of them the actor may touch."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        ids = []
        for item in values:
            if not is_id(str(item)):  # also keeps ids the database cannot hold out of the query
                raise forms.ValidationError("Select domains from the list.")
            ids.append(int(item))
        return list(dict.fromkeys(ids))


class BulkForm(StyledFormMixin, forms.Form):
    ACTIONS = [
        ("renew", "Renew"),
        ("autorenew_on", "Turn auto-renew on"),
        ("autorenew_off", "Turn auto-renew off"),
        ("nameservers", "Set nameservers"),
        ("lock", "Lock"),
        ("unlock", "Unlock"),
    ]
    MAX_DOMAINS = 500

    action = forms.ChoiceField(choices=[("", "Choose an action…"), *ACTIONS], label="Action")
    ids = IdsField(label="Domains", error_messages={"required": "Select at least one domain."})
    years = YearsField(choices=year_choices(None, minimum=1), required=False, label="Years")
    nameservers = forms.CharField(
        required=False,
        label="Nameservers",
        widget=forms.Textarea(attrs={"rows": 2, "class": "np-mono", "spellcheck": "false"}),
    )

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "renew" and not data.get("years"):
            self.add_error("years", "Choose how many years to renew for.")
        if action == "nameservers":
            data["nameservers"] = split_lines(data.get("nameservers", ""))
            if not data["nameservers"]:
                self.add_error("nameservers", "Give the nameservers, one per line.")
        if len(data.get("ids") or []) > self.MAX_DOMAINS:
            self.add_error("ids", f"Select at most {self.MAX_DOMAINS} domains at once.")
        return data


# --- staff (the TLD list's rows; the pages' forms are in domains.forms_staff) ---------------
class TldForm(StyledFormMixin, forms.Form):
    registrar_account = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Registrar account"
    )
    grace_days = forms.IntegerField(min_value=0, max_value=365, label="Grace days")
    redemption_days = forms.IntegerField(min_value=0, max_value=365, label="Redemption days")
    min_years = forms.IntegerField(min_value=1, max_value=10, label="Min years")
    max_years = forms.IntegerField(min_value=1, max_value=10, label="Max years")
    idn_allowed = forms.BooleanField(required=False, label="IDN")
    is_active = forms.BooleanField(required=False, label="On sale")

    def __init__(self, *args, accounts: list[RegistrarAccount], **kwargs):
        super().__init__(*args, **kwargs)
        self.accounts = {account.pk: account for account in accounts}
        self.fields["registrar_account"].choices = [("", "Not routed")] + [
            (account.pk, account.name) for account in accounts
        ]

    def clean_registrar_account(self) -> RegistrarAccount | None:
        pk = self.cleaned_data.get("registrar_account")
        return self.accounts.get(pk) if pk is not None else None

    @classmethod
    def for_tld(cls, tld: Tld, *, accounts: list[RegistrarAccount]) -> TldForm:
        return cls(
            prefix=f"tld-{tld.pk}",
            accounts=accounts,
            initial={
                "registrar_account": tld.registrar_account_id,
                "grace_days": tld.grace_days,
                "redemption_days": tld.redemption_days,
                "min_years": tld.min_years,
                "max_years": tld.max_years,
                "idn_allowed": tld.idn_allowed,
                "is_active": tld.is_active,
            },
        )
