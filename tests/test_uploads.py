"""Uploaded documents are cleaned on the way in, through the pages and the API alike.

The files are built here with pikepdf and Pillow: a PDF carrying an XMP GPS position, an author
and a title, an OpenAction JavaScript and an embedded file; a PDF that is also a web page; images
over the 50-megapixel limit (the header says so; the pixels are never decoded).
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from safer.uploads import MAX_IMAGE_PIXELS, FileRefused, file_inspect
from security_works import services
from security_works.models import DocumentKind, JobDocument, JobPriority, SecurityJob
from tests import test_api_jobs
from tests.api_support import RELAXED_LIMITS, api, error_shape
from tests.helpers import sign_in
from tests.test_api_jobs import JobsWorld
from tests.test_security_works_helpers import World, build_world, case_file, jpeg_with_gps

pytestmark = pytest.mark.django_db
jw = test_api_jobs.jw  # the API tests' fixture: contractor A's job and tokens

SECRETS = (b"Alice Survivor", b"17 Hidden Lane", b"51,23.0N", b"GPSLatitude", b"app.alert")
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b"<exif:GPSLatitude>51,23.0N</exif:GPSLatitude>"
    b"<exif:GPSLongitude>1,23.5E</exif:GPSLongitude>"
    b"<dc:creator>Alice Survivor</dc:creator><dc:title>17 Hidden Lane</dc:title>"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def dirty_pdf() -> bytes:
    """A one-page PDF with GPS in its XMP, an author and title, a script run on opening, an
    action on the page and an attached file; written uncompressed so the markers are visible."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    pdf.docinfo["/Author"] = "Alice Survivor"
    pdf.docinfo["/Title"] = "17 Hidden Lane"
    pdf.Root.Metadata = pdf.make_stream(XMP, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML)
    script = pikepdf.Dictionary(
        Type=pikepdf.Name.Action,
        S=pikepdf.Name.JavaScript,
        JS=pikepdf.String("app.alert('17 Hidden Lane')"),
    )
    pdf.Root.OpenAction = pdf.make_indirect(script)
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=script)
    pdf.attachments["notes.txt"] = b"Alice Survivor lives at 17 Hidden Lane"
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    data = out.getvalue()
    assert all(secret in data for secret in SECRETS)  # the fixture does carry them
    return data


def assert_clean_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-")
    for secret in SECRETS:
        assert secret not in data, secret
    assert b"/JavaScript" not in data
    assert b"/OpenAction" not in data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        assert "/OpenAction" not in pdf.Root
        assert "/AA" not in pdf.pages[0].obj
        assert len(pdf.attachments) == 0
        assert len(pdf.pages) == 1  # the document itself is kept
        with pdf.open_metadata() as meta:
            assert not any("GPS" in key for key in meta)


def png(width: int, height: int, *, trailer: bytes = b"") -> bytes:
    """A valid black-and-white PNG of any size: 1 bit per pixel, zlib-compressed (a 9000 x 9000
    image is about 10 KB), so a test never needs the pixels in memory."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    row = b"\x00" * (1 + (width + 7) // 8)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
        + trailer
    )


def jpeg(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


def html_polyglot() -> bytes:
    """A web page first, a PDF after it: a PDF reader finds the header, a browser runs the page."""
    return b"<html><body><script>alert(document.cookie)</script></body></html>\n" + dirty_pdf()


def refused(data: bytes) -> str:
    with pytest.raises(FileRefused) as caught:
        file_inspect(data)
    return caught.value.message


# --- The checks themselves -----------------------------------------------------------------------


def test_a_pdf_is_rewritten_without_metadata_scripts_actions_or_attachments() -> None:
    clean = file_inspect(dirty_pdf())
    assert clean.file_type.content_type == "application/pdf"
    assert_clean_pdf(clean.content)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(html_polyglot, id="html-before-pdf"),
        pytest.param(
            lambda: dirty_pdf()[:9] + b"%<html><script>alert(1)</script>\n" + dirty_pdf()[9:],
            id="script-in-pdf-header",
        ),
        pytest.param(lambda: dirty_pdf() + b"PK\x03\x04" + b"\x00" * 40, id="zip-after-pdf"),
        pytest.param(lambda: png(20, 20, trailer=b"PK\x03\x04" + b"\x00" * 40), id="zip-png"),
        pytest.param(lambda: jpeg() + b"<html><script>alert(1)</script>", id="html-jpeg"),
        pytest.param(lambda: jpeg() + b"%PDF-1.7\n" + b"0" * 40, id="pdf-after-jpeg"),
    ],
)
def test_polyglots_are_refused(make) -> None:
    message = refused(make())
    assert "something else hidden in it" in message
    assert "Save or export it again" in message


def test_the_type_comes_from_the_content_not_the_name() -> None:
    assert file_inspect(png(10, 10)).file_type.extension == ".png"
    assert file_inspect(jpeg()).file_type.extension == ".jpg"
    assert "checked by what they contain" in refused(b"GIF89a" + b"\x00" * 50)
    assert "not a valid PDF" in refused(b"%PDF-1.7\n not really a pdf %%EOF")


def test_an_image_over_the_pixel_limit_is_refused_from_its_header() -> None:
    # 81 megapixels: under Pillow's own refusal (twice its limit), over the stated 50.
    message = refused(png(9000, 9000))
    assert "9,000 by 9,000 pixels" in message
    assert "limit of 50 megapixels" in message
    assert MAX_IMAGE_PIXELS == 50_000_000
    assert file_inspect(png(2000, 1500)).file_type.extension == ".png"


def test_an_image_with_another_jpeg_appended_is_kept_without_it() -> None:
    # Phones append depth maps and previews as further JPEGs: harmless, dropped on re-encoding.
    clean = file_inspect(jpeg() + jpeg((8, 8)))
    assert clean.content.count(b"\xff\xd8\xff") == 1


# --- Through the pages ---------------------------------------------------------------------------


@pytest.fixture
def sw() -> World:  # the security works world (``world`` is the persona world, for the API)
    return build_world()


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path: Path) -> Path:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    settings.SAFER_API_RATE_LIMITS = RELAXED_LIMITS
    return tmp_path


def _job(w: World) -> SecurityJob:
    return services.security_job_allocate(
        case_file=case_file(w.kent, w.thanet),
        priority=JobPriority.STANDARD,
        allocated_by=w.spa_worker,
    )


def _page_upload(client: Client, job: SecurityJob, name: str, content: bytes, kind: str):
    # The browser's claimed type is deliberately wrong: only the content counts.
    return client.post(
        reverse("security_works:document-upload", kwargs={"job_id": job.pk}),
        {"kind": kind, "file": SimpleUploadedFile(name, content, "text/html")},
    )


def _download(client: Client, document: JobDocument):
    return client.get(
        reverse(
            "security_works:document-download",
            kwargs={"job_id": document.job_id, "document_id": document.pk},
        )
    )


def _stored(document: JobDocument) -> bytes:
    with document.file.open("rb") as stored:
        return stored.read()


def test_a_pdf_uploaded_through_the_pages_is_stored_and_served_clean(sw: World) -> None:
    job = _job(sw)
    client = sign_in(Client(), sw.acme_user)
    response = _page_upload(client, job, "consent.pdf", dirty_pdf(), DocumentKind.LANDLORD_CONSENT)
    assert response.status_code == 302, response.content.decode()
    document = JobDocument.objects.get(job=job)
    assert document.content_type == "application/pdf"
    assert document.extension == ".pdf"
    assert_clean_pdf(_stored(document))
    download = _download(sign_in(Client(), sw.spa_worker), document)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert_clean_pdf(download.content)
    assert download.content == _stored(document)


def test_an_over_limit_image_is_refused_through_the_pages_keeping_the_form(sw: World) -> None:
    job = _job(sw)
    client = sign_in(Client(), sw.acme_user)
    response = _page_upload(client, job, "door.png", png(9000, 9000), DocumentKind.SURVEY_PHOTO)
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "more than the limit of 50 megapixels" in page
    assert 'href="#id_file"' in page  # the summary links to the field
    # What was chosen is still chosen: only the file has to be chosen again.
    assert re.search(r'value="survey_photo" checked', page)  # the choice is kept
    assert not JobDocument.objects.exists()


def test_a_pdf_html_polyglot_is_refused_through_the_pages(sw: World) -> None:
    job = _job(sw)
    client = sign_in(Client(), sw.acme_user)
    response = _page_upload(
        client, job, "consent.pdf", html_polyglot(), DocumentKind.LANDLORD_CONSENT
    )
    assert response.status_code == 400
    assert "something else hidden in it" in response.content.decode()
    assert not JobDocument.objects.exists()


# --- Through the API -----------------------------------------------------------------------------


def _api_upload(jw: JobsWorld, name: str, content: bytes, kind: str):
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    return api(jw.token).post(
        jw.url(jw.own_job, "documents"), {"kind": kind, "file": upload}, format="multipart"
    )


def test_a_pdf_uploaded_through_the_api_is_stored_and_served_clean(jw: JobsWorld) -> None:
    response = _api_upload(jw, "consent.jpg", dirty_pdf(), "landlord_consent")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == "application/pdf"
    document = JobDocument.objects.get(pk=response.json()["id"])
    assert_clean_pdf(_stored(document))
    assert response.json()["size"] == len(_stored(document))
    download = _download(sign_in(Client(), jw.world.spa_triage), document)
    assert download.status_code == 200
    assert_clean_pdf(download.content)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(png(9000, 9000), "limit of 50 megapixels", id="over-limit-png"),
        pytest.param(html_polyglot(), "something else hidden in it", id="pdf-html-polyglot"),
    ],
)
def test_the_api_refuses_with_the_field_named(jw: JobsWorld, content: bytes, message: str) -> None:
    response = _api_upload(jw, "photo.jpg", content, "survey_photo")
    assert response.status_code == 422  # a rule the schema cannot state (docs/api.md)
    body = response.json()
    assert error_shape(body)
    assert message in body["message"]
    assert message in body["errors"]["file"][0]
    assert not JobDocument.objects.exists()


def test_a_gps_photo_is_still_stripped(jw: JobsWorld) -> None:
    response = _api_upload(jw, "door.jpg", jpeg_with_gps(), "survey_photo")
    assert response.status_code == 201
    stored = _stored(JobDocument.objects.get(pk=response.json()["id"]))
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
