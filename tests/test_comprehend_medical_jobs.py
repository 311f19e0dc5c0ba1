"""Comprehend Medical's S3 batch path. The job calls go through botocore's Stubber (request parameters validated
against the service model and compared with the exact expected ones); the output folder lives in moto's S3 and is
imported into a real SQLite store: entities and offsets, failed records for unprocessed files and a corrupt .out,
nothing lost, and a second collect adds nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from services.domain import Category, NoteStatus
from services.errors import CloudError, ErrorCode
from services.extraction.comprehend_medical_jobs import ComprehendMedicalJobs, _offset_map, request_token
from services.notes import sha256
from services.wiring import App

JOB = "5f1c0e7d2b3a49c8a1e6d4f09b7c2e11"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ComprehendMedicalBatchRole"
FOLDER = f"cm/{ACCOUNT}-EntitiesDetection-{JOB}/"


def _cm() -> Any:
    return boto3.client("comprehendmedical", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def _props(status: str = "PARTIAL_SUCCESS", out_key: str = "cm/", **extra: Any) -> dict[str, Any]:
    return {"JobId": JOB, "JobName": "ward-notes", "JobStatus": status, "SubmitTime": datetime(2025, 3, 1, tzinfo=UTC),
            "InputDataConfig": {"S3Bucket": "notelens-in", "S3Key": "notes/2024/"},
            "OutputDataConfig": {"S3Bucket": "notelens-out", "S3Key": out_key}, "LanguageCode": "en",
            "DataAccessRoleArn": ROLE, "ModelVersion": "DetectEntitiesModelV20190930", **extra}


# -- the job API through the Stubber -----------------------------------------------------------------------


def test_start_sends_exactly_the_documented_request() -> None:
    client = _cm()
    jobs = ComprehendMedicalJobs(client=client)
    expected = {
        "InputDataConfig": {"S3Bucket": "notelens-in", "S3Key": "notes/2024/"},
        "OutputDataConfig": {"S3Bucket": "notelens-out", "S3Key": "cm/"},
        "DataAccessRoleArn": ROLE, "LanguageCode": "en", "JobName": "ward-notes", "KMSKey": "alias/notelens",
        "ClientRequestToken": "retry-1",
    }
    with Stubber(client) as stub:
        stub.add_response("start_entities_detection_v2_job", {"JobId": JOB}, expected)
        assert jobs.start("s3://notelens-in/notes/2024/", "s3://notelens-out/cm/", ROLE, job_name="ward-notes",
                          kms_key="alias/notelens", client_request_token="retry-1") == JOB
        stub.assert_no_pending_responses()


def test_start_token_makes_a_retried_start_idempotent() -> None:
    client = _cm()
    jobs = ComprehendMedicalJobs(client=client)
    base = {"InputDataConfig": {"S3Bucket": "notelens-in"}, "OutputDataConfig": {"S3Bucket": "notelens-out", "S3Key": "cm"},
            "DataAccessRoleArn": ROLE, "LanguageCode": "en"}
    tokens: list[str] = []
    client.meta.events.register("before-parameter-build.comprehendmedical.StartEntitiesDetectionV2Job",
                                lambda params, **_: tokens.append(params["ClientRequestToken"]))
    with Stubber(client) as stub:
        for _ in range(2):  # no S3Key for a whole bucket, no JobName or KMSKey when not given
            stub.add_response("start_entities_detection_v2_job", {"JobId": JOB}, {**base, "ClientRequestToken": request_token(base)})
        stub.add_response("start_entities_detection_v2_job", {"JobId": "other"},
                          {**base, "JobName": "again", "ClientRequestToken": request_token({**base, "JobName": "again"})})
        for _ in range(2):
            jobs.start("s3://notelens-in", "s3://notelens-out/cm", ROLE)
        assert jobs.start("s3://notelens-in", "s3://notelens-out/cm", ROLE, job_name="again") == "other"
    assert tokens[0] == tokens[1] != tokens[2]
    assert all(re.fullmatch(r"[a-zA-Z0-9-]{1,64}", t) for t in tokens)
    with pytest.raises(ValueError, match="not an S3 URI"):
        jobs.start("notelens-in/notes", "s3://notelens-out/cm", ROLE)


def test_describe_list_all_pages_and_stop() -> None:
    client = _cm()
    jobs = ComprehendMedicalJobs(client=client)
    done, running = _props("COMPLETED"), {**_props("IN_PROGRESS"), "JobId": "b" * 32}
    with Stubber(client) as stub:
        stub.add_response("describe_entities_detection_v2_job", {"ComprehendMedicalAsyncJobProperties": done}, {"JobId": JOB})
        stub.add_response("list_entities_detection_v2_jobs",
                          {"ComprehendMedicalAsyncJobPropertiesList": [done], "NextToken": "page-2"},
                          {"Filter": {"JobStatus": "COMPLETED"}})
        stub.add_response("list_entities_detection_v2_jobs", {"ComprehendMedicalAsyncJobPropertiesList": [done]},
                          {"Filter": {"JobStatus": "COMPLETED"}, "NextToken": "page-2"})
        # The service takes one filter at a time: the name goes to the service, the status is applied here.
        stub.add_response("list_entities_detection_v2_jobs",
                          {"ComprehendMedicalAsyncJobPropertiesList": [done, running]}, {"Filter": {"JobName": "ward-notes"}})
        stub.add_response("list_entities_detection_v2_jobs", {"ComprehendMedicalAsyncJobPropertiesList": []}, {})
        stub.add_response("stop_entities_detection_v2_job", {"JobId": JOB}, {"JobId": JOB})
        assert jobs.describe(JOB)["JobStatus"] == "COMPLETED"
        assert len(jobs.list(status="COMPLETED")) == 2
        assert [j["JobId"] for j in jobs.list(status="IN_PROGRESS", name="ward-notes")] == ["b" * 32]
        assert jobs.list() == []
        assert jobs.stop(JOB) == JOB
        stub.assert_no_pending_responses()


def test_refusals_and_missing_configuration_give_clear_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client = _cm()
    with Stubber(client) as stub:
        stub.add_client_error("start_entities_detection_v2_job", "AccessDeniedException", "not authorized", 400)
        with pytest.raises(CloudError, match="iam:PassRole") as refused:
            ComprehendMedicalJobs(client=client).start("s3://notelens-in/n/", "s3://notelens-out/cm/", ROLE,
                                                       client_request_token="t")
    assert refused.value.code is ErrorCode.CLOUD_REQUEST_FAILED
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
                 "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CloudError, match="AWS_DEFAULT_REGION") as no_region:
        ComprehendMedicalJobs().describe(JOB)
    assert no_region.value.code is ErrorCode.CLOUD_NOT_CONFIGURED
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with pytest.raises(CloudError, match="credentials") as no_credentials:
        ComprehendMedicalJobs().describe(JOB)
    assert no_credentials.value.code is ErrorCode.CLOUD_NOT_CONFIGURED

    from services.__main__ import main

    assert main(["cm-job", "status", JOB]) == 2  # the CLI prints the message instead of a traceback


# -- collect: a realistic output folder in moto's S3, imported into the SQLite store ------------------------

NOTE_A = "John Smith denies chest pain. Hx of hypertension. Metformin 500 mg po bid since 2019.\n"
RAW_B = "\ufeffFever.\r\nNo cough.\r\nFever.\r\nFever again tonight.\r\n".encode()
NOTE_E = "Headache for 3 days. Ibuprofen 400 mg prn.\n"


def _item(text: str, mention: str, category: str, typ: str, traits: tuple[str, ...] = (), nth: int = 0,
          **extra: Any) -> dict[str, Any]:
    begin = -1
    for _ in range(nth + 1):
        begin = text.index(mention, begin + 1)
    return {"Id": begin, "BeginOffset": begin, "EndOffset": begin + len(mention), "Score": 0.97, "Text": mention,
            "Category": category, "Type": typ, "Traits": [{"Name": t, "Score": 0.9} for t in traits], **extra}


def _out(*items: dict[str, Any]) -> bytes:
    return json.dumps({"Entities": list(items), "UnmappedAttributes": [], "ModelVersion": "2.0.0"}).encode()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="notelens-in")
        client.create_bucket(Bucket="notelens-out")
        yield client


def _put(s3: Any, bucket: str, key: str, body: bytes | str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)


def _job_folder(s3: Any) -> None:
    """Five input files: two plain, one with a BOM and CRLFs (offsets counted in the stored bytes), one the job left
    unprocessed and one whose .out is cut off; plus another job's folder and an input the job never saw."""
    service_b = RAW_B.decode("utf-8")  # what the service read: BOM and CRLFs included
    inputs = {"a.txt": NOTE_A.encode(), "ward3/b.txt": RAW_B, "c.txt": b"Shortness of breath.\n",
              "d.txt": b"Nausea and vomiting.\n", "e.txt": NOTE_E.encode()}
    for rel, body in inputs.items():
        _put(s3, "notelens-in", f"notes/2024/{rel}", body)
    _put(s3, "notelens-out", FOLDER + "a.txt.out", _out(
        _item(NOTE_A, "John Smith", "PROTECTED_HEALTH_INFORMATION", "NAME"),
        _item(NOTE_A, "chest pain", "MEDICAL_CONDITION", "DX_NAME", ("SYMPTOM", "NEGATION")),
        _item(NOTE_A, "hypertension", "MEDICAL_CONDITION", "DX_NAME", ("DIAGNOSIS", "PAST_HISTORY")),
        _item(NOTE_A, "Metformin", "MEDICATION", "GENERIC_NAME", Attributes=[
            _item(NOTE_A, "500 mg", "MEDICATION", "DOSAGE", RelationshipScore=0.9, RelationshipType="DOSAGE"),
            _item(NOTE_A, "po", "MEDICATION", "ROUTE_OR_MODE", RelationshipScore=0.9, RelationshipType="ROUTE_OR_MODE")]),
        _item(NOTE_A, "2019", "TIME_EXPRESSION", "TIME_TO_MEDICATION_NAME"),
    ))
    _put(s3, "notelens-out", FOLDER + "ward3/b.txt.out", _out(
        _item(service_b, "cough", "MEDICAL_CONDITION", "DX_NAME", ("SYMPTOM", "NEGATION")),
        _item(service_b, "Fever", "MEDICAL_CONDITION", "DX_NAME", ("SYMPTOM",), nth=2),
    ))
    _put(s3, "notelens-out", FOLDER + "d.txt.out", b'{"Entities": [{"Id": 0, "BeginOffset": 0, "EndOff')
    _put(s3, "notelens-out", FOLDER + "e.txt.out", _out(
        _item(NOTE_E, "Headache", "MEDICAL_CONDITION", "DX_NAME", ("SYMPTOM",)),
        _item(NOTE_E, "Ibuprofen", "MEDICATION", "GENERIC_NAME"),
    ))
    success = [{"Input": f"notes/2024/{rel}", "Output": f"{FOLDER}{rel}.out", "InputSize": len(inputs[rel])}
               for rel in ("a.txt", "ward3/b.txt", "d.txt", "e.txt")]
    _put(s3, "notelens-out", FOLDER + "Success/success", json.dumps({"Files": success}))
    _put(s3, "notelens-out", FOLDER + "Unprocessed/unprocessed", json.dumps({"Files": ["notes/2024/c.txt"]}))
    _put(s3, "notelens-out", FOLDER + "Manifest", json.dumps({"Summary": {
        "Status": "PARTIAL_SUCCESS", "JobType": "EntitiesDetection",
        "InputDataConfiguration": {"Bucket": "notelens-in", "Path": "notes/2024/"},
        "OutputDataConfiguration": {"Bucket": "notelens-out", "Path": FOLDER},
        "InputFileCount": 5, "TotalMeteredCharacters": 260, "UnprocessedFilesCount": 1, "SuccessFilesCount": 4,
        "TotalDurationSeconds": 95,
        "SuccessfulFilesListLocation": f"s3://notelens-out/{FOLDER}Success/success",
        "UnprocessedFilesListLocation": f"s3://notelens-out/{FOLDER}Unprocessed/unprocessed",
    }}))
    _put(s3, "notelens-out", f"cm/{ACCOUNT}-EntitiesDetection-{'f' * 32}/x.txt.out", _out())  # another job
    _put(s3, "notelens-in", "notes/2024/late.txt", b"Added after the job.\n")  # never part of this job


def _by_name(app: App, name: str) -> Any:
    (note,) = [n for n in app.store.list_notes() if n.filename == name]
    return note


def test_collect_imports_every_file_and_records_failures(app: App, s3: Any) -> None:
    _job_folder(s3)
    e_before = app.notes.ingest("e.txt", NOTE_E.encode())  # already in the store, extracted by the local engine
    assert e_before.ok and e_before.extraction is not None and e_before.extraction.engine == "local"

    report = ComprehendMedicalJobs(notes=app.notes, s3=s3).collect(_props())

    assert report.folder == f"s3://notelens-out/{FOLDER}" and report.warnings == []
    assert sorted(r["Input"] for r in report.imported) == ["a.txt", "e.txt", "ward3/b.txt"]
    failed = {r["Input"]: r for r in report.failed}
    assert {k: v["ErrorCode"] for k, v in failed.items()} == {"c.txt": "NOT_PROCESSED", "d.txt": "OUTPUT_INVALID"}
    assert report.as_summary()["InputFileCount"] == report.summary["InputFileCount"] == 5  # nothing lost
    assert app.store.counts()["notes"] == 5 and "late.txt" not in {n.filename for n in app.store.list_notes()}

    a = app.notes.view(_by_name(app, "a.txt").id)
    assert a.note.text == NOTE_A and a.note.status is NoteStatus.DONE and a.note.source == "comprehend-medical-job"
    assert a.extraction is not None and a.extraction.engine == "comprehend-medical"
    assert a.extraction.model_id == "2.0.0"
    got = {e.text: e for e in a.entities}
    assert set(got) == {"John Smith", "chest pain", "hypertension", "Metformin"}  # the time expression is left out
    assert got["John Smith"].category is Category.PHI and got["John Smith"].attributes == {"phi_type": "name"}
    assert got["chest pain"].category is Category.SYMPTOM and got["chest pain"].negated
    assert got["hypertension"].category is Category.DIAGNOSIS and got["hypertension"].historical
    assert got["Metformin"].attributes == {"dosage": "500 mg", "route": "po"}
    assert (got["chest pain"].begin, got["chest pain"].end) == (NOTE_A.index("chest pain"), NOTE_A.index("chest pain") + 10)
    for e in a.entities:
        assert e.grounded and NOTE_A[e.begin:e.end] == e.text

    b = app.notes.view(_by_name(app, "b.txt").id)
    assert b.note.text == "Fever.\nNo cough.\nFever.\nFever again tonight.\n"  # BOM and CRLF gone from the note
    (fever,) = [e for e in b.entities if e.text == "Fever"]
    assert fever.begin == b.note.text.index("Fever again")  # the third Fever, as the service said, in note offsets
    (cough,) = [e for e in b.entities if e.text == "cough"]
    assert cough.negated and b.note.text[cough.begin:cough.end] == "cough"

    c = _by_name(app, "c.txt")
    assert c.status is NoteStatus.FAILED and c.error_code == "NOT_PROCESSED" and "did not process" in (c.error_message or "")
    assert app.notes.blobs.get(sha256(b"Shortness of breath.\n")) == b"Shortness of breath.\n"  # the original is kept
    assert c.text == "Shortness of breath.\n" and app.store.extractions(c.id) == []
    d = _by_name(app, "d.txt")
    assert d.status is NoteStatus.FAILED and d.error_code == "OUTPUT_INVALID" and "not valid JSON" in (d.error_message or "")
    assert failed["d.txt"]["NoteId"] == d.id and failed["c.txt"]["NoteStatus"] == "failed"

    e = app.notes.view(e_before.note.id)  # the same note, now with a second version from the job
    assert [x.engine for x in e.extractions] == ["local", "comprehend-medical"]
    assert {x.text for x in e.entities} == {"Headache", "Ibuprofen"}

    again = ComprehendMedicalJobs(notes=app.notes, s3=s3).collect(_props())
    assert again.imported == [] and sorted(r["Input"] for r in again.skipped) == ["a.txt", "e.txt", "ward3/b.txt"]
    assert len(again.failed) == 2 and len(app.store.extractions(e.note.id)) == 2


def test_collect_by_job_id_with_lists_named_in_our_batch_layout(app: App, s3: Any) -> None:
    """Describe names the job's own folder; no list locations in the Manifest: the success and unprocessed lists are
    found by name, unprocessed entries may carry their reason, a listed file without a .out fails, a count that does
    not match its list is reported, and an unreadable input falls back to the one note of that filename."""
    app.notes.ingest("g.txt", b"Dizziness.\n")
    _put(s3, "notelens-in", "notes/2024/f.txt", b"Cough.\n")
    _put(s3, "notelens-in", "notes/2024/h.txt", b"Rash on arm.\n")
    moved = {**_item("Dizziness.\n", "Dizziness", "MEDICAL_CONDITION", "DX_NAME", ("SYMPTOM",)), "BeginOffset": 3,
             "EndOffset": 12}  # offsets that do not fit the stored text: located by the mention
    invented = {**_item("Syncope", "Syncope", "MEDICAL_CONDITION", "DX_NAME", ("SYMPTOM",)), "BeginOffset": 0}
    _put(s3, "notelens-out", FOLDER + "g.txt.out", _out(moved, invented))
    _put(s3, "notelens-out", FOLDER + "Manifest", json.dumps({"Summary": {"Status": "PARTIAL_SUCCESS",
                                                                          "SuccessFilesCount": 3, "UnprocessedFilesCount": 1}}))
    _put(s3, "notelens-out", FOLDER + "success.json", json.dumps({"Files": [
        {"Input": "f.txt", "Output": "f.txt.out", "InputSize": 7}, {"Input": "g.txt", "Output": "g.txt.out", "InputSize": 11}]}))
    _put(s3, "notelens-out", FOLDER + "unprocessed.json", json.dumps({"Files": [
        {"Input": "h.txt", "ErrorCode": "TOO_LARGE", "ErrorMessage": "The file is larger than the job accepts."}]}))
    client = _cm()
    with Stubber(client) as stub:
        stub.add_response("describe_entities_detection_v2_job",
                          {"ComprehendMedicalAsyncJobProperties": _props("PARTIAL_SUCCESS", out_key=FOLDER)}, {"JobId": JOB})
        report = ComprehendMedicalJobs(notes=app.notes, client=client, s3=s3).collect(JOB)
    assert [r["Input"] for r in report.imported] == ["g.txt"]  # g.txt is not in S3: the stored note is used
    assert {r["Input"]: r["ErrorCode"] for r in report.failed} == {"f.txt": "OUTPUT_INVALID", "h.txt": "NOT_PROCESSED"}
    assert _by_name(app, "h.txt").error_message == "The file is larger than the job accepts."
    assert "wrote no .out" in (_by_name(app, "f.txt").error_message or "")
    assert report.warnings == ["The Manifest counts 3 processed files but its list names 2."]
    got = {e.text: e for e in app.notes.view(_by_name(app, "g.txt").id).entities}
    dizzy, syncope = got["Dizziness"], got["Syncope"]
    assert (dizzy.text, dizzy.begin, dizzy.end, dizzy.grounded, dizzy.engine) == ("Dizziness", 0, 9, True, "comprehend-medical")
    assert (syncope.text, syncope.grounded) == ("Syncope", False)  # not in the note: kept, flagged, never as real
    assert report.imported[0]["Ungrounded"] == 1


def test_collect_waits_for_a_finished_job_and_finds_no_folder_clearly(app: App, s3: Any) -> None:
    jobs = ComprehendMedicalJobs(notes=app.notes, s3=s3)
    with pytest.raises(ValueError, match="IN_PROGRESS"):
        jobs.collect(_props("IN_PROGRESS"))
    with pytest.raises(CloudError, match="No output folder.*bad role"):
        jobs.collect(_props("FAILED", Message="bad role"))


def test_offset_map_undoes_bom_and_crlf() -> None:
    service = "\ufeffab\r\ncd\re"
    note = "ab\ncd\ne"
    locate = _offset_map(service, note)
    for mention in ("ab", "cd", "e"):
        b = service.index(mention)
        nb, ne = locate(b, b + len(mention))
        assert note[nb:ne] == mention


def test_the_shared_mapping_keeps_the_sync_engines_phi_rules() -> None:
    """The refactor that shares ``map_entities`` with the batch path: service PHI is dropped when the note was masked
    (PHI comes from the local recognizers) and kept when masking is off (DetectPHI)."""
    from services.extraction.comprehend_medical import ComprehendMedicalEngine

    note = "Patient: John Smith. Denies fever.\n"
    for mask_phi in (True, False):
        client = _cm()
        sent = "Patient: [이름1]. Denies fever.\n" if mask_phi else note
        fever = _item(sent, "fever", "MEDICAL_CONDITION", "DX_NAME", ("SYMPTOM", "NEGATION"))
        # DetectEntitiesV2 reports PHI too: on the masked text it is the placeholder, which must not become an entity.
        phi = _item(sent, "[이름1]" if mask_phi else "John Smith", "PROTECTED_HEALTH_INFORMATION", "NAME")
        with Stubber(client) as stub:
            stub.add_response("detect_entities_v2", {"Entities": [fever, phi], "ModelVersion": "2.0"}, {"Text": sent})
            if not mask_phi:
                stub.add_response("detect_phi", {"Entities": [phi], "ModelVersion": "2.0"}, {"Text": sent})
            result = ComprehendMedicalEngine(client=client, mask_phi=mask_phi).extract(note)
        phis = [(e.text, e.engine) for e in result.entities if e.category is Category.PHI]
        assert phis == ([("John Smith", "local")] if mask_phi else [("John Smith", "comprehend-medical")] * 2)
        (got,) = [e for e in result.entities if e.category is Category.SYMPTOM]
        assert got.negated and note[got.begin:got.end] == "fever"
