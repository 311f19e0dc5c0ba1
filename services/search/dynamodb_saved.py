"""Saved searches in the DynamoDB table (backend aws): one partition ``SAVED``, the name as sort key, so ``all()`` is
one Query in name order (byte order of UTF-8, as SQLite's default collation sorts them)."""

from __future__ import annotations

from services.domain import utcnow
from services.search import SearchQuery
from services.store.dynamodb import DynamoDBStore


class DynamoDBSavedSearches:
    def __init__(self, store: DynamoDBStore) -> None:
        self.store = store

    def save(self, name: str, query: SearchQuery) -> None:
        name = name.strip()
        if not name:
            raise ValueError("A saved search needs a name.")
        body = query.model_copy(update={"page": 1}).model_dump_json()
        self.store.batch_write(puts=[{"PK": "SAVED", "SK": name, "query_json": body, "created_at": utcnow()}])

    def all(self) -> list[tuple[str, SearchQuery]]:
        return [(str(i["SK"]), SearchQuery.model_validate_json(i["query_json"])) for i in self.store.partition("SAVED", "")]

    def get(self, name: str) -> SearchQuery | None:
        return dict(self.all()).get(name)

    def delete(self, name: str) -> None:
        self.store.batch_write(deletes=[{"PK": "SAVED", "SK": name}])
