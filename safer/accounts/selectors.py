"""Reads for accounts. Role checks live in ``safer.access.roles`` (``user_roles``,
``user_has_role``, ``role_required``): one place that every app asks."""

from __future__ import annotations

import uuid
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from safer.accounts.models import AccountEvent, User, UserSession
from safer.accounts.services.sessions import live_sessions_filter


def user_sessions_live(*, user: User) -> QuerySet[UserSession]:
    """The user's sessions that the policy would still accept, most recently active first."""
    return UserSession.objects.filter(user=user).filter(live_sessions_filter())


def user_sessions_list(*, user: User) -> list[UserSession]:
    """Live sessions whose session still exists in the store. A session flushed by a path that
    does not know about UserSession (such as "Exit this page") drops out of the list at once
    instead of lingering until its idle limit."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    return [row for row in user_sessions_live(user=user) if store.exists(row.session_key)]


def user_session_get_for_user(*, user: User, session_id: uuid.UUID | str) -> UserSession:
    """One of the user's own live sessions; 404 for another person's, an ended one or nonsense."""
    try:
        return user_sessions_live(user=user).get(id=session_id)
    except (UserSession.DoesNotExist, ValueError, ValidationError) as error:
        raise Http404("No such session") from error


def account_events_for(*, user: User) -> QuerySet[AccountEvent]:
    return AccountEvent.objects.filter(user=user).select_related("actor")
