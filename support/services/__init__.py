"""Writes for support casework. Every status change is one function in this package.

The SPA's accept decision calls ``adult_support_case_open`` and ``cyp_case_open``::

    from support.services import adult_support_case_open, cyp_case_open

    adult_support_case_open(case_file=case_file, opened_by=user)
    for child in children:
        cyp_case_open(case_file=case_file, child=child, opened_by=user)
"""

from support.services.adult import adult_support_case_open
from support.services.cyp import cyp_case_open

__all__ = ["adult_support_case_open", "cyp_case_open"]
