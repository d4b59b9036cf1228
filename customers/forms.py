"""Forms of the customer pages: a customer's details, a contact and its privileges. They check
shape; customers.accounts and customers.contacts decide."""

from __future__ import annotations

from django import forms

from customers.models import (
    DOMAIN_PRIVILEGES,
    PRIVILEGE_CATALOGUE,
    SERVICE_PRIVILEGES,
    Contact,
    Customer,
)
from portal.forms import StyledFormMixin

PRIVILEGE_LABELS = {
    "billing": {
        "emails": "Receive billing notifications",
        "payinvoice": "View and pay invoices",
        "orders": "Place new orders",
        "balance": "View account balance",
        "addfunds": "Add account funds",
        "creditcard": "Edit card details",
    },
    "support": {
        "newticket": "Open new tickets",
        "tickets": "View all tickets",
        "closeticket": "Close tickets",
        "emails": "Receive support notifications",
    },
    "misc": {
        "editmain": "Modify main profile details",
        "emails": "View e-mail history",
        "editipaccess": "Edit allowed IP access",
        "manageprofiles": "Add and edit contacts",
        "affiliates": "Affiliates section",
    },
    "domains": {
        "basic": "View basic details",
        "renew": "Renew",
        "notify": "Receive domain notifications",
        "contactinfo": "Contact information",
        "nameservers": "Manage nameservers",
        "dnsmanagement": "Manage DNS",
        "reglock": "Registrar lock",
        "idprotection": "ID protection",
        "eppcode": "Transfer (EPP) code",
        "autorenew": "Auto-renew",
    },
    "services": {name: name.capitalize() for name in SERVICE_PRIVILEGES},
}


def _choices(section: str, names: list[str]) -> list[tuple[str, str]]:
    return [(name, PRIVILEGE_LABELS[section].get(name, name)) for name in names]


class CustomerForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "first_name",
            "last_name",
            "company",
            "email",
            "phone",
            "address",
            "address2",
            "city",
            "state",
            "post_code",
            "country",
            "currency",
        ]
        labels = {"address": "Address", "address2": "Address (line 2)", "post_code": "Post code"}
        help_texts = {
            "phone": "International form with the country code, e.g. +234.8012345678.",
            "country": "Two-letter code, e.g. NG.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("address", "city", "country"):
            self.fields[name].required = True
        self.fields["country"].widget.attrs.update({"maxlength": 2, "autocomplete": "country"})
        self.fields["currency"].widget.attrs["maxlength"] = 3

    def _post_clean(self):
        # The services validate and save (the unique e-mail, the phone's form); skip the
        # ModelForm's own model validation so a rule is checked once, by the service.
        pass


class ContactForm(StyledFormMixin, forms.Form):
    """A contact and the seed-003 privileges it gets, as checkboxes; domain privileges for all
    of the customer's domains or for the chosen ones (the same list for each chosen domain)."""

    first_name = forms.CharField(max_length=100)
    last_name = forms.CharField(max_length=100)
    email = forms.EmailField(label="E-mail")
    phone = forms.CharField(max_length=32, required=False, help_text="e.g. +234.8012345678")
    company_name = forms.CharField(max_length=200, required=False, label="Company")
    type = forms.ChoiceField(choices=Contact.Type.choices, initial=Contact.Type.PRIVATE)
    billing = forms.MultipleChoiceField(
        choices=_choices("billing", PRIVILEGE_CATALOGUE["billing"]),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    support = forms.MultipleChoiceField(
        choices=_choices("support", PRIVILEGE_CATALOGUE["support"]),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    misc = forms.MultipleChoiceField(
        choices=_choices("misc", PRIVILEGE_CATALOGUE["misc"]),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Account",
    )
    domains_full = forms.BooleanField(
        required=False, label="Full control over all of the customer's domains"
    )
    domain_privileges = forms.MultipleChoiceField(
        choices=_choices("domains", DOMAIN_PRIVILEGES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="On the chosen domains",
    )
    domains = forms.MultipleChoiceField(
        required=False, label="Domains", help_text="Hold Ctrl (or Cmd) to choose several."
    )
    services_full = forms.BooleanField(required=False, label="Full control over services")
    send_invitation = forms.BooleanField(
        required=False,
        initial=True,
        label="E-mail an invitation to set a password and sign in",
    )

    def __init__(self, *args, domains=(), contact: Contact | None = None, **kwargs):
        if contact is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(contact)
        super().__init__(*args, **kwargs)
        self.fields["domains"].choices = [(str(d.pk), d.name) for d in domains]
        if contact is not None:
            del self.fields["send_invitation"]
            if contact.user_id is not None:
                self.fields["email"].disabled = True
                self.fields["email"].help_text = "The contact signs in with this address."

    @staticmethod
    def initial_for(contact: Contact) -> dict:
        privileges = contact.privileges or {}
        domains = privileges.get("domains") or {}
        chosen = [key for key in domains if key != "full"]
        services = privileges.get("services") or {}
        return {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
            "company_name": contact.company_name,
            "type": contact.type,
            "billing": privileges.get("billing", []),
            "support": privileges.get("support", []),
            "misc": privileges.get("misc", []),
            "domains_full": bool(domains.get("full")),
            "domains": chosen,
            "domain_privileges": sorted({p for key in chosen for p in domains.get(key, [])}),
            "services_full": bool(services.get("full")),
        }

    def clean(self):
        data = super().clean()
        if data.get("domains") and not data.get("domain_privileges"):
            self.add_error("domain_privileges", "Choose what the contact may do on those domains.")
        if data.get("domain_privileges") and not data.get("domains"):
            self.add_error("domains", "Choose the domains these privileges are for.")
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            name: data.get(name, "")
            for name in ("first_name", "last_name", "email", "phone", "company_name", "type")
        }

    def privileges(self) -> dict:
        data = self.cleaned_data
        privileges: dict = {}
        for section in ("billing", "support", "misc"):
            if data.get(section):
                privileges[section] = list(data[section])
        domains: dict = {}
        if data.get("domains_full"):
            domains["full"] = 1
        for pk in data.get("domains") or []:
            domains[str(pk)] = list(data.get("domain_privileges") or [])
        if domains:
            privileges["domains"] = domains
        if data.get("services_full"):
            privileges["services"] = {"full": 1}
        return privileges
