"""A queue worker process for tests/test_queue_workers.py: ``python tests/queue_worker.py worker --queue URL ...``
runs ``python -m services``'s command line. With NOTELENS_TEST_HANG_MARKER set, its first extraction
writes the note id to that file and hangs (test-only delay), so the test can SIGKILL it mid-message."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.__main__ import main  # noqa: E402
from services.notes import IngestOutcome, NoteService  # noqa: E402

if os.environ.get("NOTELENS_TEST_NO_SEARCH"):
    # The DynamoDB variant: the configured stores (services.wiring.build_backends, NOTELENS_BACKEND=aws against the
    # moto server) without the search index, which on AWS would need an OpenSearch domain.
    from services.distributed.worker import ServiceCache
    from services.extraction import LazyExtractor
    from services.wiring import build_backends

    def without_search(self: ServiceCache, engine: str) -> NoteService:
        if engine not in self._services:
            stores = build_backends(self.settings)
            self._services[engine] = NoteService(stores.store, stores.blobs,
                                                 LazyExtractor(engine or self.settings.extraction_engine),
                                                 self.settings.max_note_bytes)
        return self._services[engine]

    ServiceCache.__call__ = without_search  # type: ignore[method-assign]

marker = os.environ.get("NOTELENS_TEST_HANG_MARKER")
if marker:
    real = NoteService.process

    def hanging(self: NoteService, note_id: str, claimed: bool = False) -> IngestOutcome:
        path = Path(marker)  # type: ignore[arg-type]
        if not path.exists():
            path.write_text(note_id)
            time.sleep(600)  # claimed, message in hand: the test kills the process here
        return real(self, note_id, claimed)

    NoteService.process = hanging  # type: ignore[method-assign]

sys.exit(main())
