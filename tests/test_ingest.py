from __future__ import annotations

import pytest

from services.errors import ErrorCode, NoteLensError
from services.ingest import check_name, decode_bytes
from services.wiring import App

KOREAN = "환자는 3일 전부터 두통과 어지러움을 호소함. 똠방각하 뷁."


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (KOREAN.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + KOREAN.encode("utf-8"), "utf-8-sig"),
        (KOREAN.encode("utf-16"), "utf-16"),
        (KOREAN.encode("utf-16-be").join([b"\xfe\xff", b""]), "utf-16"),
        (KOREAN.encode("cp949"), "cp949"),  # 똠, 뷁 exist only in CP949, not EUC-KR
        ("흉통 호소, 발열 없음".encode("euc-kr"), "euc-kr"),
    ],
)
def test_decodes_korean_encodings_to_the_right_text(data: bytes, encoding: str) -> None:
    decoded = decode_bytes(data)
    assert decoded.encoding == encoding
    assert decoded.text in (KOREAN, "흉통 호소, 발열 없음")


def test_crlf_and_nfd_are_normalized() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "두통\r\n발열")
    assert decode_bytes(nfd.encode()).text == "두통\n발열"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", ErrorCode.EMPTY_FILE),
        (b" \n\t \r\n", ErrorCode.WHITESPACE_ONLY),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", ErrorCode.BINARY_FILE),
        (b"%PDF-1.7 ...", ErrorCode.BINARY_FILE),
        (b"abc\x00def", ErrorCode.BINARY_FILE),
        (bytes(range(128, 256)) * 4, ErrorCode.UNKNOWN_ENCODING),
    ],
)
def test_bad_bytes_are_refused_with_a_code(data: bytes, code: ErrorCode) -> None:
    with pytest.raises(NoteLensError) as info:
        decode_bytes(data)
    assert info.value.code is code
    assert info.value.message


@pytest.mark.parametrize("name", ["scan.pdf", "photo.jpg", "noext", "voice.mp3"])
def test_unsupported_types(name: str) -> None:
    with pytest.raises(NoteLensError) as info:
        check_name(name)
    assert info.value.code is ErrorCode.UNSUPPORTED_TYPE


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("empty.txt", b"", "EMPTY_FILE"),
        ("blank.txt", b"  \n", "WHITESPACE_ONLY"),
        ("bin.txt", b"\x00\x01\x02binary", "BINARY_FILE"),
        ("scan.pdf", b"%PDF-1.4", "UNSUPPORTED_TYPE"),
    ],
)
def test_failed_uploads_keep_their_original_and_error(app: App, name: str, data: bytes, code: str) -> None:
    outcome = app.notes.ingest(name, data)
    assert outcome.error is not None and outcome.error.code == code
    note = app.store.get_note(outcome.note.id)
    assert note is not None and note.status.value == "failed" and note.error_code == code
    assert app.notes.blobs.get(note.raw_sha256) == data  # nothing is lost


def test_oversized_is_refused(app: App) -> None:
    app.notes.max_note_bytes = 100
    outcome = app.notes.ingest("big.txt", ("두통 " * 100).encode())
    assert outcome.error is not None and outcome.error.code == "TOO_LARGE"
    assert app.store.get_note(outcome.note.id).status.value == "failed"  # type: ignore[union-attr]
    # Raising the limit and uploading again succeeds on the same note.
    app.notes.max_note_bytes = 10_000
    again = app.notes.ingest("big.txt", ("두통 " * 100).encode())
    assert again.ok and again.note.id == outcome.note.id


def test_same_content_twice_is_one_note(app: App) -> None:
    text = "기침과 가래 호소. 발열 없음."
    first = app.notes.ingest("a.txt", text.encode())
    second = app.notes.ingest("a-copy.txt", text.encode())
    third = app.notes.ingest("a-cp949.txt", text.encode("cp949"))
    assert first.ok and not first.duplicate
    assert second.duplicate and third.duplicate
    assert second.note.id == third.note.id == first.note.id
    assert app.store.counts()["notes"] == 1


def test_failed_note_retries_with_a_chosen_encoding(app: App) -> None:
    data = "발열 있음".encode("cp949") + b"\xff\xfe\xfd" * 3  # not valid CP949 or UTF-8
    outcome = app.notes.ingest("odd.txt", data)
    assert outcome.error is not None and outcome.error.code == "UNKNOWN_ENCODING"
    retried = app.notes.retry(outcome.note.id, encoding="latin-1")
    assert retried.ok and retried.note.encoding == "latin-1"


def test_engine_failure_is_recorded_and_retryable(app: App) -> None:
    class Broken:
        name = "broken"

        def extract(self, text: str) -> None:
            raise RuntimeError("model down")

    good = app.notes.extractor
    app.notes.extractor = Broken()  # type: ignore[assignment]
    outcome = app.notes.ingest("n.txt", "두통".encode())
    assert outcome.error is not None and outcome.error.code == "EXTRACTION_FAILED"
    assert app.store.get_note(outcome.note.id).status.value == "failed"  # type: ignore[union-attr]
    app.notes.extractor = good
    assert app.notes.retry(outcome.note.id).ok
