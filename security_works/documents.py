"""Photos and documents of a job: checked by content, size-limited, images stripped of metadata.

A photo's EXIF block can hold the GPS position where it was taken, which for a sanctuary job is the
survivor's safe address. So every image is decoded and re-encoded from its pixels alone: EXIF,
XMP, IPTC, comments and text chunks never reach storage. PDFs are stored as sent (they are letters
and forms, not photos). Files go to the private storage under a random name and are served only by
``views.job_document_download``.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import Http404, HttpRequest
from PIL import Image, ImageOps, UnidentifiedImageError

from safer.accounts.models import User
from safer.audit.models import AccessAction
from safer.audit.services import access_log_record
from safer.casefile.services import case_event_record
from security_works.exceptions import InvalidTransition, SecurityWorksError
from security_works.models import CLOSED_STATUSES, DocumentKind, JobDocument, SecurityJob
from security_works.selectors import job_address_visible

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Decoding a small file into a huge bitmap is a denial of service; no phone photo comes close.
MAX_IMAGE_PIXELS = 50_000_000


class UploadRefused(SecurityWorksError):
    """The file cannot be accepted; ``message`` says why in plain words."""


@dataclass(frozen=True)
class FileType:
    label: str
    magic: bytes
    content_type: str
    extension: str
    is_image: bool


ALLOWED_TYPES = (
    FileType("JPEG photo", b"\xff\xd8\xff", "image/jpeg", ".jpg", True),
    FileType("PNG image", b"\x89PNG\r\n\x1a\n", "image/png", ".png", True),
    FileType("PDF document", b"%PDF-", "application/pdf", ".pdf", False),
)
# Recognised only to say clearly why they are refused.
_PROGRAM_SIGNATURES = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    file_type: FileType
    sha256: str


def max_upload_bytes() -> int:
    return int(getattr(settings, "SECURITY_WORKS_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_inspect(upload: UploadedFile) -> CleanFile:
    """Check a file by its content (never its name or the browser's type) and clean it."""
    limit = max_upload_bytes()
    size = upload.size or 0
    if size == 0:
        raise UploadRefused("The file is empty.")
    if size > limit:
        raise UploadRefused(f"The file must be smaller than {limit // (1024 * 1024)} MB.")
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(f"The file must be smaller than {limit // (1024 * 1024)} MB.")
    file_type = next((t for t in ALLOWED_TYPES if data.startswith(t.magic)), None)
    if file_type is None:
        if data.startswith(_PROGRAM_SIGNATURES):
            raise UploadRefused(
                "This file is a program, not a photo or document, so it cannot be uploaded "
                "(whatever its name says). Upload a JPEG or PNG photo, or a PDF."
            )
        raise UploadRefused(
            "The file must be a JPEG or PNG photo, or a PDF. Files are checked by what they "
            "contain, not by their name."
        )
    if file_type.is_image:
        data = _image_strip_metadata(data, file_type)
    return CleanFile(content=data, file_type=file_type, sha256=hashlib.sha256(data).hexdigest())


def _image_strip_metadata(data: bytes, file_type: FileType) -> bytes:
    """Re-encode the image from its pixels only, upright (EXIF orientation applied first)."""
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            expected = "JPEG" if file_type.extension == ".jpg" else "PNG"
            if image.format != expected:
                raise UploadRefused(f"The file is not a valid {file_type.label}.")
            upright = ImageOps.exif_transpose(image) or image
            upright.load()
            # A new image holds only pixels: no info dict, no EXIF, XMP, ICC or text chunks.
            clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
            if upright.mode == "P":
                palette = upright.getpalette()
                if palette is not None:
                    clean.putpalette(palette)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise UploadRefused(f"The file is not a valid {file_type.label}.") from exc
    out = io.BytesIO()
    if expected == "JPEG":
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, format="JPEG", quality=90, optimize=True)
    else:
        clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


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
