"""Emails about referrals, through the outbox.

What may go in a message: the reference, the kind of event and a link to a page behind sign-in.
Never the survivor's name, address or contact details, and never anything to the survivor: a
self-referrer sees their reference on the confirmation page and the SPA contacts them through the
channels they marked safe.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from referrals.models import (
    NotificationKind,
    NotificationStatus,
    Referral,
    ReferralNotification,
    ReferralSource,
    RiskLevel,
)
from safer.access.roles import SPA_ROLES
from safer.accounts.models import User
from safer.accounts.roles import ROLE_GROUP_NAMES
from safer.outbox.services import outbox_enqueue

logger = logging.getLogger(__name__)

NOTIFICATION_TASK = "referrals.tasks.referral_notification_send_task"
# A claim older than this is taken to belong to a worker that died mid-send.
STALE_CLAIM_SECONDS = 600


class TransientDeliveryError(Exception):
    """The mail server could not be reached; the task retries."""


@transaction.atomic
def referral_notifications_queue(*, referral: Referral) -> list[ReferralNotification]:
    """Create the notification rows for a new referral and queue one outbox row for each."""
    rows: list[ReferralNotification] = []
    if referral.source == ReferralSource.PROFESSIONAL and referral.referrer_email:
        rows.append(
            _notification(referral, NotificationKind.ACKNOWLEDGEMENT, referral.referrer_email)
        )
    if referral.urgent or referral.risk_level == RiskLevel.HIGH:
        for email in _spa_team_emails(referral):
            rows.append(_notification(referral, NotificationKind.TRIAGE_ALERT, email))
    survivor_email = getattr(getattr(referral.case_file, "safe_contact", None), "email", "")
    for row in rows:
        # Belt and braces: nothing is ever sent to the survivor's own address.
        if survivor_email and row.recipient.lower() == survivor_email.lower():
            row.delete()
            continue
        outbox_enqueue(task_name=NOTIFICATION_TASK, kwargs={"notification_id": str(row.id)})
    return [row for row in rows if row.pk is not None]


def _notification(referral: Referral, kind: str, recipient: str) -> ReferralNotification:
    row, _ = ReferralNotification.objects.get_or_create(
        referral=referral, kind=kind, recipient=recipient.strip().lower()
    )
    return row


def _spa_team_emails(referral: Referral) -> list[str]:
    """The SPA staff who triage this authority's referrals (a team mailbox may be added later)."""
    group_names = [ROLE_GROUP_NAMES[role] for role in SPA_ROLES]
    authority_id = referral.case_file.authority_id
    staff = (
        User.objects.filter(is_active=True, groups__name__in=group_names)
        .filter(authorities=authority_id, organisation__authorities=authority_id)
        .exclude(Q(email="") | Q(email__isnull=True))
        .values_list("email", flat=True)
        .distinct()
    )
    return sorted(set(staff))


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def notification_message(notification: ReferralNotification) -> Message:
    """The text of a notification: the reference and a link, nothing about the person."""
    referral = notification.referral
    if notification.kind == NotificationKind.ACKNOWLEDGEMENT:
        return Message(
            subject=f"Referral received: {referral.reference}",
            body=(
                f"Thank you. We have received your referral to {settings.SERVICE_NAME}.\n\n"
                f"Reference: {referral.reference}\n\n"
                "Quote this reference if you contact us about the referral. The Single Point "
                "of Access team will triage it and contact the person using the safe contact "
                "details you gave.\n\n"
                "Do not reply to this email.\n"
            ),
        )
    link = settings.SITE_URL + reverse("referrals:detail", kwargs={"referral_id": referral.id})
    reason = "urgent" if referral.urgent else "high risk"
    return Message(
        subject=f"Referral to triage now ({reason}): {referral.reference}",
        body=(
            f"A referral marked {reason} is waiting in the triage queue.\n\n"
            f"Reference: {referral.reference}\n"
            f"Open it (sign-in required): {link}\n"
        ),
    )


def notification_claim(*, notification_id: str) -> ReferralNotification | None:
    """Claim a notification for sending (compare-and-set), or None if it is not ours to send:
    already sent, or being sent by another worker whose claim is still fresh."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=STALE_CLAIM_SECONDS)
    claimable = Q(status=NotificationStatus.PENDING) | Q(
        status=NotificationStatus.SENDING, claimed_at__lt=stale
    )
    row = ReferralNotification.objects.filter(claimable, pk=notification_id).first()
    if row is None:
        return None
    claimed = (
        ReferralNotification.objects.filter(claimable, pk=notification_id)
        .filter(claimed_at=row.claimed_at)
        .update(status=NotificationStatus.SENDING, claimed_at=now, attempts=row.attempts + 1)
    )
    if not claimed:
        return None
    row.refresh_from_db()
    return row


def notification_deliver(*, notification_id: str) -> bool:
    """Send one notification at most once. Returns True when this call sent it.

    Raises ``TransientDeliveryError`` when the mail server is unreachable (the claim is released
    so a retry can take it).
    """
    row = notification_claim(notification_id=notification_id)
    if row is None:
        return False
    message = notification_message(row)
    try:
        send_mail(
            subject=message.subject,
            message=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[row.recipient],
        )
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as error:
        _fail(row, error)
        return False
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:  # permanent: retrying sends nothing
            _fail(row, error)
            return False
        _release(row, error)
        raise TransientDeliveryError(str(error)) from error
    except (ConnectionError, OSError, TimeoutError) as error:
        _release(row, error)
        raise TransientDeliveryError(str(error)) from error
    ReferralNotification.objects.filter(pk=row.pk).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _release(row: ReferralNotification, error: BaseException) -> None:
    ReferralNotification.objects.filter(pk=row.pk, status=NotificationStatus.SENDING).update(
        status=NotificationStatus.PENDING,
        claimed_at=None,
        last_error=f"{type(error).__name__}"[:300],
    )


def _fail(row: ReferralNotification, error: BaseException) -> None:
    logger.warning("referral notification %s failed permanently (%s)", row.pk, type(error).__name__)
    ReferralNotification.objects.filter(pk=row.pk).update(
        status=NotificationStatus.FAILED, last_error=f"{type(error).__name__}"[:300]
    )


def notification_give_up(*, notification_id: str, error: str) -> None:
    ReferralNotification.objects.filter(
        pk=notification_id, status=NotificationStatus.PENDING
    ).update(status=NotificationStatus.FAILED, last_error=error[:300])
