"""Whether a way of reaching the survivor is safe by their safe-contact rules: one rule for the
SPA's contact attempts and the support workers', matching the "do not" lines of the panel
(``casefile`` template tags), so a worker is never told one thing and checked against another.
"""

from __future__ import annotations

from safer.casefile.models import ContactChannel, SafeContactRules

NO_RULES = "No safe-contact rules are recorded for this person: no channel is known to be safe."
NOT_LISTED = (
    "This channel is not marked safe for this person. Contacting them this way may alert the "
    "person causing harm."
)
NO_TEXTS = "Text messages are not marked safe for this person."
NO_VOICEMAIL = "Voicemail is not marked safe for this person."


def channel_warning(rules: SafeContactRules | None, channel: str) -> str | None:
    """The warning to show before contact on ``channel``; None when the rules mark it safe.

    A text message needs both: text marked safe and the channel listed (the panel says "Do not
    send text messages" unless ``text_safe``, and "Do not contact directly" with no channel).
    """
    if rules is None:
        return NO_RULES
    if channel == ContactChannel.TEXT and not rules.text_safe:
        return NO_TEXTS
    if rules.channel_is_safe(channel):
        return None
    return NOT_LISTED


def voicemail_warning(rules: SafeContactRules | None) -> str | None:
    if rules is not None and not rules.voicemail_safe:
        return NO_VOICEMAIL
    return None
