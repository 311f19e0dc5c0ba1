"""The local Korean clinical engine: small pipeline stages over one text (sections → PHI → vocabulary terms and
word-formation compounds → phrase stages → colloquial symptoms → assertions and experiencer → attributes →
note fields)."""

from __future__ import annotations

import re
from bisect import bisect_right
from operator import itemgetter
from typing import Any

from pydantic import TypeAdapter

from services.domain import Entity, ExtractionResult
from services.extraction.local import attributes
from services.extraction.local.actions import device_actions
from services.extraction.local.categories import DIAGNOSIS, MEDICATION, PHI, SYMPTOM, TEST
from services.extraction.local.colloquial import find_colloquial
from services.extraction.local.compounds import CompoundFinder
from services.extraction.local.context import Assertions
from services.extraction.local.departments import in_department_name
from services.extraction.local.drugnames import drug_names
from services.extraction.local.fields import note_fields
from services.extraction.local.findings import normal_statements
from services.extraction.local.islands import english_islands
from services.extraction.local.lexicon import Lexicon, Match
from services.extraction.local.phi import find_phi
from services.extraction.local.phrases import (
    NORMAL_RESULTS,
    Spans,
    abbreviation_tests,
    advice_items,
    as_finding,
    clinician_questions,
    ends_in_predicate,
    is_other_sense,
    quoted_complaints,
    site_predicates,
    site_symptoms,
    spinal_levels,
    spoken_advice,
    title_lines,
    with_laterality,
    with_salt,
)
from services.extraction.local.regions import region_words
from services.extraction.local.sections import SectionIndex, find_sections
from services.extraction.local.spacing import spaced_terms
from services.extraction.local.textutil import leftmost_longest

ENGINE_NAME = "local"
_lexicon: Lexicon | None = None
# A note's entities are validated in one call: pydantic-core then loops in Rust, ~40% less time than one
# Entity(...) (Python __init__, keyword packing) per mention. Same models, same validation.
_ENTITIES = TypeAdapter(list[Entity])
_COMBINED = re.compile(r"[/&,]")  # a heading that joins labels (PE/V/S:) is a header, not an exam
# What a clinician's question names is asked about, not found (the answer decides): findings only.
_ASKED = frozenset({SYMPTOM, DIAGNOSIS})
# Sort keys in C ((begin, end) of a Match, a named tuple, and of an entity row): no Python call per mention.
_SPAN = itemgetter(0, 1)
_ROW_SPAN = itemgetter("begin", "end")


def lexicon() -> Lexicon:
    global _lexicon
    if _lexicon is None:
        _lexicon = Lexicon()
    return _lexicon


class LocalKoreanEngine:
    name = ENGINE_NAME

    def __init__(self, use_morphology: bool = True) -> None:
        self.lexicon = lexicon()
        self.compounds = CompoundFinder(self.lexicon)
        self.use_morphology = use_morphology

    def extract(self, text: str) -> ExtractionResult:
        sections = find_sections(text)
        index = SectionIndex(sections)
        headings = index.headings()
        heading_spans = Spans(headings)
        # Exam labels that head a section (V/S, 신체검사) are still tests; other headings are not mentions.
        found = leftmost_longest(self.lexicon.find(text) + self.compounds.find(text)
                                 + abbreviation_tests(text, self.lexicon) + advice_items(text)
                                 + spoken_advice(text, self.lexicon) + english_islands(text, self.lexicon)
                                 + device_actions(text, self.lexicon) + spinal_levels(text) + region_words(text, self.lexicon)
                                 + spaced_terms(text, self.lexicon))
        found = leftmost_longest(found + drug_names(text, found, self.lexicon))
        titles = title_lines(text)
        # An exam label that is a whole heading is a test (V/S:, 신체검사:); one inside a combined heading
        # (PE/V/S:) is part of a header, which the guideline does not tag.
        label_at = {end: begin for begin, end in index.labels()}
        matches = [m for m in found if not titles.hits(m.begin, m.end)
                   and (not heading_spans.hits(m.begin, m.end) or (
                       m.term.category is TEST and m.end in label_at and not _COMBINED.search(text, label_at[m.end], m.begin)))]
        phi_all = find_phi(text)
        # A "name" that is really a clinical term (고혈압 환자) is dropped; other PHI (dates,
        # numbers, addresses) wins over a term it overlaps.
        # A term strictly inside a name is the name's syllables (이명자 holds 이명, 이도윤 holds 이도): the name wins.
        term_spans = Spans([(m.begin, m.end) for m in matches])
        phi = [p for p in phi_all if not (p[2] == "name" and term_spans.hits(p[0], p[1]) and not all(
            p[0] <= m.begin and m.end <= p[1] and m.end - m.begin < p[1] - p[0]
            for m in matches if m.begin < p[1] and p[0] < m.end))]
        phi_spans = Spans([(p[0], p[1]) for p in phi])
        # 재활의학과, 신경과: a term inside a department's name is part of the name (is_other_sense does sites).
        matches = [m for m in matches if not phi_spans.hits(m.begin, m.end) and not is_other_sense(text, m, self.lexicon)
                   and not (m.end < len(text) and "가" <= text[m.end] <= "힣" and in_department_name(text, m.begin, m.end))]
        asked = clinician_questions(text)
        if asked.spans:
            matches = [m for m in matches if m.term.category not in _ASKED or not asked.hits(m.begin, m.end)]

        colloquial = find_colloquial(text) if self.use_morphology else []
        if asked.spans:
            colloquial = [c for c in colloquial if not asked.hits(c.begin, c.end)]
        symptom_spans = Spans([(m.begin, m.end) for m in matches if m.term.category is SYMPTOM])
        colloquial = [c for c in colloquial if not symptom_spans.hits(c.begin, c.end)]
        # The body word inside a colloquial symptom ("머리가 아파요") stays tagged as anatomy too (guideline).
        colloquial_spans = Spans([(c.begin, c.end) for c in colloquial])
        taken = Spans([(m.begin, m.end) for m in matches if m.term.category is SYMPTOM]
                       + [(c.begin, c.end) for c in colloquial])
        predicates = [p for p in site_predicates(text, matches) if not taken.hits(p.begin, p.end)
                      and not colloquial_spans.hits(p.begin, p.end)]
        # A normal statement about an exam item the vocabulary does not know (지남력 유지됨, knee jerk 정상).
        # A bare normal word the vocabulary found (정상 범위) gives way to the statement that names its subject
        # (신경학적 검사 정상 범위).
        said = Spans([(p.begin, p.end) for p in predicates])
        bare = [m for m in matches if m.term.normalized in NORMAL_RESULTS]
        if bare:
            taken = Spans([(m.begin, m.end) for m in matches if m.term.category is SYMPTOM and m.term.normalized not in NORMAL_RESULTS]
                          + [(c.begin, c.end) for c in colloquial])
        stated = [n for n in normal_statements(text) if not taken.hits(n.begin, n.end)
                  and not colloquial_spans.hits(n.begin, n.end) and not said.hits(n.begin, n.end)]
        if bare and stated:
            statement_spans = Spans([(n.begin, n.end) for n in stated])
            inside = {id(m) for m in bare if statement_spans.covers(m.begin, m.end)}
            matches = [m for m in matches if id(m) not in inside]
        predicates += stated
        # A quoted sentence that states a complaint (a complaint word, or a symptom any stage found in a clause that
        # ends in a verb) is one mention in place of the colloquial and site phrases inside it; vocabulary
        # symptoms inside stay mentions too.
        complaints = Spans([(m.begin, m.end) for m in matches if m.term.category is SYMPTOM]
                           + [(c.begin, c.end) for c in colloquial] + [(p.begin, p.end) for p in predicates])
        quotes = [q for q, speech in quoted_complaints(text)
                  if speech or (complaints.hits(q.begin, q.end) and ends_in_predicate(q.term.surface))]
        quote_spans = Spans([(q.begin, q.end) for q in quotes])
        colloquial = [c for c in colloquial if not quote_spans.hits(c.begin, c.end)]
        matches += [p for p in predicates if not quote_spans.hits(p.begin, p.end)] + quotes
        matches.sort(key=_SPAN)

        attached = [as_finding(with_salt(text, with_laterality(text, m)), text) for m in matches]
        # What an attachment took in ("DALTEPARIN SODIUM": the salt; "우측 무릎": the side) is part of that mention,
        # not one of its own (SODIUM is no sodium test there).
        grown = Spans([(a.begin, a.end) for a, m in zip(attached, matches, strict=True) if (a.begin, a.end) != (m.begin, m.end)])
        if grown.spans:
            attached = [a for a, m in zip(attached, matches, strict=True)
                        if (a.begin, a.end) != (m.begin, m.end) or not grown.covers(a.begin, a.end)]
        matches = site_symptoms(text, attached, self.lexicon)
        assertions = Assertions(text)
        rows: list[dict[str, Any]] = []
        med_starts = sorted(m.begin for m in matches if m.term.category is MEDICATION)
        for m in matches:
            row = self._entity(text, m, index, assertions, med_starts)
            if row is not None:
                rows.append(row)
        for c in colloquial:
            section = index.at(c.begin)
            flags = assertions.flags(c.begin, c.end, SYMPTOM, section)
            flags["negated"] = flags["negated"] or c.negated
            if flags.pop("hypothetical"):
                continue  # "열이 나면 내원하세요": a warning, not a finding (guideline)
            attrs = {"form": "colloquial"}
            if flags.pop("other"):
                attrs["experiencer"] = "other"
            rows.append({
                "category": SYMPTOM, "text": text[c.begin:c.end], "begin": c.begin, "end": c.end,
                "normalized": c.normalized, "section": section, "score": 0.8, "engine": ENGINE_NAME,
                "attributes": attrs, **flags,
            })
        for b, e, phi_type in phi:
            rows.append({
                "category": PHI, "text": text[b:e], "begin": b, "end": e, "section": index.at(b),
                "attributes": {"phi_type": phi_type}, "normalized": phi_type, "score": 0.9, "engine": ENGINE_NAME,
            })
        rows.sort(key=_ROW_SPAN)
        entities = _ENTITIES.validate_python(rows)
        return ExtractionResult(engine=ENGINE_NAME, entities=entities, fields=note_fields(text, entities, phi, headings))

    def _entity(self, text: str, m: Match, index: SectionIndex, assertions: Assertions,
                med_starts: list[int]) -> dict[str, Any] | None:
        """The fields of one vocabulary or phrase mention's Entity (validated with the note's others); None for a
        finding only named in a warning ("출혈이 있으면 연락하세요", "설사가 생길 수 있습니다"), which the guideline
        does not count as a mention."""
        term = m.term
        section = index.at(m.begin)
        attrs: dict[str, str] = {}
        if term.category is TEST:
            attrs = attributes.measurement(text, m.end)
            if term.kind:
                attrs["kind"] = term.kind
        elif term.category is MEDICATION:
            i = bisect_right(med_starts, m.begin)
            nxt = med_starts[i] if i < len(med_starts) else len(text)
            attrs = attributes.medication(text, m.end, nxt)
        flags = assertions.flags(m.begin, m.end, term.category, section)
        if term.category is TEST and attrs.get("result") in ("(-)", "음성", "negative"):
            flags["negated"] = False  # a negative result is a test that was done
        if flags.pop("hypothetical") and term.category in (SYMPTOM, DIAGNOSIS):
            return None
        if flags.pop("other"):
            attrs["experiencer"] = "other"  # a sick contact's finding, not the patient's nor family history
        if term.normalized in NORMAL_RESULTS:
            flags["negated"] = True  # a normal result is a negated finding (정상 범위, 의식 명료)
        # A dict display, not dict(...): no keyword packing for ~35 mentions a note.
        return {
            "category": term.category, "text": text[m.begin:m.end], "begin": m.begin, "end": m.end, "section": section,
            "attributes": attrs, "normalized": term.normalized, "code": term.code, "code_system": term.code_system,
            "score": 0.9 if term.priority == 0 else 0.7, "engine": ENGINE_NAME, **flags,
        }
