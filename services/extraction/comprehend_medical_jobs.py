"""Amazon Comprehend Medical's asynchronous S3 batch path: StartEntitiesDetectionV2Job, Describe, List, Stop, and
reading a finished job's output back into the store.

A job reads every object under an S3 prefix and writes, under ``<output prefix>/<AccountId>-EntitiesDetection-<JobId>/``,
one ``<input path relative to the input prefix>.out`` per file (the JSON of a DetectEntitiesV2 response), a
``Manifest`` (a ``Summary`` with counts and the locations of the success and unprocessed lists) and those two lists
(``{"Files": [...]}``). ``collect`` maps every ``.out`` through the synchronous engine's own mapping
(``comprehend_medical.map_entities``) and stores it as a ``comprehend-medical`` extraction version of the note holding
that file's text; the original is read from S3 and ingested first when the store does not have it. Files the job did
not process, and ``.out`` files that are missing or unreadable, are recorded as failed with the reason; one bad file
never stops the import, and a second collect of the same job adds no duplicate versions.

Clients come from boto3's standard configuration only (env vars, profiles, instance roles, ``AWS_ENDPOINT_URL_*``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from services.domain import Entity, ExtractionResult, Note, NoteStatus
from services.errors import CloudError, ErrorCode, NoteLensError
from services.extraction.comprehend_medical import ENGINE_NAME, map_entities
from services.extraction.llm.grounding import ground
from services.notes import NoteService, sha256

log = logging.getLogger(__name__)

SOURCE = "comprehend-medical-job"
JOB_TYPE = "EntitiesDetection"
STATUSES = ("SUBMITTED", "IN_PROGRESS", "COMPLETED", "PARTIAL_SUCCESS", "FAILED", "STOP_REQUESTED", "STOPPED")
FINISHED = frozenset({"COMPLETED", "PARTIAL_SUCCESS", "FAILED", "STOPPED"})
# Module-level aliases: inside the class its own ``list`` method would shadow the builtin in annotations.
JobProperties = dict[str, Any]
JobList = list[JobProperties]
Pages = list[dict[str, Any]]
Names = list[str]
Items = list[Any]
Entities = list[Entity]
Locate = Callable[[int, int], tuple[int, int]]

NOT_PROCESSED_REASON = ("The Comprehend Medical job did not process this file (typically it was added to the input "
                        "folder after the job started); start a new job for it.")
_NO_CREDENTIALS = ("No AWS credentials found. Set them the standard way: AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY), an SSO login, or an instance/task role.")
_NO_REGION = ("No AWS region is set. Set AWS_DEFAULT_REGION (boto3 does not read AWS_REGION) or a region in your AWS "
              "profile, to a region where Amazon Comprehend Medical is offered.")
_HINTS = {
    "AccessDeniedException": " The caller needs comprehendmedical:StartEntitiesDetectionV2Job/Describe…/List…/Stop… and "
                             "iam:PassRole on the data access role (see the README).",
    "AccessDenied": " Check the S3 permissions of the caller on the input and output buckets (see the README).",
    "ResourceNotFoundException": " No such job in this account and region.",
    "UnrecognizedClientException": " The credentials are not valid for this region.",
}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → (bucket, prefix)."""
    if not uri.startswith("s3://") or not uri[5:].partition("/")[0]:
        raise ValueError(f"not an S3 URI: {uri!r} (expected s3://bucket/prefix)")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def request_token(params: Mapping[str, Any]) -> str:
    """A ClientRequestToken derived from the request: starting the same job twice (a retried command) gives the
    service the same token, so it returns the first job instead of starting a second one."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode("utf-8")).hexdigest()
    return f"notelens-{digest[:40]}"


def _data_config(bucket: str, key: str) -> dict[str, str]:
    return {"S3Bucket": bucket, "S3Key": key} if key else {"S3Bucket": bucket}


def _boto_client(service: str) -> Any:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    try:
        return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 5}))
    except NoRegionError as exc:
        raise CloudError(ErrorCode.CLOUD_NOT_CONFIGURED, _NO_REGION) from exc


@dataclass
class CollectReport:
    job_id: str
    job_status: str
    folder: str = ""
    summary: dict[str, Any] = field(default_factory=dict)  # the job's Manifest Summary
    imported: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # already imported with the same entities
    failed: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_summary(self) -> dict[str, Any]:
        return {
            "JobId": self.job_id,
            "JobStatus": self.job_status,
            "OutputFolder": self.folder,
            "InputFileCount": len(self.imported) + len(self.skipped) + len(self.failed),
            "ImportedFilesCount": len(self.imported),
            "SkippedFilesCount": len(self.skipped),
            "FailedFilesCount": len(self.failed),
            "Warnings": self.warnings,
        }


@dataclass
class _File:
    rel: str  # the input path relative to the job's input prefix (the .out is <folder><rel>.out)
    input: tuple[str, str]
    out_key: str | None = None
    unprocessed: str | None = None  # the reason, for a file the job did not process


class _Failed(Exception):
    def __init__(self, code: ErrorCode, message: str, note: Note | None) -> None:
        super().__init__(message)
        self.code, self.message, self.note = code, message, note


class ComprehendMedicalJobs:
    """The entity-detection batch jobs of one account and region, and their import into the NoteLens store."""

    def __init__(self, notes: NoteService | None = None, client: Any | None = None, s3: Any | None = None) -> None:
        self.notes = notes
        self._client = client
        self._s3 = s3

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = _boto_client("comprehendmedical")
        return self._client

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = _boto_client("s3")
        return self._s3

    # -- the job API -----------------------------------------------------------------------------

    def start(self, input_s3_uri: str, output_s3_uri: str, role_arn: str, job_name: str | None = None,
              kms_key: str | None = None, client_request_token: str | None = None) -> str:
        """Start an entity-detection job over every object under ``input_s3_uri``; returns the job id."""
        params: dict[str, Any] = {
            "InputDataConfig": _data_config(*parse_s3_uri(input_s3_uri)),
            "OutputDataConfig": _data_config(*parse_s3_uri(output_s3_uri)),
            "DataAccessRoleArn": role_arn,
            "LanguageCode": "en",  # the only language the service reads
        }
        if job_name:
            params["JobName"] = job_name
        if kms_key:
            params["KMSKey"] = kms_key
        params["ClientRequestToken"] = client_request_token or request_token(params)
        job_id = str(self._call(self.client, "start_entities_detection_v2_job", **params)["JobId"])
        log.info("started Comprehend Medical job %s", job_id)
        return job_id

    def describe(self, job_id: str) -> JobProperties:
        reply = self._call(self.client, "describe_entities_detection_v2_job", JobId=job_id)
        return dict(reply["ComprehendMedicalAsyncJobProperties"])

    def list(self, status: str | None = None, name: str | None = None) -> JobList:
        """Every job (all pages), optionally of one status and/or name. The service takes one filter at a time, so
        with both the name is filtered by the service and the status here."""
        flt = {"JobName": name} if name else {"JobStatus": status} if status else {}
        params: dict[str, Any] = {"Filter": flt} if flt else {}
        jobs: JobList = []
        while True:
            page = self._call(self.client, "list_entities_detection_v2_jobs", **params)
            jobs += page.get("ComprehendMedicalAsyncJobPropertiesList", [])
            token = page.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
        if name and status:
            jobs = [j for j in jobs if j.get("JobStatus") == status]
        return jobs

    def stop(self, job_id: str) -> str:
        return str(self._call(self.client, "stop_entities_detection_v2_job", JobId=job_id)["JobId"])

    @staticmethod
    def _call(client: Any, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

        try:
            return getattr(client, operation)(**params)
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise CloudError(ErrorCode.CLOUD_NOT_CONFIGURED, _NO_CREDENTIALS) from exc
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code = str(err.get("Code", "Unknown"))
            raise CloudError(ErrorCode.CLOUD_REQUEST_FAILED,
                             f"{operation} was refused: {code}: {err.get('Message', '')}{_HINTS.get(code, '')}") from exc
        except BotoCoreError as exc:
            raise CloudError(ErrorCode.CLOUD_REQUEST_FAILED, f"{operation} failed: {exc}") from exc

    # -- reading a job's output back ---------------------------------------------------------------

    def collect(self, job: str | Mapping[str, Any]) -> CollectReport:
        """Import a finished job's output folder (``job`` is a job id or its Describe properties) into the store."""
        if self.notes is None:
            raise ValueError("collect needs a NoteService to import into")
        props = self.describe(job) if isinstance(job, str) else dict(job)
        job_id, status = str(props["JobId"]), str(props.get("JobStatus") or "")
        if status and status not in FINISHED:
            raise ValueError(f"Job {job_id} is {status}; collect it once it is COMPLETED, PARTIAL_SUCCESS, FAILED or STOPPED.")
        report = CollectReport(job_id, status)
        bucket, folder = self._folder(props)
        report.folder = f"s3://{bucket}/{folder}"
        keys = self._keys(bucket, folder)
        summary = self._manifest(props, bucket, folder, keys, report)
        report.summary = summary
        files = self._files(props, bucket, folder, keys, summary, report)
        for f in sorted(files.values(), key=lambda f: f.rel):
            try:
                self._import(f, bucket, props, report)
            except _Failed as failed:
                self._record_failure(report, f.rel, failed)
            except Exception as exc:  # one bad file never stops the import
                log.debug("collect: unexpected failure", exc_info=True)
                self._record_failure(report, f.rel, _Failed(ErrorCode.OUTPUT_INVALID,
                                                            f"The import failed: {type(exc).__name__}.", None))
        log.info("collected Comprehend Medical job %s: %d imported, %d unchanged, %d failed", job_id,
                 len(report.imported), len(report.skipped), len(report.failed))
        return report

    def _folder(self, props: Mapping[str, Any]) -> tuple[str, str]:
        """(bucket, key prefix) of ``<output prefix>/<AccountId>-EntitiesDetection-<JobId>/``."""
        job_id = str(props["JobId"])
        marker = f"-{JOB_TYPE}-{job_id}/"
        out = props["OutputDataConfig"]
        bucket, key = str(out["S3Bucket"]), str(out.get("S3Key") or "")
        manifest = str(props.get("ManifestFilePath") or "")
        if manifest:
            m_bucket, m_key = parse_s3_uri(manifest) if manifest.startswith("s3://") else (bucket, manifest)
            if "/" in m_key:
                return m_bucket, m_key.rsplit("/", 1)[0] + "/"
        if marker in key:  # Describe reports the job's own folder as the output key
            return bucket, key[: key.index(marker) + len(marker)]
        base = key if not key or key.endswith("/") else key + "/"
        for prefix in self._prefixes(bucket, base):
            if prefix.endswith(marker):
                return bucket, prefix
        why = f" The job says: {props['Message']}" if props.get("Message") else ""
        raise CloudError(ErrorCode.OUTPUT_INVALID, f"No output folder for job {job_id} under s3://{bucket}/{base}.{why}")

    def _pages(self, bucket: str, prefix: str, delimiter: str | None = None) -> Pages:
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if delimiter:
            params["Delimiter"] = delimiter
        pages: Pages = []
        while True:
            page = self._call(self.s3, "list_objects_v2", **params)
            pages.append(page)
            if not page.get("IsTruncated"):
                return pages
            params["ContinuationToken"] = page["NextContinuationToken"]

    def _prefixes(self, bucket: str, prefix: str) -> Names:
        return [p["Prefix"] for page in self._pages(bucket, prefix, "/") for p in page.get("CommonPrefixes", [])]

    def _keys(self, bucket: str, prefix: str) -> set[str]:
        return {o["Key"] for page in self._pages(bucket, prefix) for o in page.get("Contents", [])}

    def _get(self, bucket: str, key: str) -> bytes:
        body = self._call(self.s3, "get_object", Bucket=bucket, Key=key)["Body"]
        try:
            return bytes(body.read())
        except Exception as exc:  # a connection dropped while streaming the body
            raise CloudError(ErrorCode.READ_FAILED, f"Reading s3://{bucket}/{key} failed: {type(exc).__name__}.") from exc

    def _locate(self, ref: str, bucket: str, folder: str, keys: set[str]) -> tuple[str, str]:
        """A manifest's "path to file": an s3:// URI, a key, or a key relative to the job's folder."""
        if ref.startswith("s3://"):
            return parse_s3_uri(ref)
        ref = ref.lstrip("/")
        return bucket, ref if ref in keys or folder + ref not in keys else folder + ref

    def _manifest(self, props: Mapping[str, Any], bucket: str, folder: str, keys: set[str],
                  report: CollectReport) -> dict[str, Any]:
        ref = str(props.get("ManifestFilePath") or "")
        candidates = [folder + name for name in ("Manifest", "Manifest.json") if folder + name in keys]
        where = self._locate(ref, bucket, folder, keys) if ref else (bucket, candidates[0]) if candidates else None
        if where is None:
            report.warnings.append("The output folder has no Manifest; the .out files and lists found were imported.")
            return {}
        try:
            summary = json.loads(self._get(*where))["Summary"]
            if not isinstance(summary, dict):
                raise TypeError
            return summary
        except (NoteLensError, ValueError, KeyError, TypeError) as exc:
            report.warnings.append(f"The Manifest cannot be read ({type(exc).__name__}); the .out files and lists "
                                   "found were imported.")
            return {}

    def _file_list(self, location: Any, stem: str, bucket: str, folder: str, keys: set[str],
                   report: CollectReport) -> Items:
        """The ``Files`` of the success or unprocessed list named in the Manifest (else one named like it)."""
        if location:
            where: tuple[str, str] | None = self._locate(str(location), bucket, folder, keys)
        else:
            named = sorted(k for k in keys if "/" not in k[len(folder):] and k[len(folder):].lower().startswith(stem))
            where = (bucket, named[0]) if named else None
        if where is None:
            return []
        try:
            data = json.loads(self._get(*where))
            files = data["Files"] if isinstance(data, dict) else data
            if not isinstance(files, list):
                raise TypeError
            return files
        except (NoteLensError, ValueError, KeyError, TypeError) as exc:
            report.warnings.append(f"The {stem} list s3://{where[0]}/{where[1]} cannot be read ({type(exc).__name__}).")
            return []

    def _files(self, props: Mapping[str, Any], bucket: str, folder: str, keys: set[str], summary: Mapping[str, Any],
               report: CollectReport) -> dict[str, _File]:
        """Every input file the job accounted for: its .out files, its success list and its unprocessed list."""
        in_bucket = str(props["InputDataConfig"]["S3Bucket"])
        in_prefix = str(props["InputDataConfig"].get("S3Key") or "")

        def entry(rel: str) -> _File:
            if rel not in files:
                files[rel] = _File(rel, (in_bucket, _input_key(in_prefix, rel)))
            return files[rel]

        def from_ref(ref: str) -> _File:
            b, key = parse_s3_uri(ref) if ref.startswith("s3://") else (in_bucket, ref.lstrip("/"))
            if in_prefix and key.startswith(in_prefix):
                rel = key[len(in_prefix):].lstrip("/") or PurePosixPath(key).name
            else:  # already relative to the input prefix
                rel, key = key, _input_key(in_prefix, key)
            f = entry(rel)
            f.input = (b, key)
            return f

        files: dict[str, _File] = {}
        for key in sorted(keys):
            if key.endswith(".out") and len(key) > len(folder) + 4:
                entry(key[len(folder):-4]).out_key = key
        success = self._file_list(summary.get("SuccessfulFilesListLocation"), "success", bucket, folder, keys, report)
        for item in success:
            ref = item.get("Input") if isinstance(item, dict) else item
            if not isinstance(ref, str):
                continue
            f = from_ref(ref)
            out = item.get("Output") if isinstance(item, dict) else None
            if f.out_key is None and isinstance(out, str):
                out_bucket, out_key = self._locate(out, bucket, folder, keys)
                if out_bucket == bucket and out_key in keys:
                    f.out_key = out_key
        unprocessed = self._file_list(summary.get("UnprocessedFilesListLocation"), "unprocessed", bucket, folder, keys,
                                      report)
        for item in unprocessed:
            ref = item.get("Input") if isinstance(item, dict) else item
            if not isinstance(ref, str):
                report.warnings.append(f"An unprocessed-list entry names no file: {type(item).__name__}.")
                continue
            reason = item.get("ErrorMessage") if isinstance(item, dict) else None
            from_ref(ref).unprocessed = str(reason or NOT_PROCESSED_REASON)
        # Nothing lost: the lists must account for what the Manifest counts.
        for count_key, listed, what in (("SuccessFilesCount", success, "processed"),
                                        ("UnprocessedFilesCount", unprocessed, "unprocessed")):
            count = summary.get(count_key)
            if isinstance(count, int) and count != len(listed):
                report.warnings.append(f"The Manifest counts {count} {what} files but its list names {len(listed)}.")
        return files

    def _import(self, f: _File, bucket: str, props: Mapping[str, Any], report: CollectReport) -> None:
        assert self.notes is not None
        try:
            note, data = self._note_for(f)
        except _Failed as failed:
            if f.unprocessed is not None:
                raise _Failed(ErrorCode.NOT_PROCESSED, f"{f.unprocessed} ({failed.message})", failed.note) from None
            raise
        if f.unprocessed is not None:
            raise _Failed(ErrorCode.NOT_PROCESSED, f.unprocessed, note)
        if f.out_key is None:
            raise _Failed(ErrorCode.OUTPUT_INVALID, "The job listed this file as processed but wrote no .out file for it.",
                          note)
        assert note.text is not None
        try:
            payload = json.loads(self._get(bucket, f.out_key).decode("utf-8"))
            entities = self._entities(payload, note.text, data)
        except NoteLensError as err:
            raise _Failed(ErrorCode.OUTPUT_INVALID, f"The .out file cannot be read: {err.message}", note) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _Failed(ErrorCode.OUTPUT_INVALID, f"The .out file is not a DetectEntitiesV2 result: {_why(exc)}.",
                          note) from None
        versions = self.notes.store.extractions(note.id)
        if versions and versions[-1].engine == ENGINE_NAME and _dump(versions[-1].entities) == _dump(entities):
            report.skipped.append({"Input": f.rel, "NoteId": note.id, "Version": versions[-1].version})
            return
        model = payload.get("ModelVersion") or props.get("ModelVersion")
        result = ExtractionResult(engine=ENGINE_NAME, model_id=str(model) if model else None, entities=entities)
        extraction = self.notes.store.add_extraction(note.id, result, 0.0)
        report.imported.append({"Input": f.rel, "NoteId": note.id, "Version": extraction.version,
                                "Entities": len(entities), "Ungrounded": sum(not e.grounded for e in entities)})

    def _note_for(self, f: _File) -> tuple[Note, bytes | None]:
        """The note holding this input file's text: found by the file's content (the offsets in the .out refer to
        it), ingested from S3 when the store lacks it, or — when the object cannot be read — the one note of that
        filename."""
        assert self.notes is not None
        name = PurePosixPath(f.rel).name
        try:
            data = self._get(*f.input)
        except NoteLensError as err:
            named = [n for n in self.notes.store.list_notes(limit=1_000_000, with_text=False) if n.filename == name]
            if len(named) == 1:
                note = self.notes.store.get_note(named[0].id)
                if note is not None and note.text is not None:
                    return note, None
            raise _Failed(ErrorCode.READ_FAILED, f"The input s3://{f.input[0]}/{f.input[1]} cannot be read "
                                                 f"({err.message}) and the store has no single note named {name}.",
                          None) from None
        # Looked up first: NoteService.ingest re-runs the app's own engine on a failed twin.
        note = self.notes.store.note_for_source(sha256(data))
        if note is None:
            outcome = self.notes.ingest(name, data, source=SOURCE, process=False)  # the original is stored first
            if outcome.error is not None:
                raise _Failed(outcome.error.code, outcome.error.message, outcome.note)
            note = outcome.note
        if note.text is None:
            known = {c.value: c for c in ErrorCode}
            raise _Failed(known.get(note.error_code or "", ErrorCode.READ_FAILED), note.error_message or "The note has no text.",
                          note)
        return note, data

    @staticmethod
    def _entities(payload: Any, text: str, data: bytes | None) -> Entities:
        """The .out's entities with offsets in the note text. The service counted offsets in the object as stored
        (BOM, CRLF); the note text is decoded and normalised, so offsets are mapped, and every mention is checked
        against the text: one that is not where the offsets say is located by its text (nearest occurrence), else
        kept with ``grounded: false``."""
        if not isinstance(payload, dict) or not isinstance(payload.get("Entities"), list):
            raise KeyError("Entities")
        to_note = _offset_map(data.decode("utf-8", errors="replace") if data is not None else text, text)
        entities: Entities = []
        taken: set[tuple[int, int]] = set()
        for item in payload["Entities"]:
            mention = str(item["Text"])
            b, e = to_note(int(item["BeginOffset"]), int(item["EndOffset"]))
            grounded = text[b:e] == mention
            if not grounded:
                span = ground(text, mention, b, taken)
                grounded = span is not None
                b, e = span if span is not None else (0, 0)
            taken.add((b, e))
            for entity in map_entities([item], text, _fixed(b, e)):
                entities.append(entity if grounded else entity.model_copy(update={"text": mention, "grounded": False}))
        entities.sort(key=lambda x: (x.begin, x.end))
        return entities

    def _record_failure(self, report: CollectReport, rel: str, failed: _Failed) -> None:
        assert self.notes is not None
        note = failed.note
        if note is not None and not self.notes.store.extractions(note.id):
            # Retryable like any failed note; a note that already has results keeps them and its status.
            self.notes.store.set_status(note.id, NoteStatus.FAILED, failed.code.value, failed.message)
            note = self.notes.store.get_note(note.id) or note
        report.failed.append({"Input": rel, "NoteId": note.id if note else None, "ErrorCode": failed.code.value,
                              "ErrorMessage": failed.message, "NoteStatus": note.status.value if note else None})


def _input_key(prefix: str, rel: str) -> str:
    if prefix == rel or prefix.endswith("/" + rel):  # the job read one object
        return prefix
    return f"{prefix.rstrip('/')}/{rel}" if prefix else rel


def _fixed(begin: int, end: int) -> Locate:
    return lambda _b, _e: (begin, end)


def _offset_map(service_text: str, text: str) -> Locate:
    """Service offsets → note offsets, undoing what decoding did to the stored object: a leading BOM dropped,
    CRLF and CR turned into LF. (Other differences are caught by checking each mention against the text.)"""
    n = len(service_text)
    if service_text == text:
        return lambda b, e: (min(max(b, 0), n), min(max(e, 0), n))
    pos = [0] * (n + 1)
    i = 1 if service_text.startswith("\ufeff") else 0
    j = 0
    while i < n:
        pos[i] = j
        if service_text[i] == "\r" and i + 1 < n and service_text[i + 1] == "\n":
            pos[i + 1] = j
            i += 1
        i += 1
        j += 1
    pos[n] = j

    def locate(b: int, e: int) -> tuple[int, int]:
        b, e = min(max(b, 0), n), min(max(e, 0), n)
        return pos[b], (pos[e - 1] + 1 if e > b else pos[b])

    return locate


def _dump(entities: list[Entity]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in entities]


def _why(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, KeyError):
        return f"the field {exc.args[0]!r} is missing"
    return f"unexpected content ({type(exc).__name__})"
