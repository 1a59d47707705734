from __future__ import annotations

import smtplib

from celery import shared_task

from safer.accounts.services.passwords import password_reset_email_send


@shared_task(
    name="safer.accounts.tasks.password_reset_email_send_task",
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def password_reset_email_send_task(user_id: str) -> None:
    # Running twice sends a second, equally valid link: harmless, so no guard is kept.
    password_reset_email_send(user_id=user_id)
