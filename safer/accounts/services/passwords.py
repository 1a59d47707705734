"""Password reset by email. A reset never signs anyone in, so it never skips the second factor.

The request step answers the same whether or not the address belongs to an account, and it does
the same work in the request either way: the email goes out from a worker, through the outbox,
so a slow mail server cannot reveal which addresses exist by how long the page takes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from safer.accounts.models import User
from safer.accounts.services.authentication import email_normalise
from safer.accounts.services.sessions import user_sessions_end_all
from safer.audit.models import AuthEventKind
from safer.audit.services import auth_event_record
from safer.outbox.services import outbox_enqueue

PASSWORD_RESET_EMAIL_TASK = "safer.accounts.tasks.password_reset_email_send_task"  # noqa: S105


@transaction.atomic
def password_reset_request(*, request: HttpRequest, email: str) -> None:
    email = email_normalise(email)
    auth_event_record(
        kind=AuthEventKind.PASSWORD_RESET,
        attempted_username=email,
        request=request,
        detail="reset link requested",
    )
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is not None and user.has_usable_password():
        outbox_enqueue(task_name=PASSWORD_RESET_EMAIL_TASK, kwargs={"user_id": str(user.pk)})


def password_reset_email_send(*, user_id: str) -> bool:
    """Send the reset link (run by a worker). Returns False if there is no one to send it to.

    The token is made here rather than carried through the outbox, so no live reset link is ever
    stored in the database or the broker.
    """
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "reset_url": f"{settings.SITE_URL}{path}",
        "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        "service_name": settings.SERVICE_NAME,
        "council_name": settings.COUNCIL_NAME,
    }
    send_mail(
        subject=f"Reset your {settings.SERVICE_NAME} password",
        message=render_to_string("accounts/email/password_reset.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True


@transaction.atomic
def password_reset_complete(*, request: HttpRequest, user: User, password: str) -> None:
    """Set the new password and end every session: whoever had the old one is out."""
    user.set_password(password)
    user.save(update_fields=["password"])
    count = user_sessions_end_all(user=user)
    auth_event_record(
        kind=AuthEventKind.PASSWORD_RESET,
        user=user,
        request=request,
        detail=f"password changed with a reset link; {count} session(s) ended",
    )
