"""One contract for the record and blob stores: every test runs against SQLite + a folder and against DynamoDB + S3
(moto, in process) with the same inputs and expects the same observable results. The DynamoDB store reads in pages
of two items here, so every listing follows LastEvaluatedKey. Tests after the contract cover what only the cloud
stores have: server-side encryption, the item size limit, throttled batch writes, table creation, reachability."""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from store_backends import TABLE, aws_backends, fake_aws_env, hook_calls, install_clock, mocked_aws, sqlite_backends

from services.domain import Category, Entity, ExtractionResult, NoteFields, NoteStatus
from services.errors import CloudError
from services.migrate import Backends
from services.search import SearchQuery
from services.store import NoteExists, ReviewConflict
from services.store.dynamodb import DynamoDBStore
from services.store.s3 import S3BlobStore
from services.transcription import Segment, Transcript


@pytest.fixture(params=["sqlite", "dynamodb"])
def b(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backends]:
    install_clock(monkeypatch)
    if request.param == "sqlite":
        yield sqlite_backends(tmp_path)
    else:
        with mocked_aws(monkeypatch):
            yield aws_backends()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make(b: Backends, note_id: str, text: str | None = None, **kw: Any) -> Any:
    text = text if text is not None else f"{note_id} 두통 호소."
    return b.store.create_note(note_id=note_id, filename=f"{note_id}.txt", raw_sha256=sha("raw" + text),  # type: ignore[attr-defined]
                               size=len(text.encode()), source="upload", stored=True, text=text, encoding="utf-8",
                               text_sha256=sha(text), **kw)


def ent(text: str, category: Category = Category.SYMPTOM, **kw: Any) -> Entity:
    return Entity(category=category, text=text, begin=0, end=len(text), **kw)


def result(*entities: Entity, visit: str | None = None, engine: str = "local") -> ExtractionResult:
    return ExtractionResult(engine=engine, entities=list(entities), fields=NoteFields(visit_date=visit, age=40, sex="F"),
                            usage={"input_tokens": 3.0})


def ids(notes: list[Any]) -> list[str]:
    return [n.id for n in notes]


# -- the contract -----------------------------------------------------------------------------------------------

def test_create_and_duplicates(b: Backends) -> None:
    s: Any = b.store
    note = make(b, "n1", "가슴 통증")
    assert (note.id, note.status, note.text, note.attempts, note.encoding) == ("n1", NoteStatus.STORED, "가슴 통증", 0, "utf-8")
    assert s.get_note("n1") == note and s.get_note("nope") is None
    assert s.note_for_source(sha("raw가슴 통증")).id == "n1" and s.note_for_text(sha("가슴 통증")).id == "n1"
    assert s.note_for_source("0" * 64) is None and s.note_for_text("0" * 64) is None
    with pytest.raises(NoteExists):  # the same bytes again
        s.create_note(note_id="n2", filename="x", raw_sha256=sha("raw가슴 통증"), size=1, source="upload", stored=True)
    with pytest.raises(NoteExists):  # other bytes, the same text
        s.create_note(note_id="n3", filename="x", raw_sha256="f" * 64, size=1, source="upload", stored=True,
                      text="가슴 통증", encoding="cp949", text_sha256=sha("가슴 통증"))
    with pytest.raises(NoteExists):  # the same id
        s.create_note(note_id="n1", filename="x", raw_sha256="e" * 64, size=1, source="upload", stored=True)
    assert s.get_note("n2") is None and s.get_note("n3") is None and s.note_for_source("f" * 64) is None
    failed = s.create_note(note_id="bad", filename="b.bin", raw_sha256="d" * 64, size=9, source="upload", stored=True,
                           error=("BINARY_FILE", "not text"))
    assert (failed.status, failed.error_code, failed.error_message, failed.text) == (NoteStatus.FAILED, "BINARY_FILE", "not text", None)
    assert s.counts()["notes"] == 2 and s.counts()["stored"] == 1 and s.counts()["failed"] == 1


def test_link_source_and_set_text(b: Backends) -> None:
    s: Any = b.store
    make(b, "n1", "원문")
    make(b, "n2", "다른 원문")
    s.link_source("a" * 64, "n1", "euc-kr.txt", 10, stored=False)
    assert s.note_for_source("a" * 64).id == "n1"
    s.link_source("a" * 64, "n2", "again.txt", 10, stored=True)  # a known source keeps its note
    assert s.note_for_source("a" * 64).id == "n1"
    s.set_text("n1", "고친 원문", "utf-8", sha("고친 원문"))
    note = s.get_note("n1")
    assert note.text == "고친 원문" and s.note_for_text(sha("고친 원문")).id == "n1" and s.note_for_text(sha("원문")) is None
    s.set_text("missing", "x", "utf-8", sha("x"))  # no such note: nothing happens
    assert s.get_note("missing") is None


def test_status_and_attempts(b: Backends) -> None:
    s: Any = b.store
    make(b, "n1")
    s.set_status("n1", NoteStatus.PROCESSING)
    s.set_status("n1", NoteStatus.FAILED, "EXTRACTION_FAILED", "engine down")
    note = s.get_note("n1")
    assert (note.status, note.attempts, note.error_code, note.error_message) == (NoteStatus.FAILED, 1, "EXTRACTION_FAILED", "engine down")
    s.set_status("n1", NoteStatus.PROCESSING)
    note = s.get_note("n1")
    assert (note.status, note.attempts, note.error_code) == (NoteStatus.PROCESSING, 2, None)
    assert s.counts()["processing"] == 1 and s.counts()["failed"] == 0


def test_claim_with_a_lease(b: Backends) -> None:
    s: Any = b.store
    for n in ("fresh", "held", "old", "done", "failed"):
        make(b, n)
    assert s.claim("fresh", 60) is True  # stored
    note = s.get_note("fresh")
    assert (note.status, note.attempts) == (NoteStatus.PROCESSING, 1)
    assert s.claim("fresh", 60) is False  # a live worker holds it
    s.set_status("old", NoteStatus.PROCESSING)  # by the test clock, in 2024: its worker died long ago
    assert s.claim("old", 60) is True and s.get_note("old").attempts == 2
    s.add_extraction("done", result(), 1.0)
    assert s.claim("done", 60) is False
    s.set_status("failed", NoteStatus.FAILED, "X", "y")
    assert s.claim("failed", 60) is True
    assert s.claim("missing", 60) is False
    assert s.counts()["processing"] == 3


def test_claim_race_has_one_winner(b: Backends) -> None:
    s: Any = b.store
    make(b, "n1")
    if isinstance(s, DynamoDBStore):
        # DynamoDB applies a transaction atomically; moto in process does not under threads, so its calls take
        # turns here. The workers still interleave between their read and their conditional write.
        lock, call = threading.Lock(), s.client._make_api_call

        def one_at_a_time(*args: Any) -> Any:
            with lock:
                return call(*args)

        s.client._make_api_call = one_at_a_time
    wins: list[bool] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        wins.append(s.claim("n1", 600))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False, False, False, True]
    assert s.get_note("n1").attempts == 1


def test_extraction_versions_and_ids(b: Backends) -> None:
    s: Any = b.store
    make(b, "a")
    make(b, "b")
    s.set_status("a", NoteStatus.FAILED, "EXTRACTION_FAILED", "x")
    e1 = s.add_extraction("a", result(ent("두통"), visit="2024-01-05"), 12.5)
    e2 = s.add_extraction("b", result(ent("복통")), 1.0)
    e3 = s.add_extraction("a", result(ent("두통"), ent("오심"), visit="2024-01-06", engine="claude"), 2.0)
    assert [(e.id, e.note_id, e.version) for e in (e1, e2, e3)] == [(1, "a", 1), (2, "b", 1), (3, "a", 2)]
    note = s.get_note("a")
    assert (note.status, note.error_code, note.fields.visit_date, note.fields.age) == (NoteStatus.DONE, None, "2024-01-06", 40)
    got = s.extractions("a")
    assert [(e.id, e.version, e.engine, len(e.entities)) for e in got] == [(1, 1, "local", 1), (3, 2, "claude", 2)]
    assert got[0].duration_ms == 12.5 and got[0].usage == {"input_tokens": 3.0} and got[0].entities == e1.entities
    assert got[1].model_dump() == e3.model_dump()
    assert s.extractions("nope") == []
    counts = s.counts()
    assert (counts["done"], counts["extractions"], counts["entities"]) == (2, 3, 3)


def test_reviews_version_conflict_and_what_stays_in_force(b: Backends) -> None:
    s: Any = b.store
    make(b, "n1")
    ext = s.add_extraction("n1", result(ent("두통"), ent("발열"), visit="2024-02-01"), 1.0)
    r1 = s.add_review("n1", ext.id, "dr.kim", [ent("두통", negated=True)], NoteFields(visit_date="2024-02-02"),
                      {"removed": ["발열"]}, expected_version=0)
    assert (r1.id, r1.version, r1.reviewer) == (1, 1, "dr.kim")
    with pytest.raises(ReviewConflict) as conflict:  # a second reviewer who also started from no review
        s.add_review("n1", ext.id, "dr.lee", [], NoteFields(), {}, expected_version=0)
    assert (conflict.value.expected, conflict.value.found) == (0, 1)
    assert [r.reviewer for r in s.reviews("n1")] == ["dr.kim"] and s.counts()["reviews"] == 1  # nothing written
    r2 = s.add_review("n1", ext.id, "dr.lee", [ent("두통"), ent("기침")], NoteFields(visit_date="2024-02-03"), {},
                      expected_version=1)
    r3 = s.add_review("n1", ext.id, "dr.park", [ent("두통")], NoteFields(visit_date="2024-02-04"), {})  # unconditional
    assert [(r.id, r.version) for r in (r2, r3)] == [(2, 2), (3, 3)]
    got = s.reviews("n1")
    assert [r.model_dump() for r in got] == [r.model_dump() for r in (r1, r2, r3)]
    assert got[0].changes == {"removed": ["발열"]} and got[0].entities[0].negated
    # A later machine run is a new version but does not replace the reviewed entities and fields.
    s.add_extraction("n1", result(ent("a"), ent("b"), ent("c"), visit="2030-01-01"), 1.0)
    note = s.get_note("n1")
    assert note.fields.visit_date == "2024-02-04" and note.status == NoteStatus.DONE
    counts = s.counts()
    assert (counts["entities"], counts["reviews"], counts["extractions"]) == (1, 3, 2)


def test_listings_order_filters_and_paging(b: Backends) -> None:
    s: Any = b.store
    for n in ("e", "d", "c", "b", "a", "f"):
        make(b, n)
    s.add_extraction("a", result(visit="2024-01-01"), 1.0)
    s.add_extraction("b", result(visit="2024-03-01"), 1.0)
    s.add_extraction("c", result(visit="2024-03-01"), 1.0)
    s.add_extraction("d", result(), 1.0)
    s.set_status("f", NoteStatus.FAILED, "X", "y")
    # Visit date (latest first, none last), then created (latest first), then id.
    assert ids(s.list_notes()) == ["b", "c", "a", "f", "d", "e"]
    assert ids(s.list_notes(limit=2)) == ["b", "c"]
    assert ids(s.list_notes(NoteStatus.DONE)) == ["b", "c", "a", "d"]
    assert ids(s.list_notes(NoteStatus.FAILED)) == ["f"] and s.list_notes(NoteStatus.PROCESSING) == []
    assert s.list_notes()[0].text == "b 두통 호소." and s.list_notes(with_text=False)[0].text is None
    # Changed last first; only processed, unreviewed notes need review.
    assert ids(s.recent(3)) == ["f", "d", "c"] and s.recent(3)[0].text is None
    s.add_review("b", 2, "dr", [], NoteFields(visit_date="2024-03-01"), {})
    total, latest = s.unreviewed(2)
    assert total == 3 and ids(latest) == ["d", "c"] and latest[0].text is None
    assert ids(s.recent(1)) == ["b"]
    # Every note in id order, page by page.
    pages, after = [], ""
    while page := s.scan_notes(after=after, limit=2, with_text=False):
        pages.append(ids(page))
        after = page[-1].id
    assert pages == [["a", "b"], ["c", "d"], ["e", "f"]]
    assert s.scan_notes(after="b", limit=10)[0].text == "c 두통 호소."


def test_ties_in_time_are_ordered_by_id(b: Backends, monkeypatch: pytest.MonkeyPatch) -> None:
    s: Any = b.store
    for module in ("services.store.sqlite", "services.store.dynamodb"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: "2024-05-05T00:00:00+00:00")
    for n in ("z", "m", "q", "a"):
        make(b, n)
    assert ids(s.list_notes()) == ["a", "m", "q", "z"]
    assert ids(s.list_notes(limit=1)) == ["a"] and ids(s.recent(2)) == ["a", "m"]


def test_llm_cache(b: Backends) -> None:
    s: Any = b.store
    assert s.cache_get("k1") is None
    s.cache_put("k1", "claude", "model", "extraction@v1", '{"entities": []}', '{"input_tokens": 5}')
    s.cache_put("k1", "claude", "model", "extraction@v1", '{"entities": [1]}', '{"input_tokens": 6}')
    assert s.cache_get("k1") == ('{"entities": [1]}', '{"input_tokens": 6}')
    assert [e[0] for e in s.cache_scan()] == ["k1"]


def test_blobs(b: Backends) -> None:
    data = "두통 호소".encode("cp949")
    key = b.blobs.put(data)
    assert key == hashlib.sha256(data).hexdigest() and b.blobs.put(data) == key
    assert b.blobs.get(key) == data and b.blobs.exists(key) and b.blobs.get("0" * 64) is None


def test_transcripts_and_speakers(b: Backends) -> None:
    make(b, "rec")
    first = b.transcripts.add("rec", Transcript([Segment(0, 1.5, "머리가 아파요", "spk_0"), Segment(1.5, 3, "언제부터요", "spk_1")],
                                                engine="whisper", model="base", language="ko", duration=3.0), "audio/wav")
    second = b.transcripts.add("rec", Transcript([Segment(0, 3, "머리가 아파요 어제부터", "spk_0")], engine="whisper"),
                               "audio/wav", origin="correction", author="dr.kim")
    assert (first.id, first.version, second.id, second.version) == (1, 1, 2, 2)
    got = b.transcripts.versions("rec")
    assert [vars(v) for v in got] == [vars(first), vars(second)]
    assert got[0].text == "머리가 아파요\n언제부터요" and got[0].spans == [(0, 7), (8, 13)]
    assert b.transcripts.versions("other") == []
    b.transcripts.set_speakers("rec", {"spk_0": "환자", "spk_1": " 의사 "})
    b.transcripts.set_speakers("rec", {"spk_0": "", "spk_2": "보호자"})
    assert b.transcripts.speakers("rec") == {"spk_1": "의사", "spk_2": "보호자"}


def test_saved_searches(b: Backends) -> None:
    b.saved.save(" 흉통 ", SearchQuery(text="흉통", page=3))
    b.saved.save("가슴", SearchQuery(term="흉통"))
    b.saved.save("Abc", SearchQuery(text="x"))
    b.saved.save("가슴", SearchQuery(term="흉통", expand=True))
    assert [n for n, _ in b.saved.all()] == ["Abc", "가슴", "흉통"]
    assert b.saved.get("흉통") == SearchQuery(text="흉통", page=1) and b.saved.get("가슴").expand  # type: ignore[union-attr]
    b.saved.delete("Abc")
    assert b.saved.get("Abc") is None and len(b.saved.all()) == 2
    with pytest.raises(ValueError):
        b.saved.save("  ", SearchQuery())


def test_a_note_larger_than_a_dynamodb_item(b: Backends) -> None:
    rng = random.Random(7)
    # ~1.4 MB of UTF-8 that zlib cannot shrink below DynamoDB's 400 KB item limit.
    text = "".join(chr(rng.randrange(0xAC00, 0xD7A4)) for _ in range(480_000))
    assert len(text.encode("utf-8")) > 400_000
    s: Any = b.store
    make(b, "big", text)
    assert s.get_note("big").text == text
    # An entity list that stays over the item limit compressed, too.
    many = [Entity(category=Category.SYMPTOM, text=text[i:i + 300], begin=i, end=i + 300) for i in range(0, 90_000, 300)]
    s.add_extraction("big", result(*many), 1.0)
    assert s.extractions("big")[0].entities == many and s.counts()["entities"] == len(many)
    assert s.list_notes()[0].text == text and s.scan_notes()[0].text == text


# -- DynamoDB and S3 only ---------------------------------------------------------------------------------------

@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backends]:
    install_clock(monkeypatch)
    with mocked_aws(monkeypatch):
        yield aws_backends()


def test_s3_objects_are_encrypted_and_have_no_acl(aws: Backends) -> None:
    blobs: Any = aws.blobs
    puts = hook_calls(blobs.client, "PutObject")
    key = blobs.put(b"note bytes")
    blobs.put(b"note bytes")  # already there: HeadObject only
    assert len(puts) == 1 and puts[0]["ServerSideEncryption"] == "AES256" and "ACL" not in puts[0]
    s3 = boto3.client("s3")
    head = s3.head_object(Bucket=blobs.bucket, Key=f"nl/originals/{key[:2]}/{key}")
    assert head["ServerSideEncryption"] == "AES256"
    grants = s3.get_object_acl(Bucket=blobs.bucket, Key=f"nl/originals/{key[:2]}/{key}")["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"] and "URI" not in grants[0]["Grantee"]  # owner only
    key_id = boto3.client("kms").create_key()["KeyMetadata"]["KeyId"]
    kms = S3BlobStore(blobs.bucket, "kms/", kms_key_id=key_id)
    sha = kms.put(b"x")
    head = s3.head_object(Bucket=blobs.bucket, Key=f"kms/originals/{sha[:2]}/{sha}")
    assert head["ServerSideEncryption"] == "aws:kms" and key_id in head["SSEKMSKeyId"] and kms.get(sha) == b"x"


def test_large_values_go_to_the_blob_store(aws: Backends) -> None:
    s: Any = aws.store
    rng = random.Random(1)
    text = "".join(chr(rng.randrange(0xAC00, 0xD7A4)) for _ in range(200_000))
    make(aws, "big", text)
    raw = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"PK": {"S": "NOTE#big"}, "SK": {"S": "NOTE"}})["Item"]
    assert "text_z" not in raw and aws.blobs.exists(raw["text_ref"]["S"]) and s.get_note("big").text == text
    make(aws, "small", "두통 " * 5000)  # compresses well: stays in the item
    raw = boto3.client("dynamodb").get_item(TableName=TABLE, Key={"PK": {"S": "NOTE#small"}, "SK": {"S": "NOTE"}})["Item"]
    assert "text_z" in raw and len(raw["text_z"]["B"]) < 1000
    no_blobs = DynamoDBStore(TABLE)
    with pytest.raises(ValueError, match="blob store"):
        no_blobs.get_note("big")


def test_every_listing_follows_last_evaluated_key(aws: Backends) -> None:
    s: Any = aws.store
    for n in "abcde":
        make(aws, n)
        s.add_extraction(n, result(ent("두통")), 1.0)
    queries = hook_calls(s.client, "Query")
    assert ids(s.list_notes(NoteStatus.DONE)) == ["e", "d", "c", "b", "a"]
    assert len([q for q in queries if "ExclusiveStartKey" in q]) >= 2 and all(q["Limit"] == 2 for q in queries)
    assert s.unreviewed(10)[0] == 5 and len(s.scan_notes()) == 5
    assert s.notes_with_term("symptom", "두통") == ["e", "d", "c", "b", "a"]


def test_batch_writes_retry_unprocessed_items(aws: Backends) -> None:
    s: Any = aws.store
    make(aws, "n1")
    calls: list[int] = []
    dropped: list[Any] = []

    def drop_half(params: dict[str, Any], **_: Any) -> None:
        # As DynamoDB does under throttling: part of the request is not written and comes back as unprocessed.
        requests = params["RequestItems"][TABLE]
        calls.append(len(requests))
        if len(calls) <= 2 and len(requests) > 1:
            dropped[:] = requests[len(requests) // 2:]
            del requests[len(requests) // 2:]

    def report_dropped(parsed: dict[str, Any], **_: Any) -> None:
        if dropped:
            parsed["UnprocessedItems"] = {TABLE: list(dropped)}
            dropped.clear()

    s.client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", drop_half)
    s.client.meta.events.register("after-call.dynamodb.BatchWriteItem", report_dropped)
    entities = [ent(f"증상{i}") for i in range(30)]
    s.add_extraction("n1", result(*entities), 1.0)
    assert len(calls) >= 3  # 25 + 5, and the unprocessed halves sent again
    rows = boto3.client("dynamodb").query(
        TableName=TABLE, KeyConditionExpression="PK = :p AND begins_with(SK, :e)",
        ExpressionAttributeValues={":p": {"S": "NOTE#n1"}, ":e": {"S": "ENT#"}})["Items"]
    assert len(rows) == 30 and s.entities_in_force("n1") == entities


def test_a_review_saved_in_between_is_a_conflict_not_an_overwrite(aws: Backends) -> None:
    """Two reviewers read the note at version 0 at the same moment; the second write finds the note changed."""
    s: Any = aws.store
    make(aws, "n1")
    ext = s.add_extraction("n1", result(ent("두통")), 1.0)
    other = DynamoDBStore(TABLE, aws.blobs)  # another app process
    read = s._note_item
    raced: list[bool] = []

    def read_then_race(note_id: str) -> Any:
        item = read(note_id)
        if not raced:
            raced.append(True)
            other.add_review("n1", ext.id, "dr.lee", [ent("두통")], NoteFields(), {}, expected_version=0)
        return item

    s._note_item = read_then_race
    with pytest.raises(ReviewConflict) as conflict:
        s.add_review("n1", ext.id, "dr.kim", [], NoteFields(), {}, expected_version=0)
    assert conflict.value.found == 1
    assert [r.reviewer for r in s.reviews("n1")] == ["dr.lee"] and s.counts()["reviews"] == 1


def test_table_is_created_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    with mocked_aws(monkeypatch):
        client = boto3.client("dynamodb")
        assert client.list_tables()["TableNames"] == []
        store = DynamoDBStore("fresh-table")
        assert client.list_tables()["TableNames"] == []  # nothing at construction
        assert store.check()[0] == "missing"
        assert store.counts()["notes"] == 0
        table = client.describe_table(TableName="fresh-table")["Table"]
        assert table["TableStatus"] == "ACTIVE" and table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == [
            "by-id", "by-status", "by-term", "by-updated", "unreviewed"]
        assert store.check() == ("ok", "table fresh-table: ACTIVE")
        with pytest.raises(CloudError, match="other-table does not exist"):
            DynamoDBStore("other-table", create=False).get_note("x")


def test_missing_permissions_name_the_table_and_the_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_aws_env(monkeypatch)
    client = boto3.client("dynamodb")
    stub = Stubber(client)
    stub.add_client_error("describe_table", "ResourceNotFoundException")
    stub.add_client_error("create_table", "AccessDeniedException", "not allowed")
    stub.add_client_error("describe_table", "AccessDeniedException", "not allowed")
    with stub:
        with pytest.raises(CloudError, match=r"notelens-prod does not exist and the credentials may not create it.*dynamodb:CreateTable"):
            DynamoDBStore("notelens-prod", client=client).get_note("x")
        with pytest.raises(CloudError, match=r"notelens-prod.*dynamodb:DescribeTable"):
            DynamoDBStore("notelens-prod", client=client).get_note("x")


def test_reachability_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    with mocked_aws(monkeypatch):
        boto3.client("s3").create_bucket(Bucket="there", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
        assert S3BlobStore("there").check() == ("ok", "s3://there/notelens/")
        assert S3BlobStore("not-there").check()[0] == "missing"
    fake_aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: unreachable, quickly
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    status, detail = S3BlobStore("any").check()
    assert status == "unreachable" and detail
    assert DynamoDBStore("any").check()[0] == "unreachable"
