"""Reads for support casework. Lists start from ``visible_to(user)``; a case is opened through
its ``*_get_for_user`` seam (404 for missing and not-yours alike, one access-log row)."""
