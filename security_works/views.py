"""Job pages for contractors and the SPA. Thin: reads through the selectors (``visible_to`` and the
``security_job_get_for_user`` seam), writes through the services."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from safer.access.roles import SPA_ROLES, role_required, user_roles
from safer.access.scoping import user_authorities
from safer.access.seams import get_for_user_or_404
from safer.accounts.models import User
from safer.accounts.roles import Role
from safer.concurrency import EditConflict, VersionField, conflict_context, form_version_set
from safer.organisations.models import District
from safer.paging import page_without_count
from security_works import selectors, services, steps
from security_works.documents import job_document_get_for_user, job_document_upload
from security_works.exceptions import InvalidTransition, SecurityWorksError, UnsafeContact
from security_works.filters import JobFilterForm
from security_works.forms import (
    AccessNotesForm,
    ApprovalDecisionForm,
    BookingForm,
    CancelForm,
    ConfirmForm,
    DocumentUploadForm,
    FireSafetyCheckForm,
    HoldForm,
    InstalledLineFormSet,
    JobStepForm,
    LandlordConsentForm,
    OptionalWhenForm,
    PostInstallationCheckForm,
    SurveyForm,
    SurveyLineFormSet,
    VariationForm,
    installed_lines,
    survey_lines,
)
from security_works.job_sheet import job_sheet_render
from security_works.models import (
    ApprovalStatus,
    CostApproval,
    InstalledMeasure,
    JobDocument,
    JobHold,
    SecurityJob,
    SlaPolicy,
)
from security_works.services import MeasureLine

PAGE_SIZE = 50
# Who opens jobs: the contractor (and its manager) for its own jobs, the SPA for its authorities.
VIEW_ROLES = (Role.CONTRACTOR, Role.PROVIDER_MANAGER, Role.SPA_TRIAGE, Role.SPA_MANAGER)
# Who records the work, and the SPA-only steps: see ``security_works.steps``.
WORK_ROLES = tuple(sorted(steps.WORK_ROLES))
SPA_ONLY = tuple(sorted(steps.SPA_ONLY))


@role_required(*VIEW_ROLES)
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    """Jobs by nearest breach (or as sorted), filtered, paged without a COUNT. Rows carry no
    personal details (reference, district, dates)."""
    districts = District.objects.filter(authority__in=user_authorities(request.user))
    form = JobFilterForm(request.GET or None, districts=districts)
    page = page_without_count(
        selectors.job_list_for_user(request.user, form.filters()),
        params=request.GET,
        per_page=PAGE_SIZE,
    )
    policies = _policies()
    now = timezone.now()
    rows = [
        {
            "job": job,
            "rag": selectors.job_rag(job, policy=_policy(policies, job), now=now),
        }
        for job in page.object_list
    ]
    return render(
        request,
        "security_works/job_list.html",
        {"page": page, "rows": rows, "form": form, "filtered": bool(request.GET)},
    )


@role_required(*VIEW_ROLES)
@require_GET
def job_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    address = selectors.job_address_reveal(user=user, job=job, request=request)
    roles = user_roles(user)
    is_spa = bool(roles & SPA_ROLES)
    if address is None and not is_spa:
        # A closed job: the contractor keeps only the reference (and what happened to it).
        return render(request, "security_works/job_closed.html", {"job": job})
    policy = selectors.sla_policy_for(contract_id=job.contract_id)
    plan = selectors.planned_lines(job)
    fire_check_due = selectors.fire_safety_check_due(job, plan)
    context = {
        "job": job,
        "address": address,
        "is_spa": is_spa,
        "clocks": selectors.job_clocks(job, policy=policy),
        "plan": plan,
        "money": selectors.job_money(job, plan),
        "fire_safety_check_due": fire_check_due,
        "needs_fire_safety_check": any(line.measure.affects_escape_routes for line in plan),
        "actions": steps.job_actions(job, roles=roles, fire_safety_check_due=fire_check_due),
        "installed": InstalledMeasure.objects.filter(job=job).select_related("measure"),
        "installed_total": selectors.installed_total(job),
        "approvals": CostApproval.objects.filter(job=job)
        .exclude(status=ApprovalStatus.SUPERSEDED)
        .select_related("decided_by"),
        "holds": JobHold.objects.filter(job=job),
        "documents": JobDocument.objects.filter(job=job) if address is not None else [],
        "landlord_consents": job.landlord_consents.all(),
        "fire_safety_checks": job.fire_safety_checks.all(),
        "can_approve": Role.SPA_MANAGER in roles,
    }
    return render(request, "security_works/job_detail.html", context)


@role_required(*VIEW_ROLES)
@require_GET
def job_sheet_pdf(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """The job sheet a contractor prints for the visit: the same allow-list as the page and the
    API (``contractor_view``); no address once the job is closed."""
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    address = selectors.job_address_reveal(user=user, job=job, request=request)
    response = HttpResponse(
        job_sheet_render(job=job, address=address), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=f"{job.reference}-job-sheet.pdf")
        or "attachment"
    )
    response["Cache-Control"] = "no-store, private"
    return response


@role_required(Role.SPA_MANAGER)
@require_GET
def approvals_queue(request: HttpRequest) -> HttpResponse:
    """Cost approvals and variations waiting for an SPA manager, the most overdue first."""
    user = _user(request)
    page = Paginator(selectors.approvals_pending_for_user(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "security_works/approvals_queue.html",
        {"page": page, "now": timezone.now()},
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_book_survey(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _booking(
        request,
        job_id,
        step="book-survey",
        title="Book the survey",
        book=lambda job, user, form: services.security_job_book_survey(
            job=job,
            actor=user,
            booked_for=form.moment(),
            arranged_via=form.cleaned_data["arranged_via"],
            unsafe_contact_reason=form.cleaned_data["unsafe_contact_reason"],
        ),
        done="Survey booked",
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_book_installation(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _booking(
        request,
        job_id,
        step="book-installation",
        title="Book the installation",
        book=lambda job, user, form: services.security_job_book_installation(
            job=job,
            actor=user,
            booked_for=form.moment(),
            arranged_via=form.cleaned_data["arranged_via"],
            unsafe_contact_reason=form.cleaned_data["unsafe_contact_reason"],
        ),
        done="Installation booked",
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_record_survey(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    if (refused := _step_refused(request, job, "record-survey")) is not None:
        return refused
    measures = selectors.measures_effective_on(timezone.localdate())
    data = request.POST if request.method == "POST" else None
    form = SurveyForm(data, prefix="survey")
    formset = SurveyLineFormSet(data, prefix="lines", form_kwargs={"measures": measures})
    status = 200
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.security_job_record_survey(
                job=job,
                actor=user,
                lines=survey_lines(formset),
                survivor_consents=form.cleaned_data["survivor_consents"],
                surveyed_at=form.moment_or_none(),
            )
        except SecurityWorksError as error:
            status = _error(form, error)
        else:
            messages.success(request, "Survey recorded")
            return redirect("security_works:job-detail", job_id=job.pk)
    return render(
        request,
        "security_works/survey_form.html",
        {"job": job, "form": form, "formset": formset},
        status=status,
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_record_installation(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    if (refused := _step_refused(request, job, "record-installation")) is not None:
        return refused
    plan = selectors.planned_lines(job)
    measures = list({line.measure.pk: line.measure for line in plan}.values())
    initial = [
        {"measure": line.measure.pk, "quantity": line.quantity, "actual_cost": line.line_total}
        for line in plan
    ]
    data = request.POST if request.method == "POST" else None
    form = OptionalWhenForm(data, prefix="installed")
    formset = InstalledLineFormSet(
        data, prefix="lines", initial=initial, form_kwargs={"measures": measures}
    )
    status = 200
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            services.security_job_record_installation(
                job=job,
                actor=user,
                lines=installed_lines(formset),
                installed_at=form.moment_or_none(),
            )
        except SecurityWorksError as error:
            status = _error(form, error)
        else:
            messages.success(request, "Installation recorded")
            return redirect("security_works:job-detail", job_id=job.pk)
    return render(
        request,
        "security_works/installation_form.html",
        {"job": job, "form": form, "formset": formset},
        status=status,
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_document_upload_view(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    if (refused := _step_refused(request, job, "document-upload")) is not None:
        return refused
    form = DocumentUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            job_document_upload(
                job=job,
                uploaded_by=user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except SecurityWorksError as error:
            form.add_error("file", error.message)
            status = 409 if isinstance(error, InvalidTransition) else 400
        else:
            messages.success(request, "File uploaded")
            return redirect("security_works:job-detail", job_id=job.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request, "security_works/document_form.html", {"job": job, "form": form}, status=status
    )


@role_required(*VIEW_ROLES)
@require_GET
def job_document_download(
    request: HttpRequest, job_id: uuid.UUID, document_id: uuid.UUID
) -> HttpResponse:
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    document = job_document_get_for_user(
        user=user, job=job, document_id=document_id, request=request
    )
    # Files are at most a few MB (see documents.max_upload_bytes): read whole, no streaming.
    with document.file.open("rb") as stored:
        response = HttpResponse(stored.read(), content_type=document.content_type)
    filename = f"{job.reference}-{document.kind}{document.extension}"
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=filename) or "attachment"
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(*SPA_ONLY)
@require_http_methods(["GET", "POST"])
def job_put_on_hold(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        form_class=HoldForm,
        step="hold",
        title="Put the job on hold",
        button="Put on hold",
        perform=lambda job, user, data: services.security_job_put_on_hold(
            job=job, actor=user, reason=data["reason"], note=data["note"]
        ),
        done="Job put on hold: its clocks are paused",
    )


@role_required(*SPA_ONLY)
@require_http_methods(["GET", "POST"])
def job_resume(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        form_class=ConfirmForm,
        step="resume",
        title="Resume the job",
        button="Resume",
        perform=lambda job, user, data: services.security_job_resume(job=job, actor=user),
        done="Job resumed",
    )


@role_required(*SPA_ONLY)
@require_http_methods(["GET", "POST"])
def job_cancel(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        form_class=CancelForm,
        step="cancel",
        title="Cancel the job",
        button="Cancel the job",
        perform=lambda job, user, data: services.security_job_cancel(
            job=job, actor=user, reason=data["reason"], note=data["note"]
        ),
        done="Job cancelled",
    )


@role_required(*SPA_ONLY)
@require_http_methods(["GET", "POST"])
def job_complete(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        form_class=ConfirmForm,
        step="complete",
        title="Complete the job",
        button="Complete",
        perform=lambda job, user, data: services.security_job_complete(job=job, actor=user),
        done="Job completed",
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_record_landlord_consent(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        form_class=LandlordConsentForm,
        step="landlord-consent",
        title="Record the landlord's answer",
        button="Save",
        perform=lambda job, user, data: services.security_job_record_landlord_consent(
            job=job,
            actor=user,
            given_by=data["given_by"],
            given_on=data["given_on"],
            method=data["method"],
            granted=data["granted"] == "yes",
            evidence=data["evidence"],
            notes=data["notes"],
        ),
        done="Landlord's answer recorded",
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_record_check(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        form_class=PostInstallationCheckForm,
        step="post-installation-check",
        title="Record the post-installation check",
        button="Save",
        perform=lambda job, user, data: services.security_job_record_post_installation_check(
            job=job,
            actor=user,
            checked_on=data["checked_on"],
            measures_working=data["measures_working"] == "yes",
            feels_safer=data["feels_safer"],
            comments=data["comments"],
        ),
        done="Post-installation check recorded",
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_record_fire_safety_check(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        step="fire-safety-check",
        form_class=FireSafetyCheckForm,
        title="Record a fire-safety check",
        lead=(
            "Some measures may affect a means of escape. Record the check by the surveyor, the "
            "fire and rescue service's written advice, or their home fire safety visit. The fire "
            "service advises; the landlord or owner decides."
        ),
        button="Save the check",
        perform=lambda job, user, data: services.security_job_record_fire_safety_check(
            job=job,
            actor=user,
            kind=data["kind"],
            carried_out_by=data["carried_out_by"],
            carried_out_on=data["carried_out_on"],
            outcome=data["outcome"],
            notes=data["notes"],
            document=data["document"],
        ),
        done="Fire-safety check recorded",
    )


@role_required(*WORK_ROLES)
@require_http_methods(["GET", "POST"])
def job_request_variation(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        step="variation",
        form_class=VariationForm,
        form_kwargs={"measures": selectors.measures_effective_on(timezone.localdate())},
        title="Ask for a variation",
        lead=(
            "Ask for more than the approved works. An SPA manager approves or refuses it; until "
            "then it cannot be fitted or recorded as installed."
        ),
        button="Send the request",
        perform=lambda job, user, data: services.security_job_request_variation(
            job=job,
            actor=user,
            lines=[
                MeasureLine(
                    measure=data["measure"], quantity=data["quantity"], location=data["location"]
                )
            ],
            reason=data["reason"],
        ),
        done="Variation requested: an SPA manager will decide on it",
    )


@role_required(*SPA_ONLY)
@require_http_methods(["GET", "POST"])
def job_access_notes(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return _action(
        request,
        job_id,
        step="access-notes",
        form_class=AccessNotesForm,
        title="Access and hazard notes for the contractor",
        button="Save the notes",
        perform=lambda job, user, data: services.security_job_access_notes_update(
            job=job,
            actor=user,
            access_notes=data["access_notes"],
            expected_version=data["version"],
        ),
        done="Access and hazard notes saved",
        stored=lambda job: {"access_notes": job.access_notes},
    )


@role_required(Role.SPA_MANAGER)
@require_http_methods(["GET", "POST"])
def job_approval_decide(
    request: HttpRequest, job_id: uuid.UUID, approval_id: uuid.UUID
) -> HttpResponse:
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    approval = get_for_user_or_404(CostApproval.objects.filter(job=job), approval_id)
    if approval.status != ApprovalStatus.PENDING:
        messages.info(
            request, f"This request has already been {approval.get_status_display().lower()}."
        )
        return redirect("security_works:job-detail", job_id=job.pk)
    form = ApprovalDecisionForm(request.POST if request.method == "POST" else None, job=job)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            decided = services.security_job_approval_decide(
                approval=approval,
                decided_by=user,
                approve=form.cleaned_data["decision"] == "approve",
                note=form.cleaned_data["note"],
            )
        except PermissionDenied as denied:
            form.add_error(None, str(denied))
            status = 403
        except SecurityWorksError as error:
            status = _error(form, error)
        else:
            messages.success(
                request,
                f"{decided.get_kind_display()} for {job.reference} "
                f"{decided.get_status_display().lower()}",
            )
            return redirect("security_works:approvals")
    elif request.method == "POST":
        status = 400
    plan = selectors.planned_lines(job)
    return render(
        request,
        "security_works/approval_decide.html",
        {
            "job": job,
            "approval": approval,
            "lines": approval.lines.select_related("measure"),
            "plan": plan,
            "planned_total": selectors.planned_total(plan),
            "form": form,
        },
        status=status,
    )


# --- Internals --------------------------------------------------------------------------------


def _action(
    request: HttpRequest,
    job_id: uuid.UUID,
    *,
    step: str,
    form_class: type[JobStepForm],
    title: str,
    button: str,
    perform: Callable[[SecurityJob, User, dict[str, Any]], object],
    done: str,
    lead: str = "",
    form_kwargs: dict[str, Any] | None = None,
    stored: Callable[[SecurityJob], Mapping[str, Any]] | None = None,
) -> HttpResponse:
    """One step on one job: a form, a service call, the result or a clear message.

    A step that edits the job's own fields gives ``stored`` (what the form shows, read from the
    job): the form then carries the job's version, and a save that lost the race shows who
    changed it, what is stored now and keeps what was typed (409)."""
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    if (refused := _step_refused(request, job, step)) is not None:
        return refused
    form = form_class(
        request.POST if request.method == "POST" else None, job=job, **(form_kwargs or {})
    )
    if stored is not None:
        form.fields["version"] = VersionField()
        if not form.is_bound:
            form_version_set(form, job.version)
    status = 200
    conflict: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        try:
            perform(job, user, form.cleaned_data)
        except EditConflict as changed:
            assert stored is not None
            conflict = conflict_context(form, changed, stored(SecurityJob.objects.get(pk=job.pk)))
            status = 409
        except SecurityWorksError as error:
            status = _error(form, error)
        else:
            messages.success(request, done)
            return redirect("security_works:job-detail", job_id=job.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "security_works/action_form.html",
        {"job": job, "form": form, "title": title, "button": button, "lead": lead, **conflict},
        status=status,
    )


def _booking(
    request: HttpRequest,
    job_id: uuid.UUID,
    *,
    step: str,
    title: str,
    book: Callable[[SecurityJob, User, BookingForm], SecurityJob],
    done: str,
) -> HttpResponse:
    user = _user(request)
    job = selectors.security_job_get_for_user(user=user, job_id=job_id, request=request)
    if (refused := _step_refused(request, job, step)) is not None:
        return refused
    form = BookingForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            book(job, user, form)
        except UnsafeContact as warning:
            form.add_error("unsafe_contact_reason", warning.message)
            status = 400
        except SecurityWorksError as error:
            status = _error(form, error)
        else:
            messages.success(request, done)
            return redirect("security_works:job-detail", job_id=job.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "security_works/booking_form.html",
        {
            "job": job,
            "form": form,
            "title": title,
            # The rules above the form, as on the job page (only while the address is shown).
            "address": selectors.job_address_reveal(user=user, job=job, request=request),
        },
        status=status,
    )


def _step_refused(request: HttpRequest, job: SecurityJob, step: str) -> HttpResponse | None:
    """A step the job's state does not allow (a completed job, a booking before the survey):
    back to the job page with the reason, never an empty form (GET and POST alike)."""
    reason = steps.step_refusal(job, step)
    if reason is None:
        return None
    messages.info(request, reason)
    return redirect("security_works:job-detail", job_id=job.pk)


def _error(form: Any, error: SecurityWorksError) -> int:
    form.add_error(None, error.message)
    return 409 if isinstance(error, InvalidTransition) else 400


def _policies() -> dict[object, SlaPolicy]:
    return {p.contract_id: p for p in SlaPolicy.objects.all()}


def _policy(policies: dict[object, SlaPolicy], job: SecurityJob) -> SlaPolicy:
    return policies.get(job.contract_id) or policies.get(None) or SlaPolicy()


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # role_required let only signed-in users through
    return user
