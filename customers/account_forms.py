"""Forms of one's own account and of the team pages: shape only; the services decide."""

from __future__ import annotations

from django import forms

from customers.models import Membership
from portal.forms import StyledFormMixin


class PasswordChangeForm(StyledFormMixin, forms.Form):
    old_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label="New password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", "The two new passwords are not the same.")
        return data


class EmailChangeForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(label="New e-mail address", max_length=254)
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CurrentPasswordForm(StyledFormMixin, forms.Form):
    current_password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RecoveryCodeForm(StyledFormMixin, forms.Form):
    recovery_code = forms.CharField(
        label="Recovery code",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false"}),
    )


# --- Team ----------------------------------------------------------------------------------


class InvitationForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices, initial="read_only")


class RoleForm(StyledFormMixin, forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices)


class AcceptInvitationForm(StyledFormMixin, forms.Form):
    """A new account for the invited address."""

    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords are not the same.")
        return data


class TwoFactorPolicyForm(StyledFormMixin, forms.Form):
    require_2fa_members = forms.BooleanField(
        label="Require two-factor sign-in for members of the team", required=False
    )
    require_2fa_customers = forms.BooleanField(
        label="Require two-factor sign-in for customers and their contacts", required=False
    )


class ApiKeyForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What uses it, e.g. 'WHMCS'.")
    mode = forms.ChoiceField(
        label="Mode",
        choices=[("sandbox", "Sandbox (test data, nothing billed)"), ("live", "Live")],
        initial="sandbox",
    )


class RegistrantTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        help_text="What uses it, e.g. “my domain monitor”.",
    )
