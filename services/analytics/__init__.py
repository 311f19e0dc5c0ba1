"""Analytics for managers: what patients come in with and how it changes (issue 9).

``AnalyticsBackend`` (model.py) is the port a store implements; ``SQLiteAnalytics`` is the embedded one.
services/wiring.py picks the backend and hands pages an ``AnalyticsService``.
"""

from services.analytics.model import (
    AGE_BANDS,
    ASSERTIONS,
    GRAINS,
    SEXES,
    UNKNOWN,
    AnalyticsBackend,
    Drill,
    Filter,
    Grain,
    NoteList,
    NoteRef,
    Period,
    age_band,
    age_band_bounds,
)
from services.analytics.periods import auto_grain, bucket_end, bucket_start, buckets
from services.analytics.service import (
    AnalyticsService,
    Cooccurrence,
    Pyramid,
    PyramidRow,
    Ranking,
    RankRow,
    Series,
    competition_ranks,
    to_csv,
)

__all__ = [
    "AGE_BANDS", "ASSERTIONS", "GRAINS", "SEXES", "UNKNOWN", "AnalyticsBackend", "AnalyticsService", "Cooccurrence",
    "Drill", "Filter", "Grain", "NoteList", "NoteRef", "Period", "Pyramid", "PyramidRow", "RankRow", "Ranking",
    "Series", "age_band", "age_band_bounds", "auto_grain", "bucket_end", "bucket_start", "buckets",
    "competition_ranks", "to_csv",
]
