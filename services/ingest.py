"""Turning uploaded bytes into note text, or refusing them with a clear error code.

Korean hospital systems still export CP949/EUC-KR, so decoding is deterministic rather than
guessed by a statistical detector (those misread short Korean text): BOMs first, then strict
UTF-8, then strict CP949 with a plausibility check on what came out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

from services.errors import ErrorCode, NoteLensError

TEXT_SUFFIXES = frozenset({".txt", ".md", ".text"})
AUDIO_SUFFIXES = frozenset({".mp3", ".wav", ".m4a", ".ogg", ".webm"})

# File signatures of formats people upload by mistake (PDF, images, archives, Office, HWP/OLE).
_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x1f\x8b", b"ID3")


@dataclass(frozen=True)
class DecodedNote:
    text: str
    encoding: str


def check_name(filename: str) -> None:
    suffix = PurePath(filename).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return
    if suffix in AUDIO_SUFFIXES:
        raise NoteLensError(
            ErrorCode.UNSUPPORTED_TYPE,
            f"'{suffix}' recordings are transcribed only where results go into the store "
            "(the app, or batch without --no-store); upload the note as .txt or .md here.",
        )
    raise NoteLensError(
        ErrorCode.UNSUPPORTED_TYPE,
        f"'{suffix or 'no extension'}' is not a supported note type; use .txt or .md.",
    )


def _is_plausible(text: str) -> bool:
    """True when decoded text looks like Korean/Latin prose rather than mojibake or binary."""
    if not text:
        return True
    bad = 0
    for ch in text:
        o = ord(ch)
        if ch in "\t\n\r\f":
            continue
        if o < 32 or o == 0x7F or 0xFFF0 <= o <= 0xFFFF or 0xE000 <= o <= 0xF8FF:
            bad += 1
    return bad / len(text) < 0.01


def _cp949_plausible(text: str) -> bool:
    # CP949 decodes most random byte pairs into some character; real Korean notes are
    # overwhelmingly Hangul syllables and ASCII, with few Hanja or symbols.
    if not _is_plausible(text):
        return False
    common = sum(1 for ch in text if ord(ch) < 128 or "\uac00" <= ch <= "\ud7a3" or ch in "·℃㎎㎖㎏○●※→←△▲□■ㆍ…“”‘’")
    return common / max(len(text), 1) >= 0.9


def decode_bytes(data: bytes) -> DecodedNote:
    """Decode note bytes; raise NoteLensError for empty, binary or undecodable input."""
    if not data:
        raise NoteLensError(ErrorCode.EMPTY_FILE, "The file is empty.")
    text: str | None = None
    encoding = ""
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
        if not _utf8_ok(data[3:]):
            raise NoteLensError(ErrorCode.UNKNOWN_ENCODING, "The file has a UTF-8 mark but is not valid UTF-8.")
        text = data[3:].decode("utf-8")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise NoteLensError(ErrorCode.UNKNOWN_ENCODING, "The file has a UTF-16 mark but is not valid UTF-16.") from exc
    else:
        if data.startswith(_MAGIC) or b"\x00" in data:
            raise NoteLensError(ErrorCode.BINARY_FILE, "This looks like a binary file (PDF, image, archive…), not a text note.")
        if _utf8_ok(data):
            encoding, text = "utf-8", data.decode("utf-8")
        else:
            for candidate in ("euc-kr", "cp949"):
                try:
                    decoded = data.decode(candidate)
                except UnicodeDecodeError:
                    continue
                if _cp949_plausible(decoded):
                    encoding, text = candidate, decoded
                    break
            if text is None:
                raise NoteLensError(
                    ErrorCode.UNKNOWN_ENCODING,
                    "The text is neither UTF-8, UTF-16 nor CP949/EUC-KR; save it as UTF-8 and upload again.",
                )
    if not _is_plausible(text):
        raise NoteLensError(ErrorCode.BINARY_FILE, "The file contains control characters; it does not look like a text note.")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise NoteLensError(ErrorCode.WHITESPACE_ONLY, "The file contains only whitespace.")
    return DecodedNote(text=text, encoding=encoding)


def _utf8_ok(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_with(data: bytes, encoding: str) -> DecodedNote:
    """Decode with an encoding the user chose (retry of a failed note)."""
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise NoteLensError(ErrorCode.UNKNOWN_ENCODING, f"The file cannot be read as {encoding}.") from exc
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise NoteLensError(ErrorCode.WHITESPACE_ONLY, "The file contains only whitespace.")
    return DecodedNote(text=text, encoding=encoding)
