"""Amazon Transcribe through moto (S3 and Transcribe): upload, job start with speaker labels and the
custom vocabulary, polling with backoff, reading the result JSON from S3, speakers, cleanup, Transcribe
Medical for en-US, and the whole path from an upload to an extracted note. moto runs the job's states
but writes no transcript, so the test's sleep plays the service and puts the result JSON where the job
said it would. Failures moto cannot produce (a FAILED job, throttling) use botocore's Stubber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from audio_helpers import DICTATION, wav
from botocore.stub import Stubber
from moto import mock_aws

from services.config import load_settings
from services.errors import ErrorCode, NoteLensError
from services.transcription.audio import check_audio
from services.transcription.aws import AmazonTranscriber, segments_from_result
from services.transcription.terms import clinical_terms
from services.wiring import build_app

BUCKET = "notelens-test-audio"
REGION = "ap-northeast-2"


def _item(word: str, start: float, end: float, speaker: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "pronunciation", "start_time": f"{start:.2f}", "end_time": f"{end:.2f}",
                            "alternatives": [{"confidence": "0.98", "content": word}]}
    if speaker:
        item["speaker_label"] = speaker
    return item


def _punct(mark: str) -> dict[str, Any]:
    return {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": mark}]}


# The shape Amazon Transcribe writes for ko-KR with ShowSpeakerLabels (speaker_label on each item).
RESULT = {
    "jobName": "x", "accountId": "123456789012", "status": "COMPLETED",
    "results": {
        "transcripts": [{"transcript": "기침이 계속 나요. 열은 좀 내렸나요? 타이레놀 처방하겠습니다."}],
        "speaker_labels": {"channel_label": "ch_0", "speakers": 2, "segments": []},
        "items": [
            _item("기침이", 0.5, 0.9, "spk_1"), _item("계속", 0.9, 1.2, "spk_1"), _item("나요", 1.2, 1.6, "spk_1"),
            _punct("."),
            _item("열은", 2.0, 2.3, "spk_0"), _item("좀", 2.3, 2.5, "spk_0"), _item("내렸나요", 2.5, 3.1, "spk_0"),
            _punct("?"),
            _item("타이레놀", 3.5, 4.1, "spk_0"), _item("처방하겠습니다", 4.1, 5.0, "spk_0"), _punct("."),
        ],
    },
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_TRANSCRIBE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield


class Service:
    """The test's sleep: on the first poll, writes the result JSON where the job said its output goes."""

    def __init__(self, result: dict[str, Any] = RESULT, medical: bool = False) -> None:
        self.result = result
        self.medical = medical
        self.sleeps: list[float] = []
        self.written = False

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.written:
            return
        tr = boto3.client("transcribe")
        if self.medical:
            jobs = tr.list_medical_transcription_jobs()["MedicalTranscriptionJobSummaries"]
            names = [j["MedicalTranscriptionJobName"] for j in jobs]
            keys = [f"medical/{name}.json" for name in names]  # where moto's Transcribe Medical says the output is
        else:
            names = [j["TranscriptionJobName"] for j in tr.list_transcription_jobs()["TranscriptionJobSummaries"]]
            keys = [f"notelens/transcribe/transcripts/{name}.json" for name in names]
        for key in keys:  # no job yet while a custom vocabulary is being made
            boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(self.result, ensure_ascii=False).encode())
            self.written = True


def _keys() -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_upload_start_poll_read_and_speakers(aws: None) -> None:
    service = Service()
    engine = AmazonTranscriber(BUCKET, sleep=service)
    audio = check_audio("visit.mp3", DICTATION.read_bytes(), 3600)
    progress: list[float] = []
    transcript = engine.transcribe(audio, progress.append)

    # The recording went up unchanged, and the job asked for Korean with speaker labels.
    media = [k for k in _keys() if "/audio/" in k]
    assert len(media) == 1 and media[0].endswith(".mp3")
    assert boto3.client("s3").get_object(Bucket=BUCKET, Key=media[0])["Body"].read() == DICTATION.read_bytes()
    tr = boto3.client("transcribe")
    name = tr.list_transcription_jobs()["TranscriptionJobSummaries"][0]["TranscriptionJobName"]
    job = tr.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    assert job["LanguageCode"] == "ko-KR" and job["MediaFormat"] == "mp3"
    assert job["Media"]["MediaFileUri"] == f"s3://{BUCKET}/{media[0]}"
    assert job["Settings"]["ShowSpeakerLabels"] is True and job["Settings"]["MaxSpeakerLabels"] == 2
    assert "VocabularyName" not in job["Settings"]
    # Polled with backoff until COMPLETED (moto: QUEUED → IN_PROGRESS → COMPLETED).
    assert service.sleeps == [1.0, 2.0]
    assert progress == sorted(progress) and progress[-1] == 1.0

    assert [(s.start, s.end, s.speaker, s.text) for s in transcript.segments] == [
        (0.5, 1.6, "spk_1", "기침이 계속 나요."),
        (2.0, 3.1, "spk_0", "열은 좀 내렸나요?"),
        (3.5, 5.0, "spk_0", "타이레놀 처방하겠습니다."),
    ]
    assert transcript.engine == "transcribe" and transcript.language == "ko-KR"
    assert transcript.text == "기침이 계속 나요.\n열은 좀 내렸나요?\n타이레놀 처방하겠습니다."


def test_cleanup_removes_the_recording_the_transcript_and_the_job(aws: None) -> None:
    engine = AmazonTranscriber(BUCKET, cleanup=True, sleep=Service())
    engine.transcribe(check_audio("v.wav", wav(2.0), 60))
    assert _keys() == []
    assert boto3.client("transcribe").list_transcription_jobs()["TranscriptionJobSummaries"] == []


def test_custom_vocabulary_is_built_from_the_clinical_terms_and_used(aws: None) -> None:
    engine = AmazonTranscriber(BUCKET, vocabulary="notelens-clinical-ko", sleep=Service())
    engine.transcribe(check_audio("v.wav", wav(2.0), 60))
    tr = boto3.client("transcribe")
    vocab = tr.get_vocabulary(VocabularyName="notelens-clinical-ko")
    assert vocab["LanguageCode"] == "ko-KR" and vocab["VocabularyState"] == "READY"
    name = tr.list_transcription_jobs()["TranscriptionJobSummaries"][0]["TranscriptionJobName"]
    job = tr.get_transcription_job(TranscriptionJobName=name)["TranscriptionJob"]
    assert job["Settings"]["VocabularyName"] == "notelens-clinical-ko"
    assert ("기침", "") in clinical_terms() and ("발열", "") in clinical_terms()


def test_english_goes_to_transcribe_medical(aws: None) -> None:
    result = {"results": {"transcripts": [{"transcript": "Cough persists."}],
                          "items": [_item("Cough", 0.1, 0.5, "spk_0"), _item("persists", 0.5, 1.0, "spk_0"), _punct(".")]}}
    engine = AmazonTranscriber(BUCKET, language="en-US", sleep=Service(result, medical=True))
    transcript = engine.transcribe(check_audio("v.wav", wav(2.0), 60))
    assert transcript.engine == "transcribe-medical" and transcript.text == "Cough persists."
    job = boto3.client("transcribe").list_medical_transcription_jobs()["MedicalTranscriptionJobSummaries"][0]
    assert job["LanguageCode"] == "en-US" and job["Specialty"] == "PRIMARYCARE" and job["Type"] == "CONVERSATION"


def test_an_upload_becomes_a_note_through_the_wiring(aws: None, data_dir: Path) -> None:
    app = build_app(load_settings(data_dir=data_dir, transcription_engine="transcribe", transcribe_bucket=BUCKET),
                    seed=False)
    assert app.backends()["transcription"].startswith("transcribe (ko-KR, s3://notelens-test-audio/")
    app.transcriber._sleep = Service()  # type: ignore[attr-defined]
    outcome = app.notes.ingest("visit.mp3", DICTATION.read_bytes())
    assert outcome.ok, outcome.error
    assert outcome.note.text == "기침이 계속 나요.\n열은 좀 내렸나요?\n타이레놀 처방하겠습니다."
    assert {"기침", "타이레놀"} <= {e.text for e in app.notes.view(outcome.note.id).entities}
    rec = app.recordings.view(outcome.note.id)
    assert rec is not None and rec.labels() == ["spk_0", "spk_1"] and rec.transcript.engine == "transcribe"


def test_older_results_with_speaker_segments_are_read_too() -> None:
    items = [{k: v for k, v in item.items() if k != "speaker_label"} for item in RESULT["results"]["items"]]  # type: ignore[index]
    older = {"results": {"items": items, "speaker_labels": {"segments": [
        {"speaker_label": "spk_1", "items": [{"start_time": "0.5", "end_time": "1.6", "speaker_label": "spk_1"}]},
        {"speaker_label": "spk_0", "items": [{"start_time": "2.0", "end_time": "5.0", "speaker_label": "spk_0"}]},
    ]}}}
    # start times inside a speaker item's range map to that speaker
    older["results"]["speaker_labels"]["segments"][0]["items"] = [  # type: ignore[index]
        {"start_time": s, "end_time": e, "speaker_label": "spk_1"} for s, e in (("0.5", "0.9"), ("0.9", "1.2"), ("1.2", "1.6"))]
    older["results"]["speaker_labels"]["segments"][1]["items"] = [  # type: ignore[index]
        {"start_time": s, "end_time": e, "speaker_label": "spk_0"}
        for s, e in (("2.0", "2.3"), ("2.3", "2.5"), ("2.5", "3.1"), ("3.5", "4.1"), ("4.1", "5.0"))]
    assert [s.speaker for s in segments_from_result(older)] == ["spk_1", "spk_0", "spk_0"]


def _stubbed(engine: AmazonTranscriber) -> tuple[Stubber, Stubber]:
    s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    tr = boto3.client("transcribe", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    engine._made = {"s3": s3, "transcribe": tr}
    return Stubber(s3), Stubber(tr)


def test_a_failed_job_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = AmazonTranscriber(BUCKET, sleep=lambda s: None)
    s3, tr = _stubbed(engine)
    s3.add_response("put_object", {})
    tr.add_response("start_transcription_job", {"TranscriptionJob": {"TranscriptionJobName": "j"}})
    tr.add_response("get_transcription_job", {"TranscriptionJob": {"TranscriptionJobName": "j",
                                                                   "TranscriptionJobStatus": "IN_PROGRESS"}})
    tr.add_response("get_transcription_job", {"TranscriptionJob": {
        "TranscriptionJobName": "j", "TranscriptionJobStatus": "FAILED",
        "FailureReason": "The media format provided does not match the detected media format."}})
    with s3, tr, pytest.raises(NoteLensError) as info:
        engine.transcribe(check_audio("v.wav", wav(1.0), 60))
    assert info.value.code is ErrorCode.TRANSCRIPTION_FAILED and "media format" in info.value.message


def test_refusals_and_missing_configuration_are_clear_errors() -> None:
    engine = AmazonTranscriber(BUCKET, sleep=lambda s: None)
    s3, tr = _stubbed(engine)
    s3.add_client_error("put_object", service_error_code="AccessDenied", service_message="Access Denied",
                        http_status_code=403)
    with s3, tr, pytest.raises(NoteLensError) as info:
        engine.transcribe(check_audio("v.wav", wav(1.0), 60))
    assert info.value.code is ErrorCode.CLOUD_REQUEST_FAILED
    with pytest.raises(NoteLensError) as info:
        AmazonTranscriber("").transcribe(check_audio("v.wav", wav(1.0), 60))
    assert info.value.code is ErrorCode.TRANSCRIBER_NOT_CONFIGURED and "NOTELENS_TRANSCRIBE_BUCKET" in info.value.message


def test_polling_gives_up_after_the_timeout() -> None:
    engine = AmazonTranscriber(BUCKET, timeout_s=5, sleep=lambda s: None)
    s3, tr = _stubbed(engine)
    s3.add_response("put_object", {})
    tr.add_response("start_transcription_job", {"TranscriptionJob": {"TranscriptionJobName": "j"}})
    for _ in range(4):  # waits 1 + 2 + 4 s, then gives up at the fourth look
        tr.add_response("get_transcription_job", {"TranscriptionJob": {"TranscriptionJobName": "j",
                                                                       "TranscriptionJobStatus": "IN_PROGRESS"}})
    with s3, tr, pytest.raises(NoteLensError) as info:
        engine.transcribe(check_audio("v.wav", wav(1.0), 60))
    assert "did not finish" in info.value.message
    tr.assert_no_pending_responses()
