"""Photos and documents of a job: size-limited, then checked and cleaned by ``safer.uploads``.

A photo's EXIF block can hold the GPS position where it was taken, and a PDF's metadata can hold a
position, an author and a title: for a sanctuary job, the survivor's safe address. So images are
re-encoded from their pixels alone and PDFs are rewritten without metadata, scripts, automatic
actions or embedded files; the type is decided by content, polyglots and oversized images are
refused (see ``safer/uploads.py``). The pages and the API both upload through
``job_document_upload``. Files go to the private storage under a random name and are served only
by ``views.job_document_download``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404, HttpRequest

from safer.accounts.models import User
from safer.audit.models import AccessAction
from safer.audit.services import access_log_record
from safer.casefile.services import case_event_record
from safer.uploads import CleanFile, FileRefused, file_inspect
from security_works.exceptions import InvalidTransition, SecurityWorksError
from security_works.models import CLOSED_STATUSES, DocumentKind, JobDocument, SecurityJob
from security_works.selectors import job_address_visible

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class UploadRefused(SecurityWorksError):
    """The file cannot be accepted; ``message`` says why in plain words."""


def max_upload_bytes() -> int:
    return int(getattr(settings, "SECURITY_WORKS_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_inspect(upload: UploadedFile) -> CleanFile:
    """Check a file by its content (never its name or the sender's type) and clean it."""
    limit = max_upload_bytes()
    size = upload.size or 0
    if size == 0:
        raise UploadRefused("The file is empty. Choose a file that has something in it.")
    too_big = f"The file must be smaller than {limit // (1024 * 1024)} MB."
    if size > limit:
        raise UploadRefused(too_big)
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(too_big)
    try:
        return file_inspect(data)
    except FileRefused as refused:
        raise UploadRefused(refused.message) from None


@transaction.atomic
def job_document_upload(
    *, job: SecurityJob, uploaded_by: User | None, kind: DocumentKind | str, upload: UploadedFile
) -> JobDocument:
    """Store a checked, cleaned file against an open job."""
    job = SecurityJob.objects.select_for_update(of=("self",)).get(pk=job.pk)
    if job.status in CLOSED_STATUSES:
        raise InvalidTransition(
            current=job.get_status_display(), attempted="given new documents", allowed=()
        )
    if kind not in DocumentKind.values:
        raise UploadRefused("Choose what kind of document this is.")
    clean = upload_inspect(upload)
    document = JobDocument(
        job=job,
        kind=kind,
        original_name=_safe_name(upload.name or "upload"),
        content_type=clean.file_type.content_type,
        extension=clean.file_type.extension,
        size=len(clean.content),
        sha256=clean.sha256,
        uploaded_by=uploaded_by,
    )
    document.file.save(f"upload{clean.file_type.extension}", ContentFile(clean.content), save=False)
    try:
        with transaction.atomic():
            document.save(force_insert=True)
            case_event_record(
                case_file=job.case_file,
                kind="security_job.document_uploaded",
                summary=f"{document.get_kind_display()} uploaded ({job.reference})",
                actor=uploaded_by,
                data={"job_id": str(job.pk), "document_id": str(document.pk), "kind": str(kind)},
            )
    except Exception:
        # No row, no file. (A rollback further out leaves an unreferenced file under a random
        # name, unreachable through any view; storage clean-up can sweep those.)
        document.file.storage.delete(document.file.name)
        raise
    return document


def job_document_get_for_user(
    *,
    user: User,
    job: SecurityJob,
    document_id: uuid.UUID | str,
    request: HttpRequest | None = None,
) -> JobDocument:
    """A document of a job the user already opened through ``security_job_get_for_user``.

    Photos show the property, so they follow the address rule: a contractor loses them when the
    job closes. 404 for "missing" and "not yours" alike; each download is logged.
    """
    if not job_address_visible(user, job):
        raise Http404("No record found")
    try:
        document = JobDocument.objects.get(pk=document_id, job=job)
    except (JobDocument.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404("No record found") from None
    access_log_record(user=user, action=AccessAction.DOWNLOAD, record=document, request=request)
    return document


def _safe_name(name: str) -> str:
    """The uploaded name without any path, for display only (never used to store the file)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:200] or "upload"
