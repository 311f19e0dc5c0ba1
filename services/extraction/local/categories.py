"""Category members as plain module globals, for the engine's per-mention tests.

On Python 3.11 reading ``Category.SYMPTOM`` calls the enum's member descriptor (~120 ns); a module global costs
~20 ns, and the pipeline reads these about a thousand times a note. Same objects: ``SYMPTOM is Category.SYMPTOM``.
"""

from __future__ import annotations

from services.domain import Category

SYMPTOM = Category.SYMPTOM
DIAGNOSIS = Category.DIAGNOSIS
MEDICATION = Category.MEDICATION
TEST = Category.TEST
PROCEDURE = Category.PROCEDURE
ANATOMY = Category.ANATOMY
PHI = Category.PHI
