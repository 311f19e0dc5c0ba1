"""NoteStore on Amazon DynamoDB (backend aws): one table, the same observable behaviour as SQLiteStore.

Item layout (single-table design; every key attribute is a string)::

    item                 PK                    SK                         GSI keys (index: partition / sort)
    -------------------  --------------------  -------------------------  ------------------------------------------
    note                 NOTE#<id>             NOTE                       by-status:  st=STATUS#<status> / ord=<visit_date>#<created_at>#<id>
                                                                          by-updated: st / upd=<updated_at>#<id>
                                                                          unreviewed: unrev=UNREVIEWED / upd  (only done, never reviewed)
                                                                          by-id:      kind=NOTE / id
    extraction version   NOTE#<id>             EXT#<version:06d>
    review version       NOTE#<id>             REV#<version:06d>
    entity in force      NOTE#<id>             ENT#<gen:08d>#<n:05d>      by-term:    term=TERM#<category>#<term> / term_sk=<visit_date>#<id>
    transcript version   NOTE#<id>             TRN#<version:06d>
    speaker name         NOTE#<id>             SPK#<label>
    source (raw bytes)   SRC#<raw_sha256>      SRC
    text hash            TXT#<text_sha256>     TXT
    LLM cache entry      CACHE#<key>           CACHE
    saved search         SAVED                 <name>
    id sequence          SEQ#<kind>            SEQ                        (extraction, review, transcript: integer ids)
    counts shard         STATS#<0..15>         STATS                      (notes per status, entities, reviews, extractions)

Why this shape:
- A note's versions, entity rows, transcripts and speakers share its partition: one Query reads them, in version order.
- Source and text-hash items exist so a duplicate upload is refused by a transactional condition on them (NoteExists),
  the way SQLite's primary and unique keys refuse it.
- Every change to a note item is conditional on its ``ver`` (read, then write only if nobody wrote in between):
  claim leases, the review version check (ReviewConflict) and extraction versions are all that one rule.
- Counts live in 16 counter shards updated in the same transaction as the change, so Home reads 16 items instead of
  counting an index, and concurrent workers rarely touch the same counter item.
- Entity rows are rewritten under a new generation ``gen`` after the note's transaction; rows of other generations
  are deleted after. They are derived data (the versions are the record), for the by-term index.
- Note text, entity lists and transcripts are stored zlib-compressed (``*_z``); above ``inline_limit`` bytes they go
  to the blob store, content-addressed, and the item keeps the SHA-256 (``*_ref``): items stay under 400 KB while
  notes may be 2 MB.

Calls: DescribeTable, CreateTable (first use only), GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan (cache
export only), BatchGetItem, BatchWriteItem, TransactWriteItems. Credentials and region come from boto3's standard
chain (``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL_DYNAMODB``); the client is made on first use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from services import aws
from services.domain import Entity, Extraction, ExtractionResult, Note, NoteFields, NoteStatus, Review, utcnow
from services.errors import CloudError, ErrorCode
from services.store import BlobStore, NoteExists, ReviewConflict
from services.store.bundle import CacheEntry, NoteBundle, SourceRecord, entity_term

log = logging.getLogger(__name__)

Item = dict[str, Any]  # a decoded item: attribute name → Python value
Raw = dict[str, Any]  # an item in DynamoDB's wire format

STAT_SHARDS = 16
_HEADER = ["id", "filename", "status", "encoding", "size", "raw_sha256", "error_code", "error_message", "source",
           "created_at", "updated_at", "attempts", "visit_date", "age", "sex", "department", "summary"]
_KEYS = ("PK", "SK")
_INDEXES: list[tuple[str, str, str, list[str] | None]] = [
    # name, partition key, sort key, projected attributes (None: keys only)
    ("by-status", "st", "ord", _HEADER),
    ("by-updated", "st", "upd", _HEADER),
    ("unreviewed", "unrev", "upd", None),
    ("by-id", "kind", "id", None),
    ("by-term", "term", "term_sk", ["note_id", "category", "entity"]),
]


# -- wire format ---------------------------------------------------------------------------------

def _av(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, set | frozenset):
        return {"SS": sorted(value)}
    if isinstance(value, dict):
        return {"M": {k: _av(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [_av(v) for v in value]}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def _py(av: dict[str, Any]) -> Any:
    ((kind, value),) = av.items()
    if kind == "N":
        return float(value) if any(c in value for c in ".eE") else int(value)
    if kind == "SS":
        return set(value)
    if kind == "M":
        return {k: _py(v) for k, v in value.items()}
    if kind == "L":
        return [_py(v) for v in value]
    if kind == "NULL":
        return None
    return value  # S, B, BOOL


def _encode(item: Item) -> Raw:
    """None values are left out: an absent attribute is DynamoDB's NULL (and keeps sparse indexes sparse)."""
    return {k: _av(v) for k, v in item.items() if v is not None}


def _decode(raw: Raw) -> Item:
    return {k: _py(v) for k, v in raw.items()}


class _Expr:
    """Placeholders for an expression, so reserved words (status, size, source…) are never a problem."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def n(self, name: str) -> str:
        for key, known in self.names.items():
            if known == name:
                return key
        key = f"#n{len(self.names)}"
        self.names[key] = name
        return key

    def v(self, value: Any) -> str:
        key = f":v{len(self.values)}"
        self.values[key] = _av(value)
        return key

    def args(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = self.names
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


class _Cancelled(Exception):
    """A transaction's condition did not hold (someone wrote in between, or the item exists)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


def _note_key(note_id: str) -> Item:
    return {"PK": f"NOTE#{note_id}", "SK": "NOTE"}


def _shard(note_id: str) -> int:
    return int(hashlib.sha256(note_id.encode("utf-8")).hexdigest()[:8], 16) % STAT_SHARDS


def _derive(note: Item) -> Item:
    """The note item's index attributes, from its fields: written with every change so the indexes follow."""
    note = dict(note)
    note["st"] = f"STATUS#{note['status']}"
    note["ord"] = f"{note.get('visit_date') or ''}#{note['created_at']}#{note['id']}"
    note["upd"] = f"{note['updated_at']}#{note['id']}"
    note["kind"] = "NOTE"
    # Sparse: only processed notes nobody reviewed are in the unreviewed index (Home's "needs review").
    note["unrev"] = "UNREVIEWED" if note["status"] == NoteStatus.DONE.value and not note.get("rv") else None
    return note


def _ord_key(item: Item) -> tuple[str, str]:
    """SQLite's ORDER BY COALESCE(visit_date, '') DESC, created_at DESC (id ascending breaks ties)."""
    visit, created, _ = str(item["ord"]).split("#", 2)
    return visit, created


def _upd_key(item: Item) -> tuple[str, str]:
    return (str(item["upd"]).split("#", 1)[0], "")


class DynamoDBStore:
    """NoteStore on one DynamoDB table (layout above). ``page_size`` caps the items of each Query/Scan page (tests
    use it to exercise LastEvaluatedKey); ``inline_limit`` is the compressed size above which a text goes to the
    blob store."""

    def __init__(self, table_name: str, blobs: BlobStore | None = None, create: bool = True, *,
                 page_size: int | None = None, inline_limit: int = 100_000, client: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not table_name:
            raise ValueError("DynamoDBStore needs a table name (NOTELENS_DYNAMODB_TABLE).")
        self.table = table_name
        self.blobs = blobs
        self.create = create
        self.page_size = page_size
        self.inline_limit = inline_limit
        self._client = client
        self._sleep = sleep
        self._ready = False
        self._lock = threading.Lock()

    # -- client and table ----------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The low-level client, made on first use; the table is made on first use too when allowed."""
        if not self._ready:
            with self._lock:
                if self._client is None:
                    self._client = aws.client("dynamodb")
                if not self._ready:
                    self._ensure_table(self._client)
                    self._ready = True
        return self._client

    def _ensure_table(self, client: Any) -> None:
        try:
            client.describe_table(TableName=self.table)
            return
        except Exception as exc:
            code = aws.error_code(exc)
            if code in ("AccessDeniedException", "UnrecognizedClientException"):
                raise CloudError(ErrorCode.CLOUD_NOT_CONFIGURED, (
                    f"DynamoDB table {self.table}: the credentials may not describe it ({code}); "
                    "allow dynamodb:DescribeTable on it (docs/deploy.md lists the policy).")) from exc
            if code != "ResourceNotFoundException":
                raise
        if not self.create:
            raise CloudError(ErrorCode.CLOUD_NOT_CONFIGURED, (
                f"DynamoDB table {self.table} does not exist; create it (docs/deploy.md) or let NoteLens create it."))
        log.info("creating DynamoDB table %s (on-demand)", self.table)
        try:
            client.create_table(**self.table_definition())
        except Exception as exc:
            code = aws.error_code(exc)
            if code == "ResourceInUseException":  # another process is creating it right now
                pass
            elif code in ("AccessDeniedException", "UnrecognizedClientException"):
                raise CloudError(ErrorCode.CLOUD_NOT_CONFIGURED, (
                    f"DynamoDB table {self.table} does not exist and the credentials may not create it ({code}): "
                    "allow dynamodb:CreateTable, or create the table as docs/deploy.md describes.")) from exc
            else:
                raise
        client.get_waiter("table_exists").wait(TableName=self.table, WaiterConfig={"Delay": 2, "MaxAttempts": 150})

    def table_definition(self) -> dict[str, Any]:
        """The CreateTable request (also what docs/deploy.md's template mirrors)."""
        names = sorted({"PK", "SK"} | {i[1] for i in _INDEXES} | {i[2] for i in _INDEXES})
        indexes = []
        for name, pk, sk, projected in _INDEXES:
            projection: dict[str, Any] = {"ProjectionType": "KEYS_ONLY"}
            if projected:
                projection = {"ProjectionType": "INCLUDE", "NonKeyAttributes": [a for a in projected if a not in (pk, sk)]}
            indexes.append({"IndexName": name, "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"},
                                                             {"AttributeName": sk, "KeyType": "RANGE"}],
                            "Projection": projection})
        return {
            "TableName": self.table, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in names],
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            "GlobalSecondaryIndexes": indexes,
        }

    def describe(self) -> str:
        return f"dynamodb ({self.table})"

    def check(self) -> tuple[str, str]:
        """(status, detail) for Home: ok, missing (no such table) or unreachable. Never creates the table."""
        client = aws.client("dynamodb", quick=True)  # Home waits for this: one try, short timeouts
        try:
            table = client.describe_table(TableName=self.table)["Table"]
        except Exception as exc:
            code = aws.error_code(exc)
            if code == "ResourceNotFoundException":
                return "missing", f"table {self.table} does not exist (created on first use when allowed)"
            if code == "AccessDeniedException":
                return "unreachable", f"access to table {self.table} denied (dynamodb:DescribeTable)"
            return "unreachable", f"{type(exc).__name__}: {str(exc)[:200]}"
        return "ok", f"table {self.table}: {table.get('TableStatus', '?')}"

    # -- low-level calls -------------------------------------------------------------------------

    def _get(self, key: Item, projection: list[str] | None = None) -> Item | None:
        args: dict[str, Any] = {"TableName": self.table, "Key": _encode(key), "ConsistentRead": True}
        if projection:
            expr = _Expr()
            args["ProjectionExpression"] = ", ".join(expr.n(a) for a in projection)
            args.update(expr.args())
        raw = self.client.get_item(**args).get("Item")
        return _decode(raw) if raw else None

    def _pages(self, op: str, **args: Any) -> Iterator[dict[str, Any]]:
        """Every page of a Query or Scan, following LastEvaluatedKey."""
        args["TableName"] = self.table
        if self.page_size:
            args["Limit"] = self.page_size
        call = getattr(self.client, op)
        while True:
            page: dict[str, Any] = call(**args)
            yield page
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            args["ExclusiveStartKey"] = last

    def _query(self, key_condition: str, expr: _Expr, index: str | None = None, forward: bool = True,
               **extra: Any) -> Iterator[Item]:
        args: dict[str, Any] = {"KeyConditionExpression": key_condition, "ScanIndexForward": forward, **expr.args(),
                                **extra}
        if index:
            args["IndexName"] = index
        else:
            args["ConsistentRead"] = True  # a note's own versions: read what was just written
        for page in self._pages("query", **args):
            for raw in page.get("Items", []):
                yield _decode(raw)

    def partition(self, pk: str, prefix: str, forward: bool = True) -> Iterator[Item]:
        expr = _Expr()
        cond = f"{expr.n('PK')} = {expr.v(pk)}"
        if prefix:  # a key condition may not compare with an empty string
            cond += f" AND begins_with({expr.n('SK')}, {expr.v(prefix)})"
        return self._query(cond, expr, forward=forward)

    def _count(self, index: str, pk_attr: str, pk: str) -> int:
        expr = _Expr()
        total = 0
        for page in self._pages("query", IndexName=index, Select="COUNT",
                                KeyConditionExpression=f"{expr.n(pk_attr)} = {expr.v(pk)}", **expr.args()):
            total += int(page.get("Count", 0))
        return total

    def _backoff(self, attempt: int) -> None:
        self._sleep(min(5.0, 0.05 * 2 ** attempt) * (0.5 + random.random() / 2))

    def _batch_get(self, keys: list[Item], projection: list[str] | None = None) -> list[Item]:
        """Items by key (100 per call), UnprocessedKeys retried with backoff; order is not the keys' order."""
        out: list[Item] = []
        unique = list({(k["PK"], k["SK"]): k for k in keys}.values())
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {"Keys": [_encode(k) for k in unique[start:start + 100]], "ConsistentRead": True}
            if projection:
                expr = _Expr()
                request["ProjectionExpression"] = ", ".join(expr.n(a) for a in projection)
                request["ExpressionAttributeNames"] = expr.names
            pending: dict[str, Any] = {self.table: request}
            for attempt in range(12):
                response = self.client.batch_get_item(RequestItems=pending)
                out.extend(_decode(r) for r in response.get("Responses", {}).get(self.table, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                self._backoff(attempt)
            else:
                raise CloudError(ErrorCode.CLOUD_REQUEST_FAILED, f"DynamoDB {self.table}: BatchGetItem kept throttling")
        return out

    def batch_write(self, puts: Iterable[Item] = (), deletes: Iterable[Item] = ()) -> None:
        """PutItem/DeleteItem requests 25 at a time; UnprocessedItems (throttling) are sent again with backoff."""
        requests = [{"PutRequest": {"Item": _encode(i)}} for i in puts]
        requests += [{"DeleteRequest": {"Key": _encode({"PK": k["PK"], "SK": k["SK"]})}} for k in deletes]
        for start in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.table: requests[start:start + 25]}
            for attempt in range(12):
                response = self.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                self._backoff(attempt)
            else:
                raise CloudError(ErrorCode.CLOUD_REQUEST_FAILED, f"DynamoDB {self.table}: BatchWriteItem kept "
                                 "leaving items unprocessed")

    def _transact(self, items: list[dict[str, Any] | None]) -> None:
        """TransactWriteItems; a conflict with another transaction in flight is retried, a failed condition raises
        _Cancelled."""
        actions = [i for i in items if i]
        for attempt in range(10):
            try:
                self.client.transact_write_items(TransactItems=actions)
                return
            except Exception as exc:
                if aws.error_code(exc) != "TransactionCanceledException":
                    raise
                response = getattr(exc, "response", {})
                reasons = [str(r.get("Code", "None")) for r in response.get("CancellationReasons", [])]
                if not reasons:  # some endpoints only say it in the message
                    message = str(exc)
                    reasons = ["ConditionalCheckFailed"] if "ConditionalCheckFailed" in message else ["TransactionConflict"]
                if "ConditionalCheckFailed" in reasons:
                    raise _Cancelled(reasons) from exc
                self._backoff(attempt)  # TransactionConflict, throttling: the same request again
        raise CloudError(ErrorCode.CLOUD_REQUEST_FAILED, f"DynamoDB {self.table}: a transaction kept conflicting")

    def put_new(self, item: Item) -> bool:
        """PutItem unless an item with this key exists; False when one does."""
        try:
            self.client.put_item(TableName=self.table, Item=_encode(item), ConditionExpression="attribute_not_exists(PK)")
        except Exception as exc:
            if aws.error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _put_tx(self, item: Item, condition: str | None = None, expr: _Expr | None = None) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": _encode(item)}
        if condition:
            put["ConditionExpression"] = condition
            if expr:
                put.update(expr.args())
        return {"Put": put}

    def _new_tx(self, item: Item) -> dict[str, Any]:
        """Put only if no item has this key."""
        return self._put_tx(item, "attribute_not_exists(PK)")

    def _stats_tx(self, note_id: str, delta: dict[str, int]) -> dict[str, Any] | None:
        delta = {k: v for k, v in delta.items() if v}
        if not delta:
            return None
        expr = _Expr()
        adds = ", ".join(f"{expr.n(k)} {expr.v(v)}" for k, v in sorted(delta.items()))
        return {"Update": {"TableName": self.table, "Key": _encode({"PK": f"STATS#{_shard(note_id)}", "SK": "STATS"}),
                           "UpdateExpression": f"ADD {adds}", **expr.args()}}

    def _note_tx(self, old: Item | None, new: Item) -> dict[str, Any]:
        """The note item's change as a transaction action, conditional on nobody having changed it since ``old``
        was read (its ``ver``); a new note is conditional on there being none."""
        new = _derive(new)
        new["ver"] = (old or {}).get("ver", 0) + 1
        if old is None:
            return self._new_tx(new)
        expr = _Expr()
        sets = [f"{expr.n(k)} = {expr.v(v)}" for k, v in new.items()
                if k not in _KEYS and v is not None and old.get(k) != v]
        removes = [expr.n(k) for k in old if k not in _KEYS and new.get(k) is None]
        update = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
        condition = f"{expr.n('ver')} = {expr.v(old.get('ver', 0))}"
        return {"Update": {"TableName": self.table, "Key": _encode(_note_key(str(new["id"]))),
                           "UpdateExpression": update.strip(), "ConditionExpression": condition, **expr.args()}}

    def next_id(self, kind: str) -> int:
        """The next integer id of an extraction, review or transcript: an atomic counter item."""
        expr = _Expr()
        response = self.client.update_item(
            TableName=self.table, Key=_encode({"PK": f"SEQ#{kind}", "SK": "SEQ"}),
            UpdateExpression=f"ADD {expr.n('n')} {expr.v(1)}", ReturnValues="UPDATED_NEW", **expr.args())
        return int(_py(response["Attributes"]["n"]))

    def raise_seq(self, kind: str, at_least: int) -> None:
        """Imported ids are kept: the counter moves past them so new ids never collide."""
        if at_least <= 0:
            return
        expr = _Expr()
        try:
            self.client.update_item(
                TableName=self.table, Key=_encode({"PK": f"SEQ#{kind}", "SK": "SEQ"}),
                UpdateExpression=f"SET {expr.n('n')} = {expr.v(at_least)}",
                ConditionExpression=f"attribute_not_exists({expr.n('n')}) OR {expr.n('n')} < {expr.v(at_least)}",
                **expr.args())
        except Exception as exc:
            if aws.error_code(exc) != "ConditionalCheckFailedException":
                raise

    # -- large values ----------------------------------------------------------------------------

    def pack(self, name: str, value: str | None) -> Item:
        """``value`` compressed into ``<name>_z``, or into the blob store with ``<name>_ref`` when too large."""
        if value is None:
            return {f"{name}_z": None, f"{name}_ref": None}
        data = zlib.compress(value.encode("utf-8"), 6)
        if len(data) <= self.inline_limit:
            return {f"{name}_z": data, f"{name}_ref": None}
        if self.blobs is None:
            raise ValueError(f"{name} is {len(data)} bytes compressed, over DynamoDB's item limit: "
                             "DynamoDBStore needs a blob store (S3) for it")
        return {f"{name}_z": None, f"{name}_ref": self.blobs.put(data)}

    def unpack(self, item: Item, name: str) -> str | None:
        data = item.get(f"{name}_z")
        ref = item.get(f"{name}_ref")
        if ref:
            if self.blobs is None:
                raise ValueError(f"{name} of {item.get('PK')} is in the blob store, but no blob store is configured")
            data = self.blobs.get(str(ref))
            if data is None:
                raise ValueError(f"blob {ref} ({name} of {item.get('PK')}) is missing")
        return zlib.decompress(data).decode("utf-8") if data is not None else None

    # -- notes -------------------------------------------------------------------------------------

    def _note(self, item: Item, with_text: bool = True) -> Note:
        return Note(
            id=item["id"], filename=item["filename"], status=NoteStatus(item["status"]),
            text=self.unpack(item, "text") if with_text else None, encoding=item.get("encoding"),
            size=item.get("size", 0), raw_sha256=item["raw_sha256"], error_code=item.get("error_code"),
            error_message=item.get("error_message"), source=item.get("source", "upload"),
            created_at=item["created_at"], updated_at=item["updated_at"], attempts=item.get("attempts", 0),
            fields=NoteFields(visit_date=item.get("visit_date"), age=item.get("age"), sex=item.get("sex"),
                              department=item.get("department"), summary=item.get("summary")),
        )

    def _note_item(self, note_id: str) -> Item | None:
        return self._get(_note_key(note_id))

    def note_for_source(self, raw_sha256: str) -> Note | None:
        src = self._get({"PK": f"SRC#{raw_sha256}", "SK": "SRC"}, ["note_id"])
        return self.get_note(src["note_id"]) if src else None

    def note_for_text(self, text_sha256: str) -> Note | None:
        found = self._get({"PK": f"TXT#{text_sha256}", "SK": "TXT"}, ["note_id"])
        return self.get_note(found["note_id"]) if found else None

    def get_note(self, note_id: str) -> Note | None:
        item = self._note_item(note_id)
        return self._note(item) if item else None

    def create_note(
        self, *, note_id: str, filename: str, raw_sha256: str, size: int, source: str, stored: bool,
        text: str | None = None, encoding: str | None = None, text_sha256: str | None = None,
        error: tuple[str, str] | None = None,
    ) -> Note:
        now = utcnow()
        # A note that failed on arrival is written as failed: no other process may see it as "stored" without text.
        status, code, message = (NoteStatus.FAILED.value, *error) if error else (NoteStatus.STORED.value, None, None)
        note: Item = {**_note_key(note_id), "id": note_id, "filename": filename, "status": status, "encoding": encoding,
                      "size": size, "raw_sha256": raw_sha256, "error_code": code, "error_message": message,
                      "source": source, "created_at": now, "updated_at": now, "attempts": 0,
                      "text_sha256": text_sha256, "srcs": {raw_sha256}, "rv": 0, "ev": 0, "ent_n": 0, "gen": 0,
                      **self.pack("text", text)}
        actions = [self._note_tx(None, note),
                   self._new_tx(self._source_item(raw_sha256, note_id, filename, size, stored, now)),
                   self._new_tx({"PK": f"TXT#{text_sha256}", "SK": "TXT", "note_id": note_id}) if text_sha256 else None,
                   self._stats_tx(note_id, {status: 1})]
        try:
            self._transact(actions)
        except _Cancelled as exc:
            raise NoteExists(note_id) from exc
        created = self.get_note(note_id)
        assert created is not None
        return created

    @staticmethod
    def _source_item(raw_sha256: str, note_id: str, filename: str, size: int, stored: bool, received_at: str) -> Item:
        return {"PK": f"SRC#{raw_sha256}", "SK": "SRC", "raw_sha256": raw_sha256, "note_id": note_id,
                "filename": filename, "size": size, "stored": stored, "received_at": received_at}

    def link_source(self, raw_sha256: str, note_id: str, filename: str, size: int, stored: bool) -> None:
        # As SQLite's ON CONFLICT: a known source keeps its note, name and size; "stored" only ever turns true.
        expr = _Expr()
        sets = [f"{expr.n(k)} = if_not_exists({expr.n(k)}, {expr.v(v)})"
                for k, v in (("raw_sha256", raw_sha256), ("note_id", note_id), ("filename", filename), ("size", size),
                             ("received_at", utcnow()))]
        sets.append(f"{expr.n('stored')} = {expr.v(True)}" if stored
                    else f"{expr.n('stored')} = if_not_exists({expr.n('stored')}, {expr.v(False)})")
        response = self.client.update_item(
            TableName=self.table, Key=_encode({"PK": f"SRC#{raw_sha256}", "SK": "SRC"}),
            UpdateExpression="SET " + ", ".join(sets), ReturnValues="ALL_NEW", **expr.args())
        owner = str(_py(response["Attributes"]["note_id"]))
        # The note keeps the set of its sources (for export); an ADD to a set is idempotent.
        add = _Expr()
        try:
            self.client.update_item(
                TableName=self.table, Key=_encode(_note_key(owner)),
                UpdateExpression=f"ADD {add.n('srcs')} {add.v({raw_sha256})}",
                ConditionExpression=f"attribute_exists({add.n('PK')})", **add.args())
        except Exception as exc:
            if aws.error_code(exc) != "ConditionalCheckFailedException":
                raise

    def _change(self, note_id: str, change: Callable[[Item], tuple[Item, list[dict[str, Any] | None]] | None]) -> bool:
        """Read the note, let ``change`` make the new item (and more actions), write it if nobody wrote in
        between; otherwise read again. False when the note does not exist or ``change`` returns None."""
        for attempt in range(50):
            old = self._note_item(note_id)
            if old is None:
                return False
            made = change(old)
            if made is None:
                return False
            new, extra = made
            try:
                self._transact([self._note_tx(old, new), *extra])
                return True
            except _Cancelled:
                self._backoff(min(attempt, 6))
        raise CloudError(ErrorCode.CLOUD_REQUEST_FAILED, f"note {note_id} kept changing under this write")

    def set_text(self, note_id: str, text: str, encoding: str, text_sha256: str) -> None:
        def change(old: Item) -> tuple[Item, list[dict[str, Any] | None]]:
            new = {**old, "encoding": encoding, "text_sha256": text_sha256, "updated_at": utcnow(),
                   **self.pack("text", text)}
            extra: list[dict[str, Any] | None] = []
            if old.get("text_sha256") != text_sha256:
                # The text hash is unique across notes, as SQLite's UNIQUE column.
                expr = _Expr()
                extra.append(self._put_tx({"PK": f"TXT#{text_sha256}", "SK": "TXT", "note_id": note_id},
                                          f"attribute_not_exists(PK) OR {expr.n('note_id')} = {expr.v(note_id)}", expr))
                if old.get("text_sha256"):
                    extra.append({"Delete": {"TableName": self.table,
                                             "Key": _encode({"PK": f"TXT#{old['text_sha256']}", "SK": "TXT"})}})
            return new, extra

        self._change(note_id, change)

    def set_status(
        self, note_id: str, status: NoteStatus, error_code: str | None = None, error_message: str | None = None
    ) -> None:
        def change(old: Item) -> tuple[Item, list[dict[str, Any] | None]]:
            new = {**old, "status": status.value, "error_code": error_code, "error_message": error_message,
                   "updated_at": utcnow(), "attempts": old.get("attempts", 0) + (status == NoteStatus.PROCESSING)}
            return new, [self._stats_tx(note_id, self._status_delta(old["status"], status.value))]

        self._change(note_id, change)

    @staticmethod
    def _status_delta(old: str, new: str) -> dict[str, int]:
        return {} if old == new else {old: -1, new: 1}

    def claim(self, note_id: str, lease_seconds: float) -> bool:
        now = datetime.now(UTC)
        stale = (now - timedelta(seconds=lease_seconds)).isoformat(timespec="seconds")

        def change(old: Item) -> tuple[Item, list[dict[str, Any] | None]] | None:
            free = old["status"] in (NoteStatus.STORED.value, NoteStatus.FAILED.value)
            expired = old["status"] == NoteStatus.PROCESSING.value and old["updated_at"] < stale
            if not (free or expired):
                return None
            new = {**old, "status": NoteStatus.PROCESSING.value, "attempts": old.get("attempts", 0) + 1,
                   "updated_at": now.isoformat(timespec="seconds")}
            return new, [self._stats_tx(note_id, self._status_delta(old["status"], NoteStatus.PROCESSING.value))]

        # The write is conditional on the item read: of two workers claiming at once, one write fails, re-reads
        # the note as processing under a live lease, and gets False.
        return self._change(note_id, change)

    # -- listings ----------------------------------------------------------------------------------

    def _top(self, index: str, pk_attr: str, pk: str, limit: int, tie: Callable[[Item], tuple[str, str]]) -> list[Item]:
        """The first ``limit`` items of an index partition in descending order, plus any that tie with the last one
        (the caller orders ties by id, as SQLite does)."""
        out: list[Item] = []
        expr = _Expr()
        for item in self._query(f"{expr.n(pk_attr)} = {expr.v(pk)}", expr, index=index, forward=False):
            if len(out) >= limit and tie(item) != tie(out[limit - 1]):
                break
            out.append(item)
        return out

    def _ordered(self, items: list[Item], tie: Callable[[Item], tuple[str, str]], limit: int) -> list[Item]:
        items = sorted(items, key=lambda i: str(i["id"]))
        items.sort(key=tie, reverse=True)  # stable: id ascending within a tie
        return items[:limit]

    def _full(self, items: list[Item], with_text: bool) -> list[Note]:
        """Notes for index items, in their order; keys-only items and texts are read from the table."""
        projection = None if with_text else [*_HEADER, "PK", "SK"]
        found = {i["id"]: i for i in self._batch_get([_note_key(str(i["id"])) for i in items], projection)}
        return [self._note(found[i["id"]], with_text) for i in items if i["id"] in found]

    def list_notes(self, status: NoteStatus | None = None, limit: int = 1000, with_text: bool = True) -> list[Note]:
        if limit <= 0:
            return []
        statuses = [status] if status is not None else list(NoteStatus)
        items = [i for s in statuses for i in self._top("by-status", "st", f"STATUS#{s.value}", limit, _ord_key)]
        items = self._ordered(items, _ord_key, limit)
        if with_text:
            return self._full(items, True)
        return [self._note(i, False) for i in items]

    def recent(self, limit: int = 10) -> list[Note]:
        if limit <= 0:
            return []
        items = [i for s in NoteStatus for i in self._top("by-updated", "st", f"STATUS#{s.value}", limit, _upd_key)]
        return [self._note(i, False) for i in self._ordered(items, _upd_key, limit)]

    def unreviewed(self, limit: int = 10) -> tuple[int, list[Note]]:
        total = self._count("unreviewed", "unrev", "UNREVIEWED")
        if limit <= 0:
            return total, []
        items = self._top("unreviewed", "unrev", "UNREVIEWED", limit, _upd_key)
        for item in items:
            item["id"] = str(item["PK"]).removeprefix("NOTE#")
        return total, self._full(self._ordered(items, _upd_key, limit), False)

    def scan_notes(self, after: str = "", limit: int = 500, with_text: bool = True) -> list[Note]:
        expr = _Expr()
        items: list[Item] = []
        cond = f"{expr.n('kind')} = {expr.v('NOTE')}"
        if after:  # an empty string may not be compared with a key attribute
            cond += f" AND {expr.n('id')} > {expr.v(after)}"
        for item in self._query(cond, expr, index="by-id"):
            items.append(item)
            if len(items) >= limit:
                break
        return self._full(items, with_text)

    def notes_with_term(self, category: str, term: str, limit: int = 100) -> list[str]:
        """Ids of notes whose entities in force mention ``term`` (see entity_term) in ``category``, latest visit date
        first: the by-term index."""
        expr = _Expr()
        ids: list[str] = []
        for item in self._query(f"{expr.n('term')} = {expr.v(f'TERM#{category}#{term}')}", expr, index="by-term",
                                forward=False):
            if item["note_id"] not in ids:
                ids.append(item["note_id"])
                if len(ids) >= limit:
                    break
        return ids

    def counts(self) -> dict[str, int]:
        shards = self._batch_get([{"PK": f"STATS#{n}", "SK": "STATS"} for n in range(STAT_SHARDS)])
        out = {s.value: 0 for s in NoteStatus}
        for name in ("entities", "reviews", "extractions"):
            out[name] = 0
        for shard in shards:
            for name in out:
                out[name] += int(shard.get(name, 0))
        out["notes"] = sum(out[s.value] for s in NoteStatus)
        return out

    # -- LLM cache -----------------------------------------------------------------------------------

    def cache_get(self, key: str) -> tuple[str, str] | None:
        item = self._get({"PK": f"CACHE#{key}", "SK": "CACHE"})
        if not item:
            return None
        return self.unpack(item, "result") or "", str(item.get("usage_json", "{}"))

    def cache_put(self, key: str, engine: str, model_id: str, prompt_ref: str, result_json: str, usage_json: str) -> None:
        item = {"PK": f"CACHE#{key}", "SK": "CACHE", "key": key, "engine": engine, "model_id": model_id,
                "prompt_ref": prompt_ref, "usage_json": usage_json, "created_at": utcnow(),
                **self.pack("result", result_json)}
        self.client.put_item(TableName=self.table, Item=_encode(item))

    def cache_scan(self) -> Iterator[CacheEntry]:
        """Every cache entry (migration): a Scan of the table, so slow on a big one; order is the table's."""
        expr = _Expr()
        for page in self._pages("scan", FilterExpression=f"begins_with({expr.n('PK')}, {expr.v('CACHE#')})",
                                **expr.args()):
            for raw in page.get("Items", []):
                item = _decode(raw)
                yield (item["key"], item["engine"], item["model_id"], item["prompt_ref"],
                       self.unpack(item, "result") or "", str(item.get("usage_json", "{}")))

    # -- extractions and reviews ---------------------------------------------------------------------

    @staticmethod
    def _entities_json(entities: list[Entity]) -> str:
        return json.dumps([e.model_dump(mode="json") for e in entities], ensure_ascii=False)

    def _in_force(self, new: Item, entities: list[Entity], fields: NoteFields) -> dict[str, int]:
        """Make ``entities`` and ``fields`` the note's in force (on the new item): the next entity generation, the
        fields; returns the counts change."""
        delta = {"entities": len(entities) - int(new.get("ent_n", 0))}
        new.update(visit_date=fields.visit_date, age=fields.age, sex=fields.sex, department=fields.department,
                   summary=fields.summary, ent_n=len(entities), gen=int(new.get("gen", 0)) + 1)
        return delta

    def _write_entity_rows(self, note_id: str, gen: int, entities: list[Entity], visit_date: str | None,
                           previous: tuple[int, int]) -> None:
        """Rows of the generation this write made current, then the previous generation's rows are deleted by key
        (``previous``: its gen and row count, from the item the write replaced). A writer that finds the note moved
        on to a later generation meanwhile deletes its own rows: the rows always converge to the current ones."""
        rows = [self._entity_row(note_id, gen, n, e, visit_date) for n, e in enumerate(entities)]
        self.batch_write(puts=rows, deletes=self._entity_keys(note_id, *previous))
        now = self._get(_note_key(note_id), ["gen"])
        if now is None or int(now.get("gen", 0)) != gen:
            self.batch_write(deletes=rows)

    @staticmethod
    def _entity_row(note_id: str, gen: int, n: int, e: Entity, visit_date: str | None) -> Item:
        return {"PK": f"NOTE#{note_id}", "SK": f"ENT#{gen:08d}#{n:05d}", "note_id": note_id, "gen": gen,
                "category": e.category.value, "entity": e.model_dump_json(),
                "term": f"TERM#{e.category.value}#{entity_term(e)}", "term_sk": f"{visit_date or ''}#{note_id}"}

    @staticmethod
    def _entity_keys(note_id: str, gen: int, count: int) -> list[Item]:
        return [{"PK": f"NOTE#{note_id}", "SK": f"ENT#{gen:08d}#{n:05d}"} for n in range(count)] if gen else []

    def _prune_entity_rows(self, note_id: str) -> None:
        """Delete every entity row that is not of the note's current generation (after an import, which cannot
        know what an interrupted earlier run left)."""
        note = self._get(_note_key(note_id), ["gen", "ent_n"])
        if note is None:
            return
        gen, count = int(note.get("gen", 0)), int(note.get("ent_n", 0))
        stale = []
        for row in self.partition(f"NOTE#{note_id}", "ENT#"):
            _, row_gen, n = str(row["SK"]).split("#")
            if int(row_gen) != gen or int(n) >= count:
                stale.append(row)
        if stale:
            self.batch_write(deletes=stale)

    def entities_in_force(self, note_id: str) -> list[Entity]:
        """The entity rows of the note's current generation, in order."""
        note = self._get(_note_key(note_id), ["gen", "ent_n"])
        if note is None:
            return []
        prefix = f"ENT#{int(note.get('gen', 0)):08d}#"
        rows = list(self.partition(f"NOTE#{note_id}", prefix))[: int(note.get("ent_n", 0))]
        return [Entity.model_validate_json(r["entity"]) for r in rows]

    def add_extraction(self, note_id: str, result: ExtractionResult, duration_ms: float) -> Extraction:
        now = utcnow()
        ext_id = self.next_id("extraction")
        entities_json = self._entities_json(result.entities)
        made: dict[str, Any] = {}

        def change(old: Item) -> tuple[Item, list[dict[str, Any] | None]]:
            version = int(old.get("ev", 0)) + 1
            new = {**old, "ev": version, "status": NoteStatus.DONE.value, "error_code": None, "error_message": None}
            delta = {**self._status_delta(old["status"], NoteStatus.DONE.value), "extractions": 1}
            # A clinician's review stays in force over any later machine run.
            reviewed = int(old.get("rv", 0)) > 0
            if not reviewed:
                new["updated_at"] = utcnow()
                delta.update(self._in_force(new, result.entities, result.fields))
            item = {"PK": f"NOTE#{note_id}", "SK": f"EXT#{version:06d}", "id": ext_id, "note_id": note_id,
                    "version": version, "engine": result.engine, "model_id": result.model_id,
                    "prompt_version": result.prompt_version, "created_at": now, "duration_ms": float(duration_ms),
                    "fields_json": result.fields.model_dump_json(), "usage_json": json.dumps(result.usage),
                    "cached": result.cached, **self.pack("entities", entities_json)}
            made.update(version=version, reviewed=reviewed, gen=new.get("gen", 0), visit=new.get("visit_date"),
                        previous=(int(old.get("gen", 0)), int(old.get("ent_n", 0))))
            return new, [self._new_tx(item), self._stats_tx(note_id, delta)]

        if not self._change(note_id, change):
            raise KeyError(f"note {note_id} does not exist")
        if not made["reviewed"]:
            self._write_entity_rows(note_id, int(made["gen"]), result.entities, made["visit"], made["previous"])
        return Extraction(
            id=ext_id, note_id=note_id, version=made["version"], engine=result.engine, model_id=result.model_id,
            prompt_version=result.prompt_version, created_at=now, duration_ms=duration_ms,
            entities=result.entities, fields=result.fields, usage=result.usage, cached=result.cached,
        )

    def _extraction(self, item: Item) -> Extraction:
        return Extraction(
            id=item["id"], note_id=item["note_id"], version=item["version"], engine=item["engine"],
            model_id=item.get("model_id"), prompt_version=item.get("prompt_version"), created_at=item["created_at"],
            duration_ms=float(item.get("duration_ms", 0.0)),
            entities=[Entity.model_validate(e) for e in json.loads(self.unpack(item, "entities") or "[]")],
            fields=NoteFields.model_validate_json(item["fields_json"]), usage=json.loads(item.get("usage_json", "{}")),
            cached=bool(item.get("cached", False)),
        )

    def extractions(self, note_id: str) -> list[Extraction]:
        return [self._extraction(i) for i in self.partition(f"NOTE#{note_id}", "EXT#")]

    def add_review(
        self,
        note_id: str,
        extraction_id: int,
        reviewer: str,
        entities: list[Entity],
        fields: NoteFields,
        changes: dict[str, Any],
        expected_version: int | None = None,
    ) -> Review:
        entities_json = self._entities_json(entities)
        changes_json = json.dumps(changes, ensure_ascii=False)
        review_id = 0
        made: dict[str, Any] = {}

        def change(old: Item) -> tuple[Item, list[dict[str, Any] | None]]:
            nonlocal review_id
            latest = int(old.get("rv", 0))
            # The condition on the note item's ``ver`` makes this check and the write one step: a review saved in
            # between fails the write, the note is read again, and this check then raises.
            if expected_version is not None and latest != expected_version:
                raise ReviewConflict(note_id, expected_version, latest)
            if not review_id:  # allocated once the check has passed, so a refused save uses no id
                review_id = self.next_id("review")
            version, now = latest + 1, utcnow()
            new = {**old, "rv": version, "updated_at": now}
            delta = {"reviews": 1, **self._in_force(new, entities, fields)}
            item = {"PK": f"NOTE#{note_id}", "SK": f"REV#{version:06d}", "id": review_id, "note_id": note_id,
                    "extraction_id": extraction_id, "version": version, "reviewer": reviewer, "created_at": now,
                    "fields_json": fields.model_dump_json(), **self.pack("entities", entities_json),
                    **self.pack("changes", changes_json)}
            made.update(version=version, created_at=now, gen=new["gen"],
                        previous=(int(old.get("gen", 0)), int(old.get("ent_n", 0))))
            return new, [self._new_tx(item), self._stats_tx(note_id, delta)]

        if not self._change(note_id, change):
            raise KeyError(f"note {note_id} does not exist")
        self._write_entity_rows(note_id, int(made["gen"]), entities, fields.visit_date, made["previous"])
        return Review(id=review_id, note_id=note_id, extraction_id=extraction_id, version=made["version"],
                      reviewer=reviewer, created_at=made["created_at"], entities=entities, fields=fields,
                      changes=changes)

    def _review(self, item: Item) -> Review:
        return Review(
            id=item["id"], note_id=item["note_id"], extraction_id=item["extraction_id"], version=item["version"],
            reviewer=item["reviewer"], created_at=item["created_at"],
            entities=[Entity.model_validate(e) for e in json.loads(self.unpack(item, "entities") or "[]")],
            fields=NoteFields.model_validate_json(item["fields_json"]),
            changes=json.loads(self.unpack(item, "changes") or "{}"),
        )

    def reviews(self, note_id: str) -> list[Review]:
        return [self._review(i) for i in self.partition(f"NOTE#{note_id}", "REV#")]

    # -- migration -------------------------------------------------------------------------------------

    def export_note(self, note_id: str) -> NoteBundle | None:
        item = self._note_item(note_id)
        if item is None:
            return None
        shas = sorted(set(item.get("srcs") or set()) | {item["raw_sha256"]})
        sources = [SourceRecord(s["raw_sha256"], s["note_id"], s["filename"], int(s["size"]), bool(s["stored"]),
                                s["received_at"])
                   for s in self._batch_get([{"PK": f"SRC#{sha}", "SK": "SRC"} for sha in shas])]
        sources = [s for s in sorted(sources, key=lambda s: s.received_at) if s.note_id == note_id]
        return NoteBundle(note=self._note(item), text_sha256=item.get("text_sha256"), sources=sources,
                          extractions=self.extractions(note_id), reviews=self.reviews(note_id))

    def import_note(self, bundle: NoteBundle) -> bool:
        """Write a note as it is in another store: same versions, ids, reviewers, timestamps. False when this store
        already has it with every version (a re-run copies nothing); a note half-copied by a failed run is completed.
        The note item is written last, so it exists only once everything it points at does."""
        note = bundle.note
        old = self._note_item(note.id)
        ev, rv = bundle.extraction_version, bundle.review_version
        if old is not None and int(old.get("ev", 0)) >= ev and int(old.get("rv", 0)) >= rv:
            return False
        prefix = f"NOTE#{note.id}"
        puts: list[Item] = [
            {"PK": prefix, "SK": f"EXT#{e.version:06d}", "id": e.id, "note_id": note.id, "version": e.version,
             "engine": e.engine, "model_id": e.model_id, "prompt_version": e.prompt_version, "created_at": e.created_at,
             "duration_ms": float(e.duration_ms), "fields_json": e.fields.model_dump_json(),
             "usage_json": json.dumps(e.usage), "cached": e.cached,
             **self.pack("entities", self._entities_json(e.entities))} for e in bundle.extractions]
        puts += [
            {"PK": prefix, "SK": f"REV#{r.version:06d}", "id": r.id, "note_id": note.id,
             "extraction_id": r.extraction_id, "version": r.version, "reviewer": r.reviewer, "created_at": r.created_at,
             "fields_json": r.fields.model_dump_json(), **self.pack("entities", self._entities_json(r.entities)),
             **self.pack("changes", json.dumps(r.changes, ensure_ascii=False))} for r in bundle.reviews]
        puts += [self._source_item(s.raw_sha256, s.note_id, s.filename, s.size, s.stored, s.received_at)
                 for s in bundle.sources]
        if bundle.text_sha256:
            puts.append({"PK": f"TXT#{bundle.text_sha256}", "SK": "TXT", "note_id": note.id})
        in_force = bundle.in_force()
        entities = in_force[0] if in_force else []
        gen = int((old or {}).get("gen", 0)) + 1
        puts += [self._entity_row(note.id, gen, n, e, note.fields.visit_date) for n, e in enumerate(entities)]
        self.batch_write(puts=puts)
        new: Item = {**_note_key(note.id), "id": note.id, "filename": note.filename, "status": note.status.value,
                     "encoding": note.encoding, "size": note.size, "raw_sha256": note.raw_sha256,
                     "error_code": note.error_code, "error_message": note.error_message, "source": note.source,
                     "created_at": note.created_at, "updated_at": note.updated_at, "attempts": note.attempts,
                     "visit_date": note.fields.visit_date, "age": note.fields.age, "sex": note.fields.sex,
                     "department": note.fields.department, "summary": note.fields.summary,
                     "text_sha256": bundle.text_sha256, "srcs": {s.raw_sha256 for s in bundle.sources} or None,
                     "rv": rv, "ev": ev, "ent_n": len(entities), "gen": gen, **self.pack("text", note.text)}
        delta = {note.status.value: 1, "extractions": ev, "reviews": rv, "entities": len(entities)}
        if old is not None:
            for name, value in ((old["status"], 1), ("extractions", int(old.get("ev", 0))),
                                ("reviews", int(old.get("rv", 0))), ("entities", int(old.get("ent_n", 0)))):
                delta[name] = delta.get(name, 0) - value
        self._transact([self._note_tx(old, new), self._stats_tx(note.id, delta)])
        self._prune_entity_rows(note.id)
        self.raise_seq("extraction", max((e.id for e in bundle.extractions), default=0))
        self.raise_seq("review", max((r.id for r in bundle.reviews), default=0))
        return True
