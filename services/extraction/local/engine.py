"""The local Korean clinical engine: small pipeline stages over one text (sections → PHI →
dictionary terms → colloquial symptoms → assertions → attributes → note fields)."""

from __future__ import annotations

from services.domain import Category, Entity, ExtractionResult
from services.extraction.local import attributes
from services.extraction.local.colloquial import find_colloquial
from services.extraction.local.context import Assertions
from services.extraction.local.fields import note_fields
from services.extraction.local.lexicon import Lexicon, Match
from services.extraction.local.phi import find_phi
from services.extraction.local.sections import SectionIndex, find_sections

ENGINE_NAME = "local"
_lexicon: Lexicon | None = None


def lexicon() -> Lexicon:
    global _lexicon
    if _lexicon is None:
        _lexicon = Lexicon()
    return _lexicon


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


class LocalKoreanEngine:
    name = ENGINE_NAME

    def __init__(self, use_morphology: bool = True) -> None:
        self.lexicon = lexicon()
        self.use_morphology = use_morphology

    def extract(self, text: str) -> ExtractionResult:
        sections = find_sections(text)
        index = SectionIndex(sections)
        headings = index.headings()
        matches = [m for m in self.lexicon.find(text) if not any(_overlaps((m.begin, m.end), h) for h in headings)]
        phi_all = find_phi(text)
        # A "name" that is really a clinical term (고혈압 환자) is dropped; other PHI (dates,
        # numbers, addresses) wins over a term it overlaps.
        phi = [p for p in phi_all if not (p[2] == "name" and any(_overlaps((p[0], p[1]), (m.begin, m.end)) for m in matches))]
        matches = [m for m in matches if not any(_overlaps((m.begin, m.end), (p[0], p[1])) for p in phi)]

        colloquial = find_colloquial(text) if self.use_morphology else []
        symptom_spans = [(m.begin, m.end) for m in matches if m.term.category is Category.SYMPTOM]
        colloquial = [c for c in colloquial if not any(_overlaps((c.begin, c.end), s) for s in symptom_spans)]
        # Body words inside a colloquial symptom ("머리가 아파요") belong to the symptom.
        matches = [
            m for m in matches
            if not (m.term.category is Category.ANATOMY and any(_overlaps((m.begin, m.end), (c.begin, c.end)) for c in colloquial))
        ]

        assertions = Assertions(text)
        entities: list[Entity] = []
        med_starts = sorted(m.begin for m in matches if m.term.category is Category.MEDICATION)
        for m in matches:
            entities.append(self._entity(text, m, index, assertions, med_starts))
        for c in colloquial:
            section = index.at(c.begin)
            flags = assertions.flags(c.begin, c.end, Category.SYMPTOM, section)
            flags["negated"] = flags["negated"] or c.negated
            entities.append(Entity(
                category=Category.SYMPTOM, text=text[c.begin:c.end], begin=c.begin, end=c.end,
                normalized=c.normalized, section=section, score=0.8, engine=ENGINE_NAME,
                attributes={"form": "colloquial"}, **flags,
            ))
        for b, e, phi_type in phi:
            entities.append(Entity(
                category=Category.PHI, text=text[b:e], begin=b, end=e, section=index.at(b),
                attributes={"phi_type": phi_type}, normalized=phi_type, score=0.9, engine=ENGINE_NAME,
            ))
        entities.sort(key=lambda x: (x.begin, x.end))
        return ExtractionResult(engine=ENGINE_NAME, entities=entities, fields=note_fields(text, entities, phi, headings))

    def _entity(self, text: str, m: Match, index: SectionIndex, assertions: Assertions, med_starts: list[int]) -> Entity:
        term = m.term
        section = index.at(m.begin)
        attrs: dict[str, str] = {}
        if term.category is Category.TEST:
            attrs = attributes.measurement(text, m.end)
            if term.kind:
                attrs["kind"] = term.kind
        elif term.category is Category.MEDICATION:
            nxt = next((s for s in med_starts if s > m.begin), len(text))
            attrs = attributes.medication(text, m.end, nxt)
        flags = assertions.flags(m.begin, m.end, term.category, section)
        if term.category is Category.TEST and attrs.get("result") in ("(-)", "음성", "negative"):
            flags["negated"] = False  # a negative result is a test that was done
        return Entity(
            category=term.category, text=text[m.begin:m.end], begin=m.begin, end=m.end, section=section,
            attributes=attrs, normalized=term.normalized, code=term.code, code_system=term.code_system,
            score=0.9 if term.priority == 0 else 0.7, engine=ENGINE_NAME, **flags,
        )
