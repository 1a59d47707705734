"""The safe-contact rule: one check for every path that records or arranges a contact with the
survivor (the SPA's contact attempts, adult and CYP attempts and sessions, a contractor booking a
survey or an installation) and for any message the system sends.

It answers one question: what do the survivor's safe-contact rules say against *this* contact?
Each answer is a ``RuleBreach`` (a code and a message the worker reads). The services refuse a
contact with breaches unless the worker gives a reason; the reason is kept on a
``SafeContactOverride`` row, shown on the case timeline and listed for the managers
(``safe_contact_overrides_for_manager``).

The rules it reads (``SafeContactRules``):
- **channel**: the channels marked safe (a text also needs ``text_safe``, as the panel says);
- **voicemail**: leaving a message needs ``voicemail_safe``;
- **times**: the survivor's own words (``safe_times``) turned into structured windows and days
  (``safe_windows``, ``safe_days``) by ``safe_times_parse``; either may be "not stated" (empty),
  and only what is stated is checked. A window may run overnight (22:00 to 02:00: its early
  hours belong to the day it started);
- **who may answer**: when only the survivor may answer, speaking to someone else on their phone
  is a breach.

The SPA's own channels (in person, the safe third party) are judged in ``referrals`` on top of
this rule; nothing here imports an app.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone

from safer.casefile.models import (
    CONTACT_RULE_LABELS,
    ContactChannel,
    SafeContactRules,
    WhoMayAnswer,
)

NO_RULES = "No safe-contact rules are recorded for this person: no channel is known to be safe."
NOT_LISTED = (
    "This channel is not marked safe for this person. Contacting them this way may alert the "
    "person causing harm."
)
NO_TEXTS = "Text messages are not marked safe for this person."
NO_VOICEMAIL = "Voicemail is not marked safe for this person: do not leave a message."
SURVIVOR_ONLY = (
    "Only the survivor may answer their phone: if someone else answers, do not say who you are "
    "or why you are calling."
)

# Channels whose timing the survivor's safe times govern: a call, a text or an email can be
# seen or heard by someone else when it arrives. A letter or a call to the referrer cannot.
TIMED_CHANNELS = frozenset({ContactChannel.PHONE, ContactChannel.TEXT, ContactChannel.EMAIL})
IN_PERSON = "in_person"  # a visit: not a channel of the rules, but timed like one

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Code:
    NO_RULES = "no_rules"
    CHANNEL = "channel"
    TEXT = "text"
    VOICEMAIL = "voicemail"
    TIME = "time"
    DAY = "day"
    ANSWER = "answer"


CODE_LABELS = CONTACT_RULE_LABELS


@dataclass(frozen=True)
class RuleBreach:
    code: str
    message: str


# --- Safe times ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeWindow:
    """From ``start`` up to (not including) ``end``, local time. ``end <= start`` runs overnight."""

    start: dt.time
    end: dt.time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def contains(self, moment: dt.time) -> bool:
        if self.overnight:
            return moment >= self.start or moment < self.end
        return self.start <= moment < self.end

    @property
    def label(self) -> str:
        return f"{_clock(self.start)} to {_clock(self.end)}"

    def as_json(self) -> list[str]:
        return [self.start.strftime("%H:%M"), self.end.strftime("%H:%M")]


def _clock(t: dt.time) -> str:
    """GOV.UK style: 10am, 12pm, 5:30pm, midnight, midday."""
    if t == dt.time(0, 0):
        return "midnight"
    if t == dt.time(12, 0):
        return "midday"
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    return f"{hour}{suffix}" if t.minute == 0 else f"{hour}:{t.minute:02d}{suffix}"


@dataclass(frozen=True)
class SafeTimes:
    """Structured safe times. Empty windows: times not stated; empty days: days not stated."""

    windows: tuple[TimeWindow, ...] = ()
    days: frozenset[int] = frozenset()  # Monday is 0

    @property
    def stated(self) -> bool:
        return bool(self.windows or self.days)

    @classmethod
    def of(cls, rules: SafeContactRules | None) -> SafeTimes:
        if rules is None:
            return cls()
        windows = []
        for pair in rules.safe_windows or []:
            try:
                start, end = (dt.time.fromisoformat(v) for v in pair)
            except (TypeError, ValueError):
                continue  # a malformed row counts as not stated, never as "any time is safe"
            windows.append(TimeWindow(start, end))
        days = frozenset(d for d in (rules.safe_days or []) if isinstance(d, int) and 0 <= d <= 6)
        return cls(tuple(windows), days)

    def windows_label(self) -> str:
        return ", ".join(w.label for w in self.windows) if self.windows else "Not stated"

    def days_label(self) -> str:
        if not self.days:
            return "Not stated"
        if self.days == frozenset(range(5)):
            return "Weekdays (Monday to Friday)"
        if self.days == frozenset({5, 6}):
            return "Weekends"
        return ", ".join(DAY_NAMES[d] for d in sorted(self.days))

    def allows(self, moment: dt.datetime) -> RuleBreach | None:
        """Whether a contact at ``moment`` is within the stated times and days."""
        local = timezone.localtime(moment)
        if not self.windows:
            return self.allows_day(local.date())
        for window in self.windows:
            if not window.contains(local.time()):
                continue
            # The early hours of an overnight window belong to the day it started.
            day = local.date()
            if window.overnight and local.time() < window.end:
                day -= dt.timedelta(days=1)
            if not self.days or day.weekday() in self.days:
                return None
        clock = _clock(local.time().replace(second=0, microsecond=0))
        when = f"{clock} on {DAY_NAMES[local.weekday()]}"
        return RuleBreach(
            Code.TIME,
            f"{when} is outside this person's safe times ({self.summary()}).",
        )

    def allows_day(self, day: dt.date) -> RuleBreach | None:
        if not self.days or day.weekday() in self.days:
            return None
        return RuleBreach(
            Code.DAY,
            f"{DAY_NAMES[day.weekday()]} is not one of this person's safe days "
            f"({self.days_label().lower()}).",
        )

    def summary(self) -> str:
        parts = []
        if self.windows:
            parts.append(self.windows_label())
        if self.days:
            parts.append(self.days_label().lower())
        return ", ".join(parts) if parts else "not stated"


_NEGATION = re.compile(r"\b(not|never|don'?t|do not|avoid|except|unless|no)\b", re.I)
_ANY_TIME = re.compile(r"\b(any ?time|whenever|all day)\b", re.I)
_DASH = "-|\u2013|\u2014"  # hyphen, en dash, em dash
_HOUR = r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_RANGE = re.compile(
    rf"(?:between\s+)?{_HOUR}\s*(?:{_DASH}|to|until|till|and)\s*{_HOUR}|"
    rf"\b(?:from\s+)?(midday|noon)\s*(?:{_DASH}|to|until|till)\s*{_HOUR}",
    re.I,
)
_AFTER = re.compile(rf"\bafter\s+{_HOUR}", re.I)
_PARTS = {
    # Conventional bounds for the survivor's words; the panel shows the result so a worker can
    # see (and the SPA correct) the reading.
    "morning": (dt.time(9, 0), dt.time(12, 0)),
    "lunchtime": (dt.time(12, 0), dt.time(14, 0)),
    "afternoon": (dt.time(12, 0), dt.time(17, 0)),
    "evening": (dt.time(17, 0), dt.time(21, 0)),
    "school hours": (dt.time(9, 0), dt.time(15, 0)),
    "office hours": (dt.time(9, 0), dt.time(17, 0)),
    "working hours": (dt.time(9, 0), dt.time(17, 0)),
}
_DAY_FORMS = {
    **{name.lower(): i for i, name in enumerate(DAY_NAMES)},
    **{name.lower() + "s": i for i, name in enumerate(DAY_NAMES)},
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "weds": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_DAY_RANGE = re.compile(rf"\b([a-z]+)\.?\s*(?:{_DASH}|to|until|till)\s*([a-z]+)\b", re.I)


def _to_time(hour: str, minute: str | None, meridiem: str | None, *, pair: str | None) -> dt.time:
    h, m = int(hour), int(minute or 0)
    mer = (meridiem or pair or "").replace(".", "").lower()
    if h > 23 or m > 59 or (mer and not 1 <= h <= 12):
        raise ValueError("not a time")
    if mer == "pm" and h != 12:
        h += 12
    elif mer == "am" and h == 12:
        h = 0
    return dt.time(h % 24, m)


def safe_times_parse(text: str) -> SafeTimes:
    """Turn the survivor's words ("Weekdays 10am to 12pm", "evenings after 7", "Mon-Wed
    mornings") into windows and days. Anything it cannot read safely is "not stated": words
    that negate ("not weekends", "never after 6") are left to the worker to read, never guessed.
    """
    text = (text or "").strip()
    if not text or _NEGATION.search(text) or _ANY_TIME.search(text):
        return SafeTimes()
    windows: list[TimeWindow] = []
    try:
        for match in _RANGE.finditer(text):
            g = match.groups()
            if g[6]:  # "midday to 2pm"
                start = dt.time(12, 0)
                end = _to_time(g[7], g[8], g[9], pair="pm")
            else:
                end = _to_time(g[3], g[4], g[5], pair=None)
                if g[2] or not g[5]:
                    if not g[2] and not g[5] and int(g[0]) <= 7:
                        continue  # "2 to 4" with no am/pm: ambiguous, left to the worker
                    start = _to_time(g[0], g[1], g[2], pair=None)
                    if not g[2] and start.hour <= 12 and end < start and end.hour + 12 > start.hour:
                        end = end.replace(hour=end.hour + 12)  # "9-5", "11 to 1": a day's hours
                else:
                    # "10 to 12pm", "2 to 4pm": the first takes the second's am/pm unless that
                    # puts it after the end (then it is the other half of the day).
                    start = _to_time(g[0], g[1], g[5], pair=None)
                    if start > end:
                        other = "am" if g[5].startswith("p") else "pm"
                        start = _to_time(g[0], g[1], other, pair=None)
            windows.append(TimeWindow(start, end))
        rest = _RANGE.sub(" ", text)
        for match in _AFTER.finditer(rest):
            h, m, mer = match.groups()
            if not mer and int(h) <= 11:
                mer = "pm"  # "after 7" means the evening
            windows.append(TimeWindow(_to_time(h, m, mer, pair=None), dt.time(0, 0)))
    except ValueError:
        return SafeTimes()
    lowered = text.lower()
    if not windows:
        for word, (start, end) in _PARTS.items():
            if word in lowered:
                windows.append(TimeWindow(start, end))
    days: set[int] = set()
    if "weekday" in lowered:
        days |= set(range(5))
    if "weekend" in lowered:
        days |= {5, 6}
    for match in _DAY_RANGE.finditer(lowered):
        first, last = _DAY_FORMS.get(match[1]), _DAY_FORMS.get(match[2])
        if first is None or last is None:
            continue
        day = first
        while True:
            days.add(day)
            if day == last:
                break
            day = (day + 1) % 7
    for word in re.findall(r"[a-z]+", lowered):
        if word in _DAY_FORMS:
            days.add(_DAY_FORMS[word])
    return SafeTimes(tuple(dict.fromkeys(windows)), frozenset(days))


def safe_times_fields(text: str) -> dict[str, object]:
    """The structured fields of ``SafeContactRules`` for the survivor's words."""
    parsed = safe_times_parse(text)
    return {
        "safe_windows": [w.as_json() for w in parsed.windows],
        "safe_days": sorted(parsed.days),
    }


# --- The rule -----------------------------------------------------------------------------------


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
    if rules is None or not rules.voicemail_safe:
        return NO_VOICEMAIL
    return None


def contact_check(
    rules: SafeContactRules | None,
    *,
    channels: Sequence[str],
    at: dt.datetime | None = None,
    on_day: dt.date | None = None,
    leaves_message: bool = False,
    someone_else_answered: bool = False,
) -> list[RuleBreach]:
    """Everything the rules say against one contact; empty when nothing does.

    ``channels``: the rules' channels the contact used (``ContactChannel`` values, or
    ``IN_PERSON`` for a visit); more than one when the record does not say which ("text or
    email"): each must be safe. ``at``: when it happened (or is booked for); ``on_day`` when
    only the date is known (a session), which checks the days but not the hours.
    """
    if rules is None:
        return [RuleBreach(Code.NO_RULES, NO_RULES)]
    breaches: list[RuleBreach] = []
    seen: set[str] = set()
    for channel in channels:
        if channel == IN_PERSON:
            continue
        if channel == ContactChannel.TEXT and not rules.text_safe:
            breach = RuleBreach(Code.TEXT, NO_TEXTS)
        elif not rules.channel_is_safe(channel):
            label = dict(ContactChannel.choices).get(channel, channel)
            one = f"{label} is not marked safe for this person."
            breach = RuleBreach(Code.CHANNEL, NOT_LISTED if len(channels) == 1 else one)
        else:
            continue
        if breach.message not in seen:
            seen.add(breach.message)
            breaches.append(breach)
    if leaves_message and not rules.voicemail_safe:
        breaches.append(RuleBreach(Code.VOICEMAIL, NO_VOICEMAIL))
    if someone_else_answered and rules.who_may_answer == WhoMayAnswer.SURVIVOR_ONLY:
        breaches.append(RuleBreach(Code.ANSWER, SURVIVOR_ONLY))
    if any(c in TIMED_CHANNELS or c == IN_PERSON for c in channels):
        times = SafeTimes.of(rules)
        if at is not None:
            timing = times.allows(at)
        elif on_day is not None:
            timing = times.allows_day(on_day)
        else:
            timing = None
        if timing is not None:
            breaches.append(timing)
    return breaches


def breach_codes(breaches: Iterable[RuleBreach]) -> list[str]:
    return [b.code for b in breaches]


def breaches_text(breaches: Iterable[RuleBreach]) -> str:
    return " ".join(b.message for b in breaches)


def message_may_go_to(rules: SafeContactRules | None, recipient: str) -> bool:
    """Whether the system may send an automated message to ``recipient``. It never writes to the
    survivor (the SPA contacts them through the channels they marked safe, at their safe times,
    by hand): a message to the survivor's own address is refused, whatever else it says."""
    if rules is None or not rules.email:
        return True
    return recipient.strip().lower() != rules.email.strip().lower()
