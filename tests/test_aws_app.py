"""The same app on AWS (issue 13): NOTELENS_BACKEND=aws switches records to DynamoDB, originals to S3 and search
to OpenSearch, and the pages work unchanged — Home lists the backends and whether each answers, Upload stores in
S3/DynamoDB, Review saves a review there and refuses to overwrite one saved meanwhile. moto answers for S3 and
DynamoDB in process; OpenSearch is not reachable here (its port is closed), which Home must say, and which must not
stop a note from being stored and reviewed (the index is repaired by ``reindex``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from streamlit.testing.v1 import AppTest

from services.config import load_settings
from services.wiring import App, build_app
from tests.store_backends import REGION, fake_aws_env

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "notelens-app-test"
TABLE = "notelens-app-test"


@pytest.fixture
def aws_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    from moto import mock_aws

    from services import overview

    fake_aws_env(monkeypatch)
    monkeypatch.setenv("NOTELENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NOTELENS_BACKEND", "aws")
    monkeypatch.setenv("NOTELENS_S3_BUCKET", BUCKET)
    monkeypatch.setenv("NOTELENS_DYNAMODB_TABLE", TABLE)
    monkeypatch.setenv("NOTELENS_SEED_SAMPLES", "false")
    monkeypatch.setenv("OPENSEARCH_URL", "http://127.0.0.1:9")  # nothing listens: unreachable at once
    overview._probe_cache.clear()
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield build_app(load_settings(), seed=False)
    overview._probe_cache.clear()


def test_aws_backend_stores_records_in_dynamodb_and_originals_in_s3(aws_app: App) -> None:
    assert aws_app.stores.kind == "aws"
    assert aws_app.backends()["storage"] == f"dynamodb ({TABLE})"
    outcome = aws_app.notes.ingest("a.txt", "두통과 발열로 내원. 타이레놀 500mg 처방.".encode("cp949"))
    assert outcome.ok and outcome.note.status.value == "done"
    assert {e.text for e in aws_app.store.extractions(outcome.note.id)[-1].entities} >= {"두통", "발열", "타이레놀"}
    # The record is in the table and the original bytes in the bucket, encrypted, not in the local folder.
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert any(outcome.note.id in str(i.get("PK", {})) for i in items)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    original = next(k for k in keys if k.endswith(outcome.note.raw_sha256))
    assert boto3.client("s3").head_object(Bucket=BUCKET, Key=original)["ServerSideEncryption"] == "AES256"
    assert not (load_settings().originals_dir).exists()


def test_home_upload_and_review_pages_run_unchanged_on_aws(aws_app: App) -> None:
    home = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    home.run()
    assert not home.exception, [e.value for e in home.exception]
    table = home.dataframe[-1].value
    state = dict(zip(table.iloc[:, 0], table.iloc[:, 2], strict=True))
    assert state["저장소"] == "사용 가능"  # DynamoDB answered DescribeTable
    assert state["원본 파일"] == "사용 가능"  # S3 answered HeadBucket
    assert state["검색"] == "연결 안 됨"  # OpenSearch did not
    assert state["통계"] == "연결 안 됨"  # the analytics aggregations run on the same cluster

    upload = AppTest.from_file(str(ROOT / "pages/1_Upload.py"), default_timeout=60)
    upload.run()
    upload.file_uploader(key="upload_files").set_value(
        [("b.txt", "기침 3일, 콧물. 흉부 X선 정상.".encode(), "text/plain")]).run()
    upload.button(key="process").click().run()
    assert not upload.exception, [e.value for e in upload.exception]
    note = next(n for n in aws_app.store.list_notes() if n.filename == "b.txt")
    assert note.status.value == "done"

    review = AppTest.from_file(str(ROOT / "pages/2_Review.py"), default_timeout=60)
    review.session_state["review_note"] = note.id
    review.run()
    assert not review.exception, [e.value for e in review.exception]
    # Another reviewer saves first: DynamoDB's conditional write refuses the second save.
    rows = [e.model_dump(mode="json") for e in aws_app.notes.view(note.id).entities]
    aws_app.notes.save_review(note.id, "Dr. Lee", rows, base_version=0)
    review.text_input(key="reviewer").set_value("Dr. Kim")
    review.button(key="save_review").click().run()
    assert [r.reviewer for r in aws_app.store.reviews(note.id)] == ["Dr. Lee"]
    assert any("다른 검토자" in e.value for e in review.error)
    review.button(key="review_reload").click().run()
    review.text_input(key="reviewer").set_value("Dr. Kim")
    review.button(key="save_review").click().run()
    assert [r.reviewer for r in aws_app.store.reviews(note.id)] == ["Dr. Lee", "Dr. Kim"]


def test_search_and_analytics_pages_say_the_cluster_is_down(aws_app: App) -> None:
    """OpenSearch unreachable: a message with what to do, not a traceback (storing and reviewing go on)."""
    for page in ("pages/4_Search.py", "pages/5_Analytics.py"):
        at = AppTest.from_file(str(ROOT / page), default_timeout=60)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert any("OpenSearch" in e.value and "reindex" in e.value for e in at.error), page
