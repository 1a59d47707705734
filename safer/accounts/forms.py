"""Forms for the account pages. They only check what was typed; the services do the rest."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm as DjangoSetPasswordForm

SIGN_IN_FAILED_MESSAGE = "Enter a correct email address and password"


class SignInForm(forms.Form):
    # A plain text field, not EmailField: whatever is typed goes to authentication and counts
    # towards the lockout, so a malformed address gets the same answer as a wrong one.
    email = forms.CharField(
        max_length=254,
        strip=True,
        error_messages={"required": "Enter your email address"},
    )
    password = forms.CharField(
        max_length=4096,
        strip=False,
        error_messages={"required": "Enter your password"},
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        error_messages={"required": "Enter the code from your authenticator app"},
    )


class SetUpCodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app",
            "invalid": "The code must be 6 digits",
        },
    )


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
    )


class SetPasswordForm(DjangoSetPasswordForm):
    """Django's form (password validators, matching check) with GOV.UK-style messages."""

    error_messages = {
        **DjangoSetPasswordForm.error_messages,
        "password_mismatch": "The passwords do not match",
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].error_messages["required"] = "Enter a new password"
        self.fields["new_password2"].error_messages["required"] = "Enter the new password again"
