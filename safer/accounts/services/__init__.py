"""Writes for accounts: signing in and out, sessions, two-factor, passwords and administration.

A package because one module would pass 600 lines; import from here.
"""

from safer.accounts.services.administration import (
    user_deactivate,
    user_may_administer_accounts,
    user_reactivate,
    user_role_grant,
    user_role_revoke,
    user_two_factor_reset,
)
from safer.accounts.services.authentication import (
    email_normalise,
    lockout_record,
    permission_denied_record,
    sign_in_attempt,
    user_sign_out,
)
from safer.accounts.services.passwords import (
    password_reset_complete,
    password_reset_email_send,
    password_reset_request,
)
from safer.accounts.services.sessions import (
    CannotEndCurrentSession,
    SessionStatus,
    user_session_end,
    user_session_expire,
    user_session_register,
    user_session_touch,
    user_sessions_end_all,
    user_sessions_end_others,
)
from safer.accounts.services.two_factor import (
    CodeCheck,
    TwoFactorAlreadySetUp,
    backup_codes_regenerate,
    otp_verify,
    totp_enrolment_confirm,
    totp_enrolment_start,
    user_has_second_factor,
)

__all__ = [
    "CannotEndCurrentSession",
    "CodeCheck",
    "SessionStatus",
    "TwoFactorAlreadySetUp",
    "backup_codes_regenerate",
    "email_normalise",
    "lockout_record",
    "otp_verify",
    "password_reset_complete",
    "password_reset_email_send",
    "password_reset_request",
    "permission_denied_record",
    "sign_in_attempt",
    "totp_enrolment_confirm",
    "totp_enrolment_start",
    "user_deactivate",
    "user_has_second_factor",
    "user_may_administer_accounts",
    "user_reactivate",
    "user_role_grant",
    "user_role_revoke",
    "user_session_end",
    "user_session_expire",
    "user_session_register",
    "user_session_touch",
    "user_sessions_end_all",
    "user_sessions_end_others",
    "user_sign_out",
    "user_two_factor_reset",
]
