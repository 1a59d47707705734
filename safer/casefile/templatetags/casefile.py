"""Template tags for every case page, so the safe-contact rules read the same everywhere."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.template import Context
from django.urls import reverse

from safer.casefile.contact import SafeTimes
from safer.casefile.models import (
    CaseStatus,
    ContactChannel,
    Household,
    SafeContactRules,
    WhoMayAnswer,
)

register = template.Library()


@register.filter
def address(household: Household | None) -> str:
    """The household's address as text, one line per part, empty parts left out. Show it with
    ``|linebreaksbr`` (which escapes it): ``{{ household|address|linebreaksbr }}``."""
    if not household:
        return ""
    return "\n".join(household.address_lines)


def safe_contact_warnings(rules: SafeContactRules | None) -> list[str]:
    """The "do not" lines, first on the page: if missed, they can put someone in danger."""
    if not rules:
        return ["No safe-contact rules are recorded. Do not contact the survivor until they are."]
    warnings: list[str] = []
    if not rules.safe_channels:
        warnings.append("No channel is marked safe. Do not contact the survivor directly.")
    if not rules.voicemail_safe:
        warnings.append("Do not leave voicemail.")
    if not rules.text_safe:
        warnings.append("Do not send text messages.")
    if not rules.organisation_name_may_be_used:
        warnings.append("Do not say the name of your organisation or of the scheme.")
    times = SafeTimes.of(rules)
    if times.stated:
        warnings.append(f"Contact only at the safe times: {times.summary()}.")
    if rules.who_may_answer == WhoMayAnswer.SURVIVOR_ONLY:
        warnings.append(
            "If anyone but the survivor answers, do not say who you are or why you are calling."
        )
    return warnings


@register.inclusion_tag("casefile/includes/safe_contact.html", takes_context=True)
def safe_contact_panel(context: Context, rules: SafeContactRules | None) -> dict[str, object]:
    rules = rules or None  # a missing related row arrives from a template as ""
    change_url = ""
    request = context.get("request")
    if rules is not None and request is not None and rules.case_file.status != CaseStatus.CLOSED:
        # Everyone shown the panel works on the case and may record a change of arrangements;
        # the form brings them back to this page.
        change_url = (
            reverse("casefile:safe-contact-edit", kwargs={"case_file_id": rules.case_file_id})
            + "?"
            + urlencode({"next": request.get_full_path()})
        )
    channel_labels = dict(ContactChannel.choices)
    channels = [str(channel_labels.get(c, c)) for c in (rules.safe_channels if rules else [])]
    times = SafeTimes.of(rules)
    return {
        "rules": rules,
        "warnings": safe_contact_warnings(rules),
        "channels": channels,
        "windows": times.windows_label(),
        "days": times.days_label(),
        "change_url": change_url,
    }
