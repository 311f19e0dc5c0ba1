"""Amazon Transcribe: upload the recording to S3, start a job (ko-KR with speaker labels; Transcribe Medical
for en-US), poll with backoff, read the transcript JSON back from S3 and map it to timed segments with
speakers. Temporary objects are removed when ``NOTELENS_TRANSCRIBE_CLEANUP`` is on.

Credentials, region and endpoints come from boto3's standard chain only (environment, profiles,
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL_TRANSCRIBE``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlparse

from services.errors import CloudError, ErrorCode, NoteLensError
from services.transcription import ProgressFn, Segment, Transcript
from services.transcription.audio import CheckedAudio
from services.transcription.terms import clinical_terms

log = logging.getLogger(__name__)

_SENTENCE_END = (".", "?", "!")


class AmazonTranscriber:
    name = "transcribe"

    def __init__(self, bucket: str, prefix: str = "notelens/transcribe/", language: str = "ko-KR",
                 vocabulary: str = "", max_speakers: int = 2, cleanup: bool = False, timeout_s: float = 1800.0,
                 specialty: str = "PRIMARYCARE", clients: Callable[[str], Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.language = language
        self.vocabulary = vocabulary
        self.max_speakers = max(2, max_speakers)
        self.cleanup = cleanup
        self.timeout_s = timeout_s
        self.specialty = specialty
        self._clients = clients
        self._sleep = sleep
        self._made: dict[str, Any] = {}

    @property
    def medical(self) -> bool:
        # Transcribe Medical only knows US English; Korean goes through standard Transcribe.
        return self.language == "en-US"

    def describe(self) -> str:
        kind = "transcribe-medical" if self.medical else "transcribe"
        return f"{kind} ({self.language}, s3://{self.bucket}/{self.prefix})"

    def _client(self, service: str) -> Any:
        if service not in self._made:
            if self._clients is not None:
                self._made[service] = self._clients(service)
            else:
                import boto3

                self._made[service] = boto3.client(service)
        return self._made[service]

    # -- the job --------------------------------------------------------------------------------

    def transcribe(self, audio: CheckedAudio, progress: ProgressFn | None = None) -> Transcript:
        if not self.bucket:
            raise NoteLensError(ErrorCode.TRANSCRIBER_NOT_CONFIGURED,
                                "Amazon Transcribe needs an S3 bucket: set NOTELENS_TRANSCRIBE_BUCKET.")
        sha = hashlib.sha256(audio.data).hexdigest()
        job = f"notelens-{sha[:16]}-{int(time.time() * 1000)}"
        media_key = f"{self.prefix}audio/{sha}{audio.suffix}"
        out_key = f"{self.prefix}transcripts/{job}.json"
        s3 = self._client("s3")
        created: list[str] = []
        try:
            self._call(s3.put_object, Bucket=self.bucket, Key=media_key, Body=audio.data, ContentType=audio.mime)
            created.append(media_key)
            if progress is not None:
                progress(0.1)
            self._start(job, f"s3://{self.bucket}/{media_key}", audio.media_format, out_key)
            result = self._wait(job, audio.duration, progress)
            bucket, key = self._output_location(result, out_key)
            if bucket == self.bucket:
                created.append(key)
            body = self._call(s3.get_object, Bucket=bucket, Key=key)["Body"].read()
        finally:
            if self.cleanup:
                self._clean(created, job)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise NoteLensError(ErrorCode.TRANSCRIPTION_FAILED, "Amazon Transcribe's result is not valid JSON.") from exc
        segments = segments_from_result(payload)
        if progress is not None:
            progress(1.0)
        if not segments:
            raise NoteLensError(ErrorCode.NO_SPEECH, "Amazon Transcribe found no speech in the recording.")
        return Transcript(segments=segments, engine="transcribe-medical" if self.medical else self.name,
                          model=self.specialty if self.medical else None, language=self.language,
                          duration=audio.duration, extra={"job": job})

    def _start(self, job: str, uri: str, media_format: str, out_key: str) -> None:
        tr = self._client("transcribe")
        settings: dict[str, Any] = {"ShowSpeakerLabels": True, "MaxSpeakerLabels": self.max_speakers}
        if self.medical:
            self._call(tr.start_medical_transcription_job, MedicalTranscriptionJobName=job, LanguageCode=self.language,
                       MediaFormat=media_format, Media={"MediaFileUri": uri}, OutputBucketName=self.bucket,
                       OutputKey=out_key, Specialty=self.specialty, Type="CONVERSATION", Settings=settings)
            return
        if self.vocabulary:
            self.ensure_vocabulary()
            settings["VocabularyName"] = self.vocabulary
        self._call(tr.start_transcription_job, TranscriptionJobName=job, LanguageCode=self.language,
                   MediaFormat=media_format, Media={"MediaFileUri": uri}, OutputBucketName=self.bucket,
                   OutputKey=out_key, Settings=settings)

    def _wait(self, job: str, audio_seconds: float, progress: ProgressFn | None) -> dict[str, Any]:
        tr = self._client("transcribe")
        delay, waited = 1.0, 0.0
        while True:
            if self.medical:
                got = self._call(tr.get_medical_transcription_job, MedicalTranscriptionJobName=job)["MedicalTranscriptionJob"]
            else:
                got = self._call(tr.get_transcription_job, TranscriptionJobName=job)["TranscriptionJob"]
            status = got.get("TranscriptionJobStatus")
            if status == "COMPLETED":
                return dict(got)
            if status == "FAILED":
                raise NoteLensError(ErrorCode.TRANSCRIPTION_FAILED,
                                    f"Amazon Transcribe job {job} failed: {got.get('FailureReason', 'no reason given')}")
            if waited >= self.timeout_s:
                raise NoteLensError(ErrorCode.TRANSCRIPTION_FAILED,
                                    f"Amazon Transcribe job {job} did not finish in {self.timeout_s:.0f} s "
                                    "(NOTELENS_TRANSCRIBE_TIMEOUT_S); retry the note later.")
            if progress is not None:  # the service says nothing of its progress: an estimate from the audio length
                progress(min(0.9, 0.1 + 0.8 * waited / max(audio_seconds, 30.0)))
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 30.0)  # backoff: 1, 2, 4 … 30 s between polls

    def _output_location(self, job: dict[str, Any], out_key: str) -> tuple[str, str]:
        uri = str(job.get("Transcript", {}).get("TranscriptFileUri") or "")
        parsed = urlparse(uri)
        path = unquote(parsed.path.lstrip("/"))
        if parsed.scheme == "s3":
            return parsed.netloc, path
        if parsed.netloc.startswith("s3.") or parsed.netloc.startswith("s3-"):  # path style: /bucket/key
            bucket, _, key = path.partition("/")
            if bucket and key:
                return bucket, key
        elif ".s3." in parsed.netloc and path:  # virtual-hosted style: bucket.s3.region.amazonaws.com/key
            return parsed.netloc.split(".s3.")[0], path
        return self.bucket, out_key

    def _clean(self, keys: list[str], job: str) -> None:
        s3 = self._client("s3")
        for key in keys:
            try:
                s3.delete_object(Bucket=self.bucket, Key=key)
            except Exception:  # cleanup is best effort; the job's result is already read
                log.warning("could not delete s3://%s/%s", self.bucket, key)
        try:
            tr = self._client("transcribe")
            if self.medical:
                tr.delete_medical_transcription_job(MedicalTranscriptionJobName=job)
            else:
                tr.delete_transcription_job(TranscriptionJobName=job)
        except Exception:
            log.warning("could not delete the transcription job %s", job)

    # -- custom vocabulary ----------------------------------------------------------------------

    def ensure_vocabulary(self) -> str:
        """Create the custom vocabulary from our clinical terms if it does not exist yet; wait until it is
        ready. Returns its state."""
        tr = self._client("transcribe")
        try:
            state = str(tr.get_vocabulary(VocabularyName=self.vocabulary).get("VocabularyState"))
        except Exception as exc:
            if _error_code(exc) not in ("BadRequestException", "NotFoundException"):
                raise _cloud_error(exc) from exc
            phrases = [term for term, _ in clinical_terms()]
            self._call(tr.create_vocabulary, VocabularyName=self.vocabulary, LanguageCode=self.language, Phrases=phrases)
            state = "PENDING"
        delay, waited = 1.0, 0.0
        while state == "PENDING" and waited < self.timeout_s:
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 30.0)
            state = str(self._call(tr.get_vocabulary, VocabularyName=self.vocabulary).get("VocabularyState"))
        if state != "READY":
            raise NoteLensError(ErrorCode.TRANSCRIPTION_FAILED,
                                f"The custom vocabulary {self.vocabulary} is {state}, not READY.")
        return state

    @staticmethod
    def _call(fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except NoteLensError:
            raise
        except Exception as exc:
            raise _cloud_error(exc) from exc


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _cloud_error(exc: BaseException) -> CloudError:
    from services.errors import explain_engine_error

    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "NoRegionError"):
        return CloudError(ErrorCode.CLOUD_NOT_CONFIGURED, explain_engine_error(exc))
    return CloudError(ErrorCode.CLOUD_REQUEST_FAILED, f"Amazon Transcribe/S3: {explain_engine_error(exc)}")


def segments_from_result(payload: dict[str, Any]) -> list[Segment]:
    """Amazon Transcribe's transcript JSON → segments: words joined in order, a new segment at each change
    of speaker and after sentence-ending punctuation. Speakers come from each item's ``speaker_label``
    or, in older results, from ``speaker_labels.segments``."""
    results = payload.get("results", {})
    items = results.get("items", [])
    speaker_at: list[tuple[float, float, str]] = []
    for seg in (results.get("speaker_labels") or {}).get("segments", []):
        for item in seg.get("items", []):
            speaker_at.append((float(item["start_time"]), float(item["end_time"]), str(item["speaker_label"])))

    def speaker_for(start: float) -> str | None:
        for begin, end, label in speaker_at:
            if begin <= start <= end:
                return label
        return None

    segments: list[Segment] = []
    current: Segment | None = None
    for item in items:
        alternatives = item.get("alternatives") or [{}]
        word = str(alternatives[0].get("content", ""))
        if not word:
            continue
        if item.get("type") == "punctuation":
            if current is not None:
                current.text += word
                if word in _SENTENCE_END:
                    segments.append(current)
                    current = None
            continue
        start, end = float(item.get("start_time", 0.0)), float(item.get("end_time", 0.0))
        speaker = item.get("speaker_label") or speaker_for(start)
        if current is not None and speaker != current.speaker:
            segments.append(current)
            current = None
        if current is None:
            current = Segment(start, end, word, speaker)
        else:
            current.text += " " + word
            current.end = end
    if current is not None:
        segments.append(current)
    if not segments and results.get("transcripts"):
        # No items (an empty or unusual result): keep the plain transcript as one segment.
        text = " ".join(str(t.get("transcript", "")) for t in results["transcripts"]).strip()
        if text:
            segments.append(Segment(0.0, 0.0, text))
    return segments
