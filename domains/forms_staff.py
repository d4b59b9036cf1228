"""Staff forms of the registry set-up: a TLD's page, and a registrar account's typed form per
adapter kind (the settings and credentials each adapter reads, see ``domains/registrars/`` and
``domains/simulator/registry.py``) in place of raw JSON.

Credentials are write-only: the password inputs never render a value, a blank field keeps what
is stored, and the form says per field only whether something is stored. Settings keys the form
does not show (an EPP account's ``prices``, a sandbox's ``premium``) are kept as they are.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms

from domains.forms import TldForm
from domains.models import RegistrarAccount, TransferDefault
from portal.forms import StyledFormMixin

Kind = RegistrarAccount.Kind


class TldPageForm(TldForm):
    """Add or edit a TLD on its own page: the row's fields, the name (when adding), the
    pending-delete days, the answer to a transfer request by default and the reserved names."""

    name = forms.CharField(
        max_length=63, label="TLD", help_text="Without the dot: com, or a second level: com.ng."
    )
    pending_delete_days = forms.IntegerField(
        min_value=0, max_value=60, label="Pending delete days", initial=5
    )
    transfer_default = forms.ChoiceField(
        choices=TransferDefault.choices,
        label="Answer to a transfer request the customer has not answered",
        initial=TransferDefault.APPROVE,
    )
    reserved_names = forms.CharField(
        required=False,
        label="Reserved names",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One label per line (or comma-separated), without the TLD: never offered "
        "or registered here.",
    )

    field_order = [
        "name",
        "registrar_account",
        "grace_days",
        "redemption_days",
        "pending_delete_days",
        "min_years",
        "max_years",
        "idn_allowed",
        "is_active",
        "transfer_default",
        "reserved_names",
    ]

    def __init__(self, *args, creating: bool, **kwargs):
        kwargs.setdefault("prefix", None)
        super().__init__(*args, **kwargs)
        if not creating:
            del self.fields["name"]

    def clean(self):
        data = super().clean()
        low, high = data.get("min_years"), data.get("max_years")
        if low and high and low > high:
            self.add_error("max_years", "Must be at least the minimum years.")
        return data

    @classmethod
    def for_page(cls, tld, *, accounts) -> TldPageForm:
        return cls(
            accounts=accounts,
            creating=False,
            initial={
                "registrar_account": tld.registrar_account_id,
                "grace_days": tld.grace_days,
                "redemption_days": tld.redemption_days,
                "pending_delete_days": tld.pending_delete_days,
                "min_years": tld.min_years,
                "max_years": tld.max_years,
                "idn_allowed": tld.idn_allowed,
                "is_active": tld.is_active,
                "transfer_default": tld.transfer_default,
                "reserved_names": "\n".join(tld.reserved_names or []),
            },
        )


# --- registrar accounts ---------------------------------------------------------------------------
def _lines(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class SecretInput(forms.PasswordInput):
    """Never renders a value, whatever the form was bound to."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False
        )


class RegistrarAccountTypedForm(StyledFormMixin, forms.Form):
    """The fields every kind has; subclasses add the kind's settings and credentials.

    ``SETTINGS``: form field -> settings key; ``CREDENTIALS``: form field -> key of the
    credentials JSON (all of them write-only)."""

    kind: str = ""
    SETTINGS: dict[str, str] = {}
    CREDENTIALS: dict[str, str] = {}

    name = forms.CharField(max_length=100)
    livemode = forms.BooleanField(
        required=False,
        label="Live account",
        help_text="Live accounts register for real; sandbox ones never bill.",
    )
    rate_per_second = forms.IntegerField(min_value=1, label="Requests per second", initial=20)
    max_sessions = forms.IntegerField(min_value=1, label="Concurrent sessions", initial=4)
    is_active = forms.BooleanField(required=False, label="Active", initial=True)

    def __init__(self, *args, account: RegistrarAccount | None = None, **kwargs):
        self.account = account
        self.stored = self._stored_credentials(account)
        if account is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(account)
        super().__init__(*args, **kwargs)
        for field, key in self.CREDENTIALS.items():
            has = bool(self.stored.get(key))
            self.fields[field].required = False
            self.fields[field].widget = SecretInput()
            self.fields[field].help_text = (
                "Stored (never shown); leave blank to keep it, type a new one to replace it."
                if has
                else "Nothing stored yet."
            )
        if self.CREDENTIALS and account is not None and account.credentials:
            self.fields["clear_credentials"] = forms.BooleanField(
                required=False,
                label="Remove the stored credentials",
                help_text="The adapter cannot log in until new ones are saved.",
            )

    def _stored_credentials(self, account: RegistrarAccount | None) -> dict:
        if account is None or account.kind != self.kind or not account.credentials:
            return {}
        try:
            data = json.loads(str(account.credentials))
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @classmethod
    def initial_for(cls, account: RegistrarAccount) -> dict:
        initial = {
            "name": account.name,
            "livemode": account.livemode,
            "rate_per_second": account.rate_per_second,
            "max_sessions": account.max_sessions,
            "is_active": account.is_active,
        }
        settings = account.settings or {}
        for field, key in cls.SETTINGS.items():
            if key in settings:
                initial[field] = cls.show_setting(field, settings[key])
        return initial

    @staticmethod
    def show_setting(field: str, value):
        return "\n".join(map(str, value)) if isinstance(value, list) else value

    def setting_value(self, field: str, value):
        return value

    def kept_settings(self) -> list[str]:
        """Settings keys of the stored account that this form does not show (kept)."""
        if self.account is None:
            return []
        shown = set(self.SETTINGS.values())
        return sorted(k for k in (self.account.settings or {}) if k not in shown)

    def clean(self):
        data = super().clean()
        clearing = data.get("clear_credentials")
        for field, key in self.CREDENTIALS.items():
            if not data.get(field) and not self.stored.get(key) and not clearing:
                self.add_error(field, "Required: nothing is stored yet.")
        return data

    def service_values(self) -> dict:
        """The keyword arguments of ``admin_services.registrar_account_save``."""
        data = self.cleaned_data
        kept = {}
        if self.account is not None and self.account.kind == self.kind:
            kept = {
                k: v
                for k, v in (self.account.settings or {}).items()
                if k not in self.SETTINGS.values()
            }
        settings = dict(kept)
        for field, key in self.SETTINGS.items():
            value = self.setting_value(field, data.get(field))
            if value in (None, "", []):
                settings.pop(key, None)
            else:
                settings[key] = value
        values = {
            "name": data["name"],
            "kind": self.kind,
            "livemode": data.get("livemode", False),
            "settings": settings,
            "rate_per_second": data["rate_per_second"],
            "max_sessions": data["max_sessions"],
            "is_active": data.get("is_active", False),
        }
        clearing = bool(data.get("clear_credentials"))
        typed = {key: data.get(field) for field, key in self.CREDENTIALS.items()}
        if self.CREDENTIALS and any(typed.values()):
            merged = {} if clearing else dict(self.stored)
            merged.update({k: v for k, v in typed.items() if v})
            values["credentials"] = json.dumps(merged)
        elif clearing:
            values["clear_credentials"] = True
        return values


class SandboxAccountForm(RegistrarAccountTypedForm):
    kind = Kind.SANDBOX
    SETTINGS = {
        "latency_ms": "latency_ms",
        "failure_rate": "failure_rate",
        "failure_kind": "failure_kind",
        "balance": "balance",
        "reserved": "reserved",
        "replay": "replay",
    }
    latency_ms = forms.IntegerField(
        min_value=0, max_value=60_000, required=False, label="Latency (ms)", initial=0
    )
    failure_rate = forms.DecimalField(
        min_value=0,
        max_value=1,
        decimal_places=3,
        required=False,
        label="Failure rate",
        help_text="Share of changes that fail, 0 to 1.",
    )
    failure_kind = forms.ChoiceField(
        required=False,
        label="Failure kind",
        choices=[
            ("", "Transient (default)"),
            ("transient", "Transient"),
            ("permanent", "Permanent"),
            ("insufficient_funds", "Insufficient funds"),
            ("auth", "Authorization"),
        ],
    )
    balance = forms.DecimalField(
        min_value=0, decimal_places=2, required=False, label="Opening balance (USD)"
    )
    reserved = forms.CharField(
        required=False,
        label="Names the simulated registry never gives out",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text="Full names, one per line.",
    )
    replay = forms.BooleanField(
        required=False,
        label="Replay repeated idempotency keys",
        help_text="Off, like a real registry.",
    )

    def setting_value(self, field, value):
        if field == "reserved":
            return _lines(value or "")
        if field in ("failure_rate", "balance"):
            return str(value) if value is not None else None
        if field == "replay":
            return True if value else None
        if field == "latency_ms":
            return value or None
        return value

    @staticmethod
    def show_setting(field, value):
        if field in ("failure_rate", "balance") and value not in (None, ""):
            return Decimal(str(value))
        return RegistrarAccountTypedForm.show_setting(field, value)


class ResellerRestAccountForm(RegistrarAccountTypedForm):
    kind = Kind.RESELLER_REST
    SETTINGS = {"base_url": "base_url", "timeout": "timeout", "auth": "auth"}
    CREDENTIALS = {"username": "username", "api_token": "api_token"}
    base_url = forms.URLField(
        label="API base URL",
        assume_scheme="https",
        help_text="The registrar's API, e.g. https://api.registrar.example",
    )
    timeout = forms.FloatField(
        min_value=1, max_value=120, required=False, label="Timeout (seconds)", initial=10
    )
    auth = forms.ChoiceField(
        label="Authentication",
        choices=[
            ("session", "Session (POST /api/login, then a session token)"),
            ("headers", "User name and token on every request"),
        ],
        initial="session",
    )
    username = forms.CharField(max_length=200, label="API user name")
    api_token = forms.CharField(max_length=500, label="API token")

    def clean_base_url(self) -> str:
        value = (self.cleaned_data.get("base_url") or "").rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise forms.ValidationError("Enter an http:// or https:// address.")
        return value


class EppAccountForm(RegistrarAccountTypedForm):
    kind = Kind.EPP
    SETTINGS = {
        "host": "host",
        "port": "port",
        "cafile": "cafile",
        "certfile": "certfile",
        "keyfile": "keyfile",
        "timeout": "timeout",
        "keepalive_seconds": "keepalive_seconds",
        "check_batch_size": "check_batch_size",
        "currency": "currency",
        "restore_report": "restore_report",
    }
    CREDENTIALS = {"client_id": "client_id", "password": "password"}
    host = forms.CharField(max_length=253, label="EPP host", help_text="e.g. epp.registry.example")
    port = forms.IntegerField(min_value=1, max_value=65535, label="Port", initial=700)
    cafile = forms.CharField(
        max_length=500,
        required=False,
        label="CA bundle (path)",
        help_text="For a registry with a private CA; blank: the system CAs.",
    )
    certfile = forms.CharField(max_length=500, required=False, label="Client certificate (path)")
    keyfile = forms.CharField(max_length=500, required=False, label="Client key (path)")
    timeout = forms.FloatField(
        min_value=1, max_value=300, required=False, label="Timeout (seconds)", initial=30
    )
    keepalive_seconds = forms.IntegerField(
        min_value=10, max_value=3600, required=False, label="Keep-alive (seconds)", initial=240
    )
    check_batch_size = forms.IntegerField(
        min_value=1, max_value=100, required=False, label="Names per check", initial=20
    )
    currency = forms.CharField(
        max_length=3,
        required=False,
        label="Fee currency",
        help_text="Three letters (USD); blank: the registry's.",
    )
    restore_report = forms.BooleanField(
        required=False, label="Send the restore report after a restore request"
    )
    client_id = forms.CharField(max_length=16, label="Client ID (clID)")
    password = forms.CharField(max_length=128, label="Password")

    def clean_host(self) -> str:
        host = (self.cleaned_data.get("host") or "").strip()
        if not host or any(c in host for c in " /:@"):
            raise forms.ValidationError("Enter a host name or address, without a port or scheme.")
        return host

    def clean_currency(self) -> str:
        value = (self.cleaned_data.get("currency") or "").strip().upper()
        if value and (len(value) != 3 or not value.isalpha()):
            raise forms.ValidationError("Three letters, e.g. USD.")
        return value

    def clean(self):
        data = super().clean()
        if bool(data.get("certfile")) != bool(data.get("keyfile")):
            self.add_error("keyfile", "Give both the client certificate and its key, or neither.")
        return data

    def setting_value(self, field, value):
        if field == "restore_report":
            return True if value else None
        return value


ACCOUNT_FORMS: dict[str, type[RegistrarAccountTypedForm]] = {
    Kind.SANDBOX: SandboxAccountForm,
    Kind.RESELLER_REST: ResellerRestAccountForm,
    Kind.EPP: EppAccountForm,
}
