"""Search port: one query model, one result model, and the small interface every backend implements.

Backends (chosen in services/wiring.py from ``NOTELENS_SEARCH_BACKEND``): ``sqlite`` (embedded default, FTS5 over
kiwipiepy morphemes plus an entity table) and ``opensearch`` (nori, nested entities, aggregations). Both receive a
:class:`Plan` — the query with codes recognised and concepts expanded by the service — so they agree on meaning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

ASSERTIONS = ("present", "negated", "uncertain", "historical", "family")
REVIEW_STATUSES = ("reviewed", "machine", "none")
AGE_BANDS = ("0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+")
# Facet names in display order; each is also a filter.
NOTE_FIELDS = ("department", "age_band", "sex", "engine", "prompt_version", "review_status")
FACETS = ("category", "term", "assertion", "visit_month", "department", "age_band", "sex", "engine",
          "prompt_version", "review_status")


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    return "80+" if age >= 80 else f"{age // 10 * 10}-{age // 10 * 10 + 9}"


class SearchQuery(BaseModel):
    """Everything a user can ask. Saved searches store this as JSON."""

    model_config = ConfigDict(extra="ignore")

    text: str = ""
    categories: list[str] = Field(default_factory=list)
    term: str = ""
    # Which mentions of the term/category count: affirmed only unless asked.
    assertions: list[str] = Field(default_factory=lambda: ["present"])
    date_from: str | None = None
    date_to: str | None = None
    departments: list[str] = Field(default_factory=list)
    age_bands: list[str] = Field(default_factory=list)
    sexes: list[str] = Field(default_factory=list)
    engines: list[str] = Field(default_factory=list)
    prompt_versions: list[str] = Field(default_factory=list)
    review_statuses: list[str] = Field(default_factory=list)
    expand: bool = False
    sort: Literal["relevance", "date"] = "relevance"
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=10_000)


@dataclass
class TextClause:
    """One query word or quoted phrase: a note must match one of ``alternatives`` (written forms; more than one
    when the concept is expanded). ``concept`` asks OpenSearch to expand through its synonym analyzer too."""

    alternatives: list[str]
    phrase: bool = False
    concept: bool = False


@dataclass
class EntityClause:
    """A note must hold one entity matching all of this (any of the terms or codes; any of the categories; any of
    the assertions)."""

    terms: set[str] = field(default_factory=set)  # normalized names (else the mention as written), lower-cased
    codes: set[str] = field(default_factory=set)  # code prefixes (R07 matches R07.4)
    categories: set[str] = field(default_factory=set)
    assertions: set[str] = field(default_factory=lambda: {"present"})

    def is_open(self) -> bool:
        return not (self.terms or self.codes or self.categories)


@dataclass
class Plan:
    query: SearchQuery
    text: list[TextClause] = field(default_factory=list)
    entities: list[EntityClause] = field(default_factory=list)  # all must hold (AND)
    # Tokens to highlight in snippets, as written (the backend analyses them its own way).
    highlight: list[str] = field(default_factory=list)
    want_facets: bool = True


@dataclass
class EntityChip:
    category: str
    text: str
    normalized: str | None
    code: str | None
    assertion: str
    matched: bool = False


@dataclass
class SearchHit:
    note_id: str
    filename: str
    score: float
    visit_date: str | None
    department: str | None
    age: int | None
    sex: str | None
    review_status: str
    snippet_html: str
    snippet_text: str
    entities: list[EntityChip] = field(default_factory=list)


@dataclass
class SearchResults:
    total: int
    hits: list[SearchHit]
    facets: dict[str, list[tuple[str, int]]]
    page: int
    page_size: int
    took_ms: float = 0.0
    # 0 when every facet count is exact; else the entity facets were estimated from a sample of this many notes.
    facet_sample: int = 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass
class SearchEntity:
    category: str
    text: str
    normalized: str | None
    code: str | None
    negated: bool
    uncertain: bool
    historical: bool
    family: bool
    section: str | None
    begin: int
    end: int

    @property
    def assertion(self) -> str:
        for flag in ("negated", "uncertain", "family", "historical"):
            if getattr(self, flag):
                return flag
        return "present"

    @property
    def term(self) -> str:
        return (self.normalized or self.text).strip().lower()


@dataclass
class SearchDoc:
    """One note as every backend indexes it: its text, the note fields and the entities in force."""

    note_id: str
    filename: str
    text: str
    visit_date: str | None
    department: str | None
    age: int | None
    sex: str | None
    engine: str | None
    prompt_version: str | None
    review_status: str
    entities: list[SearchEntity]


class SearchBackend(Protocol):
    name: str

    def index(self, docs: Iterable[SearchDoc]) -> int:
        """Add or replace these notes; returns how many were written."""
        ...

    def delete(self, note_ids: Iterable[str]) -> None: ...

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Rebuild the whole index from these notes (the ``reindex`` command)."""
        ...

    def search(self, plan: Plan) -> SearchResults: ...

    def values(self, name: str) -> list[str]:
        """Every value a note field filter can take (department, age_band, sex, engine, prompt_version,
        review_status), for the filter pickers."""
        ...

    def count(self) -> int: ...
