"""Uploaded files checked by their content and cleaned before they are stored.

A file about a sanctuary job can give away a safe address: a phone photo's EXIF holds the GPS
position where it was taken, and a PDF's metadata (its document information and its XMP packet)
can hold a position, an author and a title. A file can also carry something that runs: a PDF's
JavaScript, actions that fire on opening, embedded files; or be two things at once (a "polyglot":
a PDF that a browser would also read as a web page, a photo with a zip archive appended).

So every file goes through ``file_inspect``:

- its type is decided from its first bytes (never its name or the type the browser or client
  claims), and only JPEG, PNG and PDF are accepted;
- a file that is also something else is refused: HTML in its first kilobyte (where browsers
  sniff), content before a PDF's ``%PDF-`` header, or an archive, web page, script or program
  after the image's or PDF's end;
- an image over ``MAX_IMAGE_PIXELS`` is refused from its header, before any pixel is decoded
  (Pillow's own guard only refuses above twice its limit), then re-encoded from its pixels alone,
  so EXIF, XMP, IPTC, ICC profiles, comments and text chunks never reach storage;
- a PDF is opened with pikepdf (qpdf) and written anew without its document information, any XMP
  metadata, JavaScript, opening or other automatic actions, embedded files and attachment
  annotations; only the objects still referenced are written, so nothing removed survives in an
  old revision. A password-protected or damaged PDF is refused.

Each refusal is a ``FileRefused`` whose ``message`` names the problem and the fix in plain words.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
from dataclasses import dataclass

import pikepdf
from PIL import Image, ImageOps, UnidentifiedImageError

# Decoding a small file into a huge bitmap is a denial of service; no phone photo comes close.
MAX_IMAGE_PIXELS = 50_000_000
# Browsers sniff the first 512 bytes for HTML; look at twice that.
SNIFF_BYTES = 1024
# Pillow refuses outright above twice its limit, and warns above it: ours is checked first, from
# the header, so this is only a backstop against a header that lies.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS


class FileRefused(Exception):
    """The file cannot be accepted; ``message`` says why and what to do, for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FileType:
    label: str
    magic: bytes
    content_type: str
    extension: str
    is_image: bool


JPEG = FileType("JPEG photo", b"\xff\xd8\xff", "image/jpeg", ".jpg", True)
PNG = FileType("PNG image", b"\x89PNG\r\n\x1a\n", "image/png", ".png", True)
PDF = FileType("PDF document", b"%PDF-", "application/pdf", ".pdf", False)
ALLOWED_TYPES = (JPEG, PNG, PDF)


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    file_type: FileType
    sha256: str


# Recognised only to say clearly why they are refused.
_PROGRAM_SIGNATURES = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")
# Markup a browser would run or render, looked for case-insensitively in the first bytes.
_HTML = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|iframe|object|embed|svg|\?php)",
    re.IGNORECASE,
)
# What must never follow the end of an image or a PDF: an archive, a web page, a script, another
# PDF, a program.
_HIDDEN = re.compile(
    rb"PK\x03\x04|PK\x05\x06|Rar!\x1a\x07|7z\xbc\xaf\x27\x1c|%PDF-|MZ\x90\x00|\x7fELF|"
    rb"<\s*(?:!doctype|html|head|body|script|iframe|svg|\?php)",
    re.IGNORECASE,
)

_ONLY = "Upload a JPEG or PNG photo, or a PDF."
NOT_ALLOWED = (
    "The file must be a JPEG or PNG photo, or a PDF. Files are checked by what they contain, "
    "not by their name."
)
PROGRAM = (
    "This file is a program, not a photo or document, so it cannot be uploaded (whatever its "
    f"name says). {_ONLY}"
)
POLYGLOT = (
    "The file is a {label} with something else hidden in it (such as a web page, a script or "
    "an archive), so it cannot be uploaded. Save or export it again as a plain {label} (for "
    "example, print it to a new PDF or take a screenshot), then upload that."
)
TOO_MANY_PIXELS = (
    "The image is {width:,} by {height:,} pixels, which is more than the limit of "
    f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels. Make it smaller (for example, resize it or "
    "take the photo at a lower resolution), then upload it again."
)
NOT_VALID = "The file is not a valid {label}. Check it opens on your device, then upload it again."
PDF_LOCKED = (
    "The PDF is protected by a password, so it cannot be checked. Save a copy without the "
    "password, then upload that."
)


def file_inspect(data: bytes) -> CleanFile:
    """Decide the type from the content, refuse polyglots, and return the cleaned bytes."""
    file_type = file_type_of(data)
    if _HTML.search(data[:SNIFF_BYTES]):
        raise FileRefused(POLYGLOT.format(label=file_type.label))
    content = _pdf_clean(data) if file_type is PDF else _image_clean(data, file_type)
    return CleanFile(
        content=content, file_type=file_type, sha256=hashlib.sha256(content).hexdigest()
    )


def file_type_of(data: bytes) -> FileType:
    """The accepted type whose signature the file *starts* with; refused otherwise."""
    found = next((t for t in ALLOWED_TYPES if data.startswith(t.magic)), None)
    if found is not None:
        return found
    if PDF.magic in data[:SNIFF_BYTES]:
        # A PDF reader finds the header further in; a browser reads what comes before it.
        raise FileRefused(POLYGLOT.format(label=PDF.label))
    if data.startswith(_PROGRAM_SIGNATURES):
        raise FileRefused(PROGRAM)
    raise FileRefused(NOT_ALLOWED)


# --- Images --------------------------------------------------------------------------------------


def _image_clean(data: bytes, file_type: FileType) -> bytes:
    end = _png_end(data) if file_type is PNG else _jpeg_end(data)
    if end is None:
        raise FileRefused(NOT_VALID.format(label=file_type.label))
    if _HIDDEN.search(data, end):
        raise FileRefused(POLYGLOT.format(label=file_type.label))
    expected = "JPEG" if file_type is JPEG else "PNG"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                # Opening reads the header only: the size is known before any pixel is decoded.
                width, height = probe.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise FileRefused(TOO_MANY_PIXELS.format(width=width, height=height))
                if probe.format != expected:
                    raise FileRefused(NOT_VALID.format(label=file_type.label))
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                upright = ImageOps.exif_transpose(image) or image
                upright.load()
                # A new image holds only pixels: no info dict, EXIF, XMP, ICC or text chunks.
                clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
                if upright.mode == "P":
                    palette = upright.getpalette()
                    if palette is not None:
                        clean.putpalette(palette)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise FileRefused(NOT_VALID.format(label=file_type.label)) from exc
    out = io.BytesIO()
    if expected == "JPEG":
        if clean.mode not in ("RGB", "L", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, format="JPEG", quality=90, optimize=True)
    else:
        clean.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _png_end(data: bytes) -> int | None:
    """The offset just past the IEND chunk, walking the chunks; None if there is none."""
    pos = len(PNG.magic)
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos if pos <= len(data) else None
    return None


_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn markers carry no length


def _jpeg_end(data: bytes) -> int | None:
    """The offset just past the first image's EOI marker; None if the structure is broken.

    Segments are walked by their lengths; after a start-of-scan, the entropy-coded data runs to
    the next marker that is not a stuffed 0xFF00 or a restart. (Phones may append further
    JPEG images after the first, for depth or previews: those are dropped by re-encoding, and
    only archives, pages, scripts and programs after the end are refused.)
    """
    pos, size = 2, len(data)
    while pos + 2 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2
        if marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > size:
            return None
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
        if marker == 0xDA:  # start of scan: skip the entropy-coded data
            while pos + 1 < size:
                if data[pos] == 0xFF and data[pos + 1] not in (0x00, *range(0xD0, 0xD8)):
                    break
                pos += 1
    return None


# --- PDFs ----------------------------------------------------------------------------------------

# Keys that carry metadata, scripts, automatic actions or attached files, wherever they appear.
_PDF_DROP_KEYS = ("/Metadata", "/PieceInfo", "/AA", "/OpenAction", "/JS", "/JavaScript", "/XFA")
# Actions that run code, open other files, send data or play media; a link is kept (it needs a
# click, and the reader asks first).
_PDF_UNSAFE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/GoToR",
    "/GoToE",
    "/Rendition",
    "/RichMediaExecute",
    "/Sound",
    "/Movie",
}
_PDF_UNSAFE_ANNOTATIONS = {"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"}


def _pdf_clean(data: bytes) -> bytes:
    end = data.rfind(b"%%EOF")
    if end == -1:
        raise FileRefused(NOT_VALID.format(label=PDF.label))
    if _HIDDEN.search(data, end + 5):
        raise FileRefused(POLYGLOT.format(label=PDF.label))
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise FileRefused(PDF_LOCKED) from exc
    except (pikepdf.PdfError, ValueError) as exc:
        raise FileRefused(NOT_VALID.format(label=PDF.label)) from exc
    with pdf:
        if pdf.is_encrypted:
            raise FileRefused(PDF_LOCKED)
        try:
            _pdf_strip(pdf)
            out = io.BytesIO()
            pdf.save(
                out,
                compress_streams=True,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                deterministic_id=True,
                fix_metadata_version=False,
            )
        except (pikepdf.PdfError, ValueError, KeyError, TypeError) as exc:
            raise FileRefused(NOT_VALID.format(label=PDF.label)) from exc
    return out.getvalue()


def _pdf_strip(pdf: pikepdf.Pdf) -> None:
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    root = pdf.Root
    if "/Names" in root:
        names = root["/Names"]
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                del names[key]
    if "/AcroForm" in root and "/XFA" in root["/AcroForm"]:
        del root["/AcroForm"]["/XFA"]
    for page in pdf.pages:
        if "/Annots" in page.obj:
            kept = [
                annot
                for annot in page.obj["/Annots"]
                if not (
                    isinstance(annot, pikepdf.Dictionary)
                    and str(annot.get("/Subtype", "")) in _PDF_UNSAFE_ANNOTATIONS
                )
            ]
            page.obj["/Annots"] = pikepdf.Array(kept)
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            _pdf_scrub(obj)


def _pdf_scrub(obj: pikepdf.Object, depth: int = 0) -> None:
    """Remove the dropped keys and unsafe actions from a dictionary and its direct children
    (indirect children are objects of their own and are visited by ``_pdf_strip``)."""
    if depth > 32:
        return
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        for key in _PDF_DROP_KEYS:
            if key in obj:
                del obj[key]
        for key in ("/A", "/Next"):
            action = obj.get(key)
            if (
                isinstance(action, pikepdf.Dictionary)
                and str(action.get("/S", "")) in _PDF_UNSAFE_ACTIONS
            ):
                del obj[key]
        if str(obj.get("/Type", "")) == "/Filespec" or "/EF" in obj:
            for key in ("/EF", "/RF"):
                if key in obj:
                    del obj[key]
        children = list(obj.values())
    elif isinstance(obj, pikepdf.Array):
        children = list(obj)
    else:
        return
    for child in children:
        if isinstance(child, pikepdf.Dictionary | pikepdf.Array) and not child.is_indirect:
            _pdf_scrub(child, depth + 1)
