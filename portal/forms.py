"""Forms of the portal shell: sign-in, TOTP verification and set-up, and form styling."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django_otp.forms import OTPTokenForm

_CHECK_WIDGETS = (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)


def style_form(form: forms.BaseForm) -> forms.BaseForm:
    """Give every widget of ``form`` its Bootstrap class (no template tags needed)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, _CHECK_WIDGETS):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        existing = widget.attrs.get("class", "")
        if css not in existing.split():
            widget.attrs["class"] = f"{existing} {css}".strip()
    return form


class StyledFormMixin:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class LoginForm(StyledFormMixin, AuthenticationForm):
    """Sign in with the e-mail address (the user model's USERNAME_FIELD); the field keeps the
    name ``username`` that Django's LoginView and django-axes read."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "E-mail address"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autofocus": True, "autocomplete": "email", "class": "form-control"}
        )

    def clean(self):
        # Authenticate with the USERNAME_FIELD keyword (``email``): django-axes reads the
        # user name from the credentials under that key, both when it records a failure and when
        # it checks for a lock-out, so both see the same (lower-cased) address.
        email = (self.cleaned_data.get("username") or "").strip().lower()
        password = self.cleaned_data.get("password")
        if email and password:
            self.user_cache = authenticate(
                self.request, **{get_user_model().USERNAME_FIELD: email}, password=password
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class StyledPasswordResetForm(StyledFormMixin, PasswordResetForm):
    pass


class StyledSetPasswordForm(StyledFormMixin, SetPasswordForm):
    """The new password of a password reset by e-mail. Saving it ends the account's sign-in
    lock-out: whoever followed the link holds the mailbox, so a locked-out owner gets back in."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            from portal.auth import clear_sign_in_lockout

            clear_sign_in_lockout(user)
        return user


class StaffOtpForm(StyledFormMixin, OTPTokenForm):
    """django-otp's token form, with the device preselected when the user has only one."""

    def __init__(self, user, request=None, *args, **kwargs):
        super().__init__(user, request, *args, **kwargs)
        choices = [value for value, _label in self.fields["otp_device"].choices if value]
        if len(choices) == 1:
            self.fields["otp_device"].initial = choices[0]
        self.fields["otp_device"].label = "Device"
        self.fields["otp_token"].label = "Code from your authenticator app"
        self.fields["otp_token"].widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        )


class OtpSetupForm(StyledFormMixin, forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
    )

    def __init__(self, device, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip().replace(" ", "")
        if not token.isdigit() or not self.device.verify_token(token):
            raise forms.ValidationError(
                "That code did not match. Check the time on your phone and try the current code."
            )
        return token
