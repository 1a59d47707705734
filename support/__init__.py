"""Support casework (issue 6): adult survivors, and children and young people (CYP) with
Goal-Based Outcomes.

Layers: ``models/`` (records, TextChoices, constraints, the ``visible_to`` querysets),
``access.py`` (who sees which case), ``selectors/`` (reads: seams, caseloads, GBO, duplicates),
``services/`` (writes: every transition locks the case, checks ``*_TRANSITIONS``, writes its
``CaseEvent`` and any access grant in one transaction), ``views/`` + ``forms.py`` (thin pages),
``charts.py`` (the GBO chart's geometry), ``admin.py`` (configurable data only).

Dependencies point one way: this app imports the core (``safer.*``) and nothing else. The SPA
opens cases through ``support.services.adult_support_case_open`` / ``cyp_case_open``; reporting
reads the GBO figures through ``support.selectors.gbo.gbo_cases_annotated``.
"""
