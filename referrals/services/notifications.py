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
from safer.outbox.models import OutboxMessage
from safer.outbox.services import outbox_message_new

logger = logging.getLogger(__name__)

# One outbox row per referral: the worker expands it into the notifications (rows keyed by
# referral, kind and recipient) and sends each once. NOTIFICATION_TASK sends one row; it is kept
# for rows queued one per notification before the fan-out existed.
NOTIFICATIONS_TASK = "referrals.tasks.referral_notifications_send_task"
NOTIFICATION_TASK = "referrals.tasks.referral_notification_send_task"
# A claim older than this is taken to belong to a worker that died mid-send.
STALE_CLAIM_SECONDS = 600


class TransientDeliveryError(Exception):
    """The mail server could not be reached; the task retries."""


def _wants_acknowledgement(referral: Referral) -> bool:
    return referral.source == ReferralSource.PROFESSIONAL and bool(referral.referrer_email)


def _wants_triage_alert(referral: Referral) -> bool:
    return referral.urgent or referral.risk_level == RiskLevel.HIGH


def referral_notifications_message(*, referral: Referral) -> OutboxMessage | None:
    """A new referral's emails: one outbox row that the worker expands
    (``referral_notifications_create``) and sends; None when no email is due. Not inserted yet:
    the caller inserts it in its transaction with its other new rows (``outbox_message_new``)."""
    if not (_wants_acknowledgement(referral) or _wants_triage_alert(referral)):
        return None
    return outbox_message_new(
        task_name=NOTIFICATIONS_TASK, kwargs={"referral_id": str(referral.id)}
    )


@transaction.atomic
def referral_notifications_create(*, referral_id: str) -> list[ReferralNotification]:
    """The referral's notification rows, created on the first call and the same rows after (each
    is unique by referral, kind and recipient, so a task run twice creates nothing more).

    Who is told: the professional referrer (an acknowledgement), and, for an urgent or high-risk
    referral, the SPA staff of the referral's authority (a triage alert). Nothing ever goes to the
    survivor's own address.
    """
    referral = (
        Referral.objects.select_related("case_file__safe_contact").filter(pk=referral_id).first()
    )
    if referral is None:  # erased (retention) before the worker got to it
        return []
    wanted: list[tuple[str, str]] = []
    if _wants_acknowledgement(referral):
        wanted.append((NotificationKind.ACKNOWLEDGEMENT, referral.referrer_email))
    if _wants_triage_alert(referral):
        wanted.extend((NotificationKind.TRIAGE_ALERT, e) for e in _spa_team_emails(referral))
    survivor_email = getattr(getattr(referral.case_file, "safe_contact", None), "email", "")
    rows = [
        ReferralNotification(referral=referral, kind=kind, recipient=recipient.strip().lower())
        for kind, recipient in wanted
        # Belt and braces: nothing is ever sent to the survivor's own address.
        if not (survivor_email and recipient.strip().lower() == survivor_email.strip().lower())
    ]
    ReferralNotification.objects.bulk_create(rows, ignore_conflicts=True)
    return list(ReferralNotification.objects.filter(referral=referral).order_by("created_at"))


def referral_notifications_deliver(*, referral_id: str) -> int:
    """Create the referral's notifications if need be and send each not sent yet, at most once
    (``notification_deliver``'s claim). Returns how many this call sent.

    Every notification is tried; if the mail server was unreachable for any, raises
    ``TransientDeliveryError`` afterwards, so a retry sends only those (the others are sent).
    """
    sent = 0
    unreachable: TransientDeliveryError | None = None
    for row in referral_notifications_create(referral_id=referral_id):
        if row.status in (NotificationStatus.SENT, NotificationStatus.FAILED):
            continue
        try:
            sent += notification_deliver(notification_id=str(row.id))
        except TransientDeliveryError as error:
            unreachable = error
    if unreachable is not None:
        raise unreachable
    return sent


def referral_notifications_give_up(*, referral_id: str, error: str) -> None:
    """Mark what is still pending as failed: the retries are used up."""
    ReferralNotification.objects.filter(
        referral_id=referral_id, status=NotificationStatus.PENDING
    ).update(status=NotificationStatus.FAILED, last_error=error[:300])


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
