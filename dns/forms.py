"""Forms of the DNS pages. They check shape only; dns.services decides (and says why)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from dns.models import Zone, ZoneTemplate
from dns.rdata import TYPES
from dns.services import IMPORT_MODES, MAX_DNSKEY_TEXT
from portal.forms import StyledFormMixin

TYPE_CHOICES = [(t, t) for t in TYPES]


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, rename: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError next to the fields it names (the rest on top)."""
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for key, messages in items:
        key = (rename or {}).get(key, key)
        name = key if key in form.fields else None
        if key == NON_FIELD_ERRORS:
            name = None
        for message in messages:
            form.add_error(name, message)


class RecordForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        required=False,
        max_length=253,
        help_text="@ for the zone itself; www or www.example.com",
        widget=forms.TextInput(attrs={"placeholder": "@", "autocomplete": "off"}),
    )
    type = forms.ChoiceField(choices=TYPE_CHOICES, initial="A")
    ttl = forms.CharField(
        label="TTL",
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "3600"}),
    )
    priority = forms.CharField(
        required=False,
        max_length=5,
        help_text="MX, SRV, MXE",
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    content = forms.CharField(
        max_length=70000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "192.0.2.10"}),
    )

    def __init__(self, *args, prefix_id: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["content"].required = False  # the service says what is missing
        if prefix_id:
            for field in self.fields.values():
                field.widget.attrs["form"] = prefix_id

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "type": data["type"],
            "ttl": data["ttl"] or None,
            "priority": data["priority"] if data["priority"] != "" else None,
            "content": data["content"],
        }


class ZoneCreateForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        max_length=253,
        label="Domain name",
        help_text="One of your domains (e.g. example.com), or a name under one (shop.example.com)",
    )
    customer = forms.ModelChoiceField(queryset=None, empty_label="Choose a customer…")
    template = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="The default template"
    )
    empty = forms.BooleanField(
        required=False, label="Start empty (only the NS records of our name servers)"
    )
    backend = forms.ChoiceField(choices=Zone.Backend.choices, required=False)

    def __init__(self, *args, customers, templates, show_customer=True, show_backend=False, **kw):
        super().__init__(*args, **kw)
        self.fields["customer"].queryset = customers
        self.fields["customer"].label_from_instance = lambda c: f"{c.name} <{c.email}>"
        self.fields["template"].queryset = templates
        if not templates.exists():  # customers: their reseller's default applies
            del self.fields["template"]
        if not show_customer:
            del self.fields["customer"]
        if not show_backend:
            del self.fields["backend"]


class ImportForm(StyledFormMixin, forms.Form):
    text = forms.CharField(
        label="Zone file",
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "np-mono", "spellcheck": "false"}),
        help_text="Paste a BIND zone file, or upload one below",
    )
    upload = forms.FileField(required=False, label="…or upload a file")
    mode = forms.ChoiceField(
        choices=[
            ("replace", "Replace: the zone becomes the file"),
            ("merge", "Merge: add the file's records to the zone"),
        ],
        initial="replace",
        widget=forms.RadioSelect,
    )
    good_lines_only = forms.BooleanField(
        required=False, label="Import the good lines and leave out the rejected ones"
    )

    MAX_BYTES = 20 * 1024 * 1024

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload:
            if upload.size > self.MAX_BYTES:
                raise ValidationError({"upload": "The file is larger than 20 MB."})
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError({"upload": "The file is not UTF-8 text."}) from None
        if not (data.get("text") or "").strip():
            raise ValidationError({"text": "Paste a zone file or upload one."})
        if data.get("mode") not in IMPORT_MODES:
            data["mode"] = "replace"
        return data


class ForwardingForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        required=False, initial="@", label="Name", help_text="@ forwards the domain itself"
    )
    kind = forms.ChoiceField(
        choices=[("URL", "Redirect (301)"), ("FRAME", "Framed page (the address bar stays)")],
        label="How",
    )
    target = forms.CharField(label="Forward to", max_length=2000, required=False)


class EmailForwardForm(StyledFormMixin, forms.Form):
    source = forms.CharField(label="Address", max_length=64, required=False)
    destination = forms.CharField(label="Forward to", max_length=254, required=False)


class DnssecKeyForm(StyledFormMixin, forms.Form):
    flags = forms.ChoiceField(choices=[(257, "257 (KSK)"), (256, "256 (ZSK)")], initial=257)
    algorithm = forms.ChoiceField(choices=[], initial=13)
    public_key = forms.CharField(
        label="Public key (base64)",
        required=False,
        max_length=MAX_DNSKEY_TEXT,
        widget=forms.Textarea(attrs={"rows": 3, "class": "np-mono", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        from dns.rdata import DNSSEC_ALGORITHMS

        super().__init__(*args, **kwargs)
        self.fields["algorithm"].choices = [
            (n, f"{n} ({label})") for n, label in DNSSEC_ALGORITHMS.items()
        ]


class ZoneTemplateForm(StyledFormMixin, forms.ModelForm):
    livemode = forms.BooleanField(
        required=False,
        initial=True,
        label="For live zones",
        help_text="Unticked: a template for sandbox zones only",
    )

    class Meta:
        model = ZoneTemplate
        fields = ["name", "body", "is_default"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 12, "class": "np-mono", "spellcheck": "false"})
        }

    def __init__(self, *args, choose_mode: bool = False, **kwargs):
        """``choose_mode``: staff making a platform template pick its mode; everyone else's
        template takes the mode they look at, and a template never changes mode."""
        super().__init__(*args, **kwargs)
        if not choose_mode:
            del self.fields["livemode"]
