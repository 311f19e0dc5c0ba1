"""``migrate --to aws``: local data (notes with extractions and reviews, a failed note, a second source, originals, a
transcript with speaker names, saved searches, the LLM cache) copied to DynamoDB + S3 (moto) answers the same as
the SQLite source; a second run copies nothing; a run broken by injected DynamoDB and S3 faults, run again,
completes; and the copy comes back to a fresh SQLite store unchanged (any pair of stores)."""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from store_backends import BUCKET, TABLE, aws_backends, install_clock, mocked_aws, sqlite_backends

from services.config import load_settings
from services.domain import Category, Entity, ExtractionResult, NoteFields, NoteStatus
from services.migrate import Backends, migrate, run
from services.search import SearchQuery
from services.transcription import Segment, Transcript


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fill(b: Backends) -> None:
    """A small local store with one of everything the migration copies."""
    s: Any = b.store
    for n, text in enumerate(["흉통 호소, 발열 없음.", "두통 3일째.", "복통과 설사.", "기침, 가래."]):
        raw = text.encode("cp949")
        b.blobs.put(raw)
        note_id = f"note{n}"
        s.create_note(note_id=note_id, filename=f"{note_id}.txt", raw_sha256=_sha(raw), size=len(raw), source="upload",
                      stored=True, text=text, encoding="cp949", text_sha256=_sha(text.encode()))
        if n < 3:
            s.claim(note_id, 60)
            s.add_extraction(note_id, ExtractionResult(
                engine="local", entities=[Entity(category=Category.SYMPTOM, text=text[:2], begin=0, end=2)],
                fields=NoteFields(visit_date=f"2024-0{n + 1}-10", age=30 + n, sex="M", department="내과")), 10.0 + n)
    utf8 = "흉통 호소, 발열 없음.".encode()
    b.blobs.put(utf8)
    s.link_source(_sha(utf8), "note0", "note0-utf8.txt", len(utf8), stored=True)
    s.add_extraction("note0", ExtractionResult(engine="claude", model_id="m", prompt_version="extraction@v1",
                                               usage={"input_tokens": 100.0}, cached=True), 5.0)
    ext = s.extractions("note0")[-1]
    s.add_review("note0", ext.id, "dr.kim", [Entity(category=Category.SYMPTOM, text="흉통", begin=0, end=2)],
                 NoteFields(visit_date="2024-01-11", department="순환기내과"), {"added": ["흉통"]}, expected_version=0)
    s.add_review("note0", ext.id, "dr.lee", [Entity(category=Category.SYMPTOM, text="흉통", begin=0, end=2),
                                             Entity(category=Category.SYMPTOM, text="발열", begin=7, end=9, negated=True)],
                 NoteFields(visit_date="2024-01-11", department="순환기내과"), {}, expected_version=1)
    s.set_status("note2", NoteStatus.FAILED, "EXTRACTION_FAILED", "engine down")
    s.create_note(note_id="audio1", filename="visit.wav", raw_sha256=_sha(b"RIFF"), size=4, source="audio", stored=False)
    b.transcripts.add("audio1", Transcript([Segment(0, 2, "가슴이 아파요", "spk_0"), Segment(2, 4, "언제부터요", "spk_1")],
                                           engine="whisper", model="base", language="ko", duration=4.0), "audio/wav")
    b.transcripts.add("audio1", Transcript([Segment(0, 4, "가슴이 아파요 어제부터", "spk_0")], engine="whisper"),
                      "audio/wav", origin="correction", author="dr.kim")
    b.transcripts.set_speakers("audio1", {"spk_0": "환자", "spk_1": "의사"})
    b.saved.save("흉통", SearchQuery(term="흉통"))
    b.saved.save("last month", SearchQuery(text="두통", date_from="2024-01-01"))
    s.cache_put("k1", "claude", "m", "extraction@v1", '{"entities": []}', '{"input_tokens": 5}')
    s.cache_put("k2", "llm", "q", "extraction@v1", '{"entities": [1]}', '{}')


def assert_same(src: Backends, dst: Backends) -> None:
    a: Any = src.store
    b: Any = dst.store
    assert b.counts() == a.counts()
    assert [n.model_dump() for n in b.list_notes()] == [n.model_dump() for n in a.list_notes()]
    assert [n.model_dump() for n in b.recent(10)] == [n.model_dump() for n in a.recent(10)]
    assert b.unreviewed(10)[0] == a.unreviewed(10)[0] and [n.id for n in b.unreviewed(10)[1]] == [
        n.id for n in a.unreviewed(10)[1]]
    assert [n.id for n in b.scan_notes(limit=100)] == [n.id for n in a.scan_notes(limit=100)]
    for note in a.scan_notes(limit=100):
        assert [e.model_dump() for e in b.extractions(note.id)] == [e.model_dump() for e in a.extractions(note.id)]
        assert [r.model_dump() for r in b.reviews(note.id)] == [r.model_dump() for r in a.reviews(note.id)]
        assert [vars(v) for v in dst.transcripts.versions(note.id)] == [vars(v) for v in src.transcripts.versions(note.id)]
        assert dst.transcripts.speakers(note.id) == src.transcripts.speakers(note.id)
        bundle = a.export_note(note.id)
        for source in bundle.sources:
            assert b.note_for_source(source.raw_sha256).id == note.id
            if source.stored:
                assert dst.blobs.get(source.raw_sha256) == src.blobs.get(source.raw_sha256)
        if bundle.text_sha256:
            assert b.note_for_text(bundle.text_sha256).id == note.id
    assert dst.saved.all() == src.saved.all()
    for key in ("k1", "k2"):
        assert b.cache_get(key) == a.cache_get(key)


@pytest.fixture
def src(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backends]:
    install_clock(monkeypatch)
    with mocked_aws(monkeypatch):
        local = sqlite_backends(tmp_path / "data")
        fill(local)
        yield local


def test_migration_copies_everything_and_a_second_run_copies_nothing(src: Backends) -> None:
    dst = aws_backends()
    report = migrate(src, dst, page=2)
    assert (report.notes.copied, report.notes.failed) == (5, 0)
    assert report.originals.copied == 5 and report.missing_originals == []  # four notes and a second encoding
    assert (report.transcripts.copied, report.saved_searches.copied, report.cache.copied) == (2, 2, 2)
    assert_same(src, dst)
    # Entities in force: the latest review's, found by term through the index.
    store: Any = dst.store
    assert [e.text for e in store.entities_in_force("note0")] == ["흉통", "발열"]
    assert store.notes_with_term("symptom", "두통") == ["note1"]
    again = migrate(src, dst)
    assert (again.notes.copied, again.originals.copied, again.transcripts.copied, again.saved_searches.copied,
            again.cache.copied, again.failed) == (0, 0, 0, 0, 0, 0)
    assert (again.notes.skipped, again.originals.skipped, again.transcripts.skipped) == (5, 5, 2)
    assert_same(src, dst)
    # New work after the migration gets new ids, after the copied ones.
    ext = store.add_extraction("note3", ExtractionResult(engine="local"), 1.0)
    assert ext.id == max(e.id for n in ("note0", "note1", "note2") for e in src.store.extractions(n)) + 1  # type: ignore[attr-defined]


def test_an_interrupted_migration_completes_on_the_next_run(src: Backends) -> None:
    dst = aws_backends()
    store: Any = dst.store
    blobs: Any = dst.blobs
    calls = {"transact": 0, "put": 0}

    def dynamodb_fault(**_: Any) -> None:
        calls["transact"] += 1
        if calls["transact"] == 2:
            raise ConnectionError("injected: DynamoDB went away")

    def s3_fault(**_: Any) -> None:
        calls["put"] += 1
        if calls["put"] == 3:
            raise ConnectionError("injected: S3 went away")

    store.client.meta.events.register("before-call.dynamodb.TransactWriteItems", dynamodb_fault)
    blobs.client.meta.events.register("before-call.s3.PutObject", s3_fault)
    broken = migrate(src, dst, page=2)
    assert broken.notes.failed == 2 and broken.originals.failed == 1 and broken.notes.copied == 3
    assert {f["error"] for f in broken.failures} == {"ConnectionError"}  # type only: no message, no note text
    store.client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", dynamodb_fault)
    blobs.client.meta.events.unregister("before-call.s3.PutObject", s3_fault)
    fixed = migrate(src, dst)
    assert (fixed.notes.copied, fixed.notes.skipped, fixed.failed) == (2, 3, 0)
    assert fixed.originals.copied == 1
    assert_same(src, dst)


def test_the_copy_comes_back_to_sqlite_unchanged(src: Backends, tmp_path: Path) -> None:
    dst = aws_backends(page_size=None)
    migrate(src, dst)
    back = sqlite_backends(tmp_path / "back")
    report = migrate(dst, back)
    assert report.notes.copied == 5 and report.failed == 0
    assert_same(src, back)


def test_the_command(src: Backends, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = load_settings(data_dir=tmp_path / "data", s3_bucket=BUCKET, s3_prefix="nl/", dynamodb_table="cli-table")
    boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    assert run(argparse.Namespace(to="aws", dry_run=True, json=True), settings) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["notes"]["copied"] == 5 and dry["originals"]["copied"] == 5
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0  # nothing written
    assert run(argparse.Namespace(to="aws", dry_run=False, json=False), settings) == 0
    out = capsys.readouterr().out
    assert "notes           copied      5" in out
    assert run(argparse.Namespace(to="aws", dry_run=True, json=True), settings) == 0
    assert json.loads(capsys.readouterr().out)["notes"] == {"copied": 0, "skipped": 5, "failed": 0}
    assert TABLE != "cli-table" and "cli-table" in boto3.client("dynamodb").list_tables()["TableNames"]
