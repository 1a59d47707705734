"""The admin site (system administrators only, second factor required) and the user admin.

Role changes, deactivation and two-factor resets go through the services, so each is audited;
the raw group and permission fields are not offered at all.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import password_validation
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from safer.access.roles import user_roles
from safer.accounts.models import AccountEvent, User
from safer.accounts.roles import Role
from safer.accounts.services import (
    user_deactivate,
    user_may_administer_accounts,
    user_reactivate,
    user_role_grant,
    user_role_revoke,
    user_two_factor_reset,
)


class SaferAdminSite(OTPAdminSite):
    """OTPAdminSite's rule (active, staff, verified by a second factor), with SAFER's own sign-in
    page instead of the admin's, so there is one sign-in with one lockout and one audit trail."""

    site_header = f"{settings.SERVICE_NAME} administration"
    site_title = f"{settings.SERVICE_NAME} administration"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if self.has_permission(request):
            return super().login(request, extra_context)  # redirects to the index
        if request.user.is_authenticated and getattr(request.user, "is_verified", lambda: False)():
            raise PermissionDenied
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, settings.LOGIN_URL)

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        from safer.accounts.views import sign_out

        return sign_out(request)


admin.site.__class__ = SaferAdminSite


class UserChangeForm(forms.ModelForm):
    roles = forms.TypedMultipleChoiceField(
        choices=Role.choices,
        coerce=Role,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Each change is recorded. You cannot change your own roles.",
    )

    class Meta:
        model = User
        fields = ["email", "full_name", "organisation", "team", "authorities"]

    def __init__(self, *args: Any, acting_user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acting_user = acting_user
        if self.instance.pk:
            self.fields["roles"].initial = sorted(user_roles(self.instance))

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        others = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("Another account already uses this email address")
        return email

    def clean_roles(self) -> set[Role]:
        roles = set(self.cleaned_data.get("roles") or [])
        editing_self = self.acting_user is not None and self.acting_user.pk == self.instance.pk
        if editing_self and roles != set(user_roles(self.instance)):
            raise forms.ValidationError("You cannot change your own roles")
        return roles


class UserCreationForm(UserChangeForm):
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The passwords do not match")
        elif first:
            try:
                password_validation.validate_password(first, self.instance)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
            self.save_m2m()
        return user


class AccountEventInline(admin.TabularInline):
    model = AccountEvent
    fk_name = "user"
    fields = ("occurred_at", "kind", "role", "actor_label", "detail")
    readonly_fields = ("occurred_at", "kind", "role", "actor_label", "detail")
    extra = 0
    can_delete = False
    verbose_name_plural = "Access changes (append-only)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_may_administer_accounts(_acting(request))


def _acting(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ["email", "full_name", "organisation", "is_active", "role_list"]
    list_filter = ["is_active", "organisation", "groups"]
    search_fields = ["email", "full_name"]
    ordering = ["full_name"]
    readonly_fields = ["is_active", "is_staff", "is_superuser", "last_login", "date_joined"]
    filter_horizontal = ["authorities"]
    inlines = [AccountEventInline]
    actions = ["deactivate", "reactivate", "reset_two_factor"]
    fieldsets = [
        (None, {"fields": ["email", "full_name"]}),
        ("Where they work", {"fields": ["organisation", "team", "authorities"]}),
        ("Roles", {"fields": ["roles"]}),
        (
            "Status",
            {"fields": ["is_active", "is_staff", "is_superuser", "last_login", "date_joined"]},
        ),
    ]
    add_fieldsets = [
        (None, {"fields": ["email", "full_name", "password1", "password2"]}),
        ("Where they work", {"fields": ["organisation", "team", "authorities"]}),
        ("Roles", {"fields": ["roles"]}),
    ]

    @admin.display(description="Roles")
    def role_list(self, obj: User) -> str:
        return ", ".join(sorted(str(role.label) for role in user_roles(obj))) or "None"

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        form_class = super().get_form(request, obj, change=change, **kwargs)
        acting = _acting(request)

        class FormWithActor(form_class):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, acting_user=acting, **inner)

        return FormWithActor

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        user: User = form.instance
        wanted = set(form.cleaned_data.get("roles") or [])
        held = set(user_roles(user))
        acting = _acting(request)
        for role in sorted(wanted - held):
            user_role_grant(user=user, role=role, granted_by=acting)
        for role in sorted(held - wanted):
            user_role_revoke(user=user, role=role, revoked_by=acting)

    @admin.action(description="Deactivate selected users (ends all their sessions)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(
            request,
            queryset,
            lambda user: user_deactivate(
                user=user, deactivated_by=_acting(request), request=request
            ),
            "deactivated",
        )

    @admin.action(description="Reactivate selected users")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(
            request,
            queryset,
            lambda user: user_reactivate(user=user, reactivated_by=_acting(request)),
            "reactivated",
        )

    @admin.action(description="Reset two-factor (lost phone): they set it up again at sign-in")
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(
            request,
            queryset,
            lambda user: user_two_factor_reset(
                user=user, reset_by=_acting(request), request=request
            ),
            "reset",
        )

    def _each(self, request: HttpRequest, queryset: QuerySet[User], change: Any, done: str) -> None:
        changed = 0
        for user in queryset:
            try:
                change(user)
            except PermissionDenied as error:
                self.message_user(request, f"{user.email}: {error}", messages.ERROR)
            else:
                changed += 1
        self.message_user(request, f"{changed} user(s) {done}.", messages.SUCCESS)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_may_administer_accounts(_acting(request))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_may_administer_accounts(_acting(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return user_may_administer_accounts(_acting(request))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_may_administer_accounts(_acting(request))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # People are deactivated, never deleted: the audit trail points at them.
        return False
