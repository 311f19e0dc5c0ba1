"""Phrase-level stages over the vocabulary matches: a site and its complaint (무릎 + 통증), a site or exam and
its predicate (뒷목이 뻐근함, 폐음 깨끗함), laterality (우측 무릎), a drug's salt, descriptive findings, and
section title lines. Each is small and driven by a data file, as the pipeline's other stages are."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from services.domain import Category
from services.extraction.local import wordform
from services.extraction.local.categories import ANATOMY, DIAGNOSIS, MEDICATION, SYMPTOM, TEST
from services.extraction.local.colloquial import compose, conjugated_prefixes, jamo
from services.extraction.local.departments import in_department_name
from services.extraction.local.drugnames import dose_follows
from services.extraction.local.lexicon import Lexicon, Match, Term
from services.extraction.local.resources import rows


class Spans:
    """Non-overlapping sorted spans with a fast "does this range touch any?" check."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [b for b, _ in self.spans]

    def hits(self, begin: int, end: int) -> bool:
        # Spans don't overlap each other, so only the last one starting before `end` can touch.
        i = bisect_left(self.starts, end) - 1
        return i >= 0 and self.spans[i][1] > begin

    def covers(self, begin: int, end: int) -> bool:
        """Does one span hold all of begin..end?"""
        i = bisect_right(self.starts, begin) - 1
        return i >= 0 and self.spans[i][1] >= end


_SITE_PAIN = {r[0]: r[1] for r in rows("site_pain.tsv")}
# Blood cells by their word formation (-구 球, -phil, -cyte): counted in a lab result they are its analyte.
_CELL_ENDINGS = ("구", "phil", "phils", "cyte", "cytes")
_ANALYTE_AFTER = re.compile(r"[ \t]*(?:[:=][ \t]*)?(?:\d+(?:\.\d+)?[ \t]*%|수치)")
_MEASURE_AFTER = re.compile(r"\s*[:=]?\s*\d+(?:\.\d+)?\s*(?:cm|kg|m)\b")
_PAIN = frozenset({"통증", "압통", "동통"})


def site_symptoms(text: str, matches: list[Match], lexicon: Lexicon) -> list[Match]:
    """'무릎 통증': the guideline keeps the site and the complaint as two mentions; the complaint's
    normalized term comes from the site (무릎 + 통증 → 관절통) so rankings still count one symptom. A
    site followed by a measurement ('신장 174 cm' is height) is not a body site at all."""
    out: list[Match] = []
    site: Match | None = None
    for m in _split_site_complaints(text, matches, lexicon):
        if m.term.category is ANATOMY:
            if _MEASURE_AFTER.match(text, m.end):
                continue
            if text[m.begin:m.end].lower().endswith(_CELL_ENDINGS) and _ANALYTE_AFTER.match(text, m.end):
                # "호산구 6.2%", "neutrophil 84%", "림프구 수치": a blood cell in a lab result is the analyte, a test.
                out.append(Match(m.begin, m.end, m.term._replace(category=TEST, kind="lab")))
                continue
            site = m
        elif site is not None and m.term.surface in _PAIN and text[site.end:m.begin] in ("", " "):
            normalized = _SITE_PAIN.get(site.term.normalized, m.term.normalized)
            m = Match(m.begin, m.end, m.term._replace(normalized=normalized))
            site = None
        else:
            site = None
        out.append(m)
    return out


_SALT_AFTER = re.compile(
    rf"(?:[ \t]?(?:{'|'.join(sorted(wordform.SALTS_KO, key=len, reverse=True))})|[ \t]+(?i:{'|'.join(wordform.SALTS_EN)}|HCl))+"
    r"(?=(?:을|를|은|는|이|가|과|와|도|의|으로|로)?(?![A-Za-z가-힣]))")


_DESCRIPTIVE = tuple(w for r in rows("descriptive_heads.tsv") for w in r[0].split())


# English findings that name something alone (english_heads.tsv 'alone': effusion, consolidation, nodule).
_DESCRIPTIVE_EN = frozenset(w for r in rows("english_heads.tsv") if r[0] == "alone" and r[1] == "symptom" for w in r[2].split())
# A disease's type, stage or grade written after it belongs to it (DM type 2, CKD stage 3a).
_SUBTYPE_AFTER = re.compile(r"[ \t](?:type|Type|stage|Stage|grade|Grade|class|Class)[ \t]?(?:[0-5]|I{1,3}V?|IV|V)[abcABC]?(?![A-Za-z0-9])")


def as_finding(m: Match, text: str = "") -> Match:
    """A vocabulary 'disease' whose head is descriptive (심비대, 흉막삼출, 폐결절, pleural effusion) is a finding: a
    symptom. A disease keeps the type or stage written after it (DM type 2)."""
    if m.term.category is not DIAGNOSIS:
        return m
    surface = m.term.surface
    if surface.replace(" ", "").endswith(_DESCRIPTIVE) or (surface.isascii() and surface.lower().rsplit(" ", 1)[-1] in _DESCRIPTIVE_EN):
        return Match(m.begin, m.end, m.term._replace(category=SYMPTOM))
    subtype = _SUBTYPE_AFTER.match(text, m.end) if text else None
    return Match(m.begin, subtype.end(), m.term) if subtype else m


# A dosage form written onto a Korean drug name (와파린정, 메트포르민서방정, 세파클러캡슐), before a particle or
# the end of the word.
_FORM_AFTER = re.compile(r"(?:서방정|서방캡슐|연질캡슐|필름코팅정|장용정|구강붕해정|츄어블정|캡슐|시럽|현탁액|주사액|점안액|좌제|정)"
                         r"(?=(?:을|를|은|는|이|가|과|와|도|의|으로|로)?(?![가-힣]))")


def with_salt(text: str, m: Match) -> Match:
    """'TAMSULOSIN HYDROCHLORIDE', '메트포르민서방정': the salt and the dosage form belong to the drug's mention."""
    if m.term.category is not MEDICATION:
        return m
    salt = _SALT_AFTER.match(text, m.end)
    if salt:
        return Match(m.begin, salt.end(), m.term)
    form = _FORM_AFTER.match(text, m.end) if m.end < len(text) and "가" <= text[m.end] <= "힣" else None
    return Match(m.begin, form.end(), m.term) if form else m


_PRED_ROWS = {r[0]: r[1].split() for r in rows("site_predicates.tsv") if len(r) >= 2}


def _predicate_forms(stem: str) -> set[str]:
    """Conjugated prefixes plus the nominal form notes end findings with (뻐근하 → 뻐근함, 저리 → 저림)."""
    forms = conjugated_prefixes(stem)
    j = jamo(stem[-1])
    if j is not None and j[2] == 0:
        forms.add(stem[:-1] + compose(j[0], j[1], 16))
    return forms


_PRED_FORMS = {kind: sorted({f for stem in stems for f in _predicate_forms(stem)}, key=len, reverse=True)
               for kind, stems in _PRED_ROWS.items()}
_PREDICATE = re.compile(
    r"(?:[ \t]?수치)?(?:이|가|은|는|도|에|의)?[ \t]{0,2}(?:(?P<normal>" + "|".join(map(re.escape, _PRED_FORMS.get("normal", [])))
    + r")|(?P<complaint>" + "|".join(map(re.escape, _PRED_FORMS.get("complaint", [])))
    + r")|(?P<abnormal>" + "|".join(map(re.escape, _PRED_FORMS.get("abnormal", []))) + r"))[가-힣]*")
_SITE_PRED = Term("", Category.SYMPTOM, "", None, None, None, 1, False, False)
_CASE_PARTICLES = frozenset("이 가 은 는 을 를 의 에 도 으로 로 와 과".split())


def site_predicates(text: str, matches: list[Match]) -> list[Match]:
    """A body site (or an exam such as 폐음) followed by a complaint or normal-result predicate is one
    symptom phrase: "뒷목이 뻐근함", "편도가 부었네요", "폐음 깨끗함" (negated: a normal result)."""
    out: list[Match] = []
    for m in matches:
        if m.term.category not in (ANATOMY, TEST):
            continue
        if text.startswith("상", m.end) and text[m.end + 1:m.end + 2] in (" ", "\t", ",", ""):
            continue  # "심전도상 이상 소견": on the ECG, an abnormal finding — the exam keeps its own mention
        p = _PREDICATE.match(text, m.end)
        if p is None or (m.term.category is TEST and p.group("complaint") is not None) or (
                m.term.category is ANATOMY and p.group("abnormal") is not None):
            continue  # sites take complaints, tests take values; both take normal results
        normal = p.group("normal") is not None
        normalized = "정상" if normal else _SITE_PAIN.get(m.term.normalized, f"{m.term.normalized} 증상")
        end = p.end()
        abnormal = p.group("abnormal")
        if abnormal is not None and text[p.end("abnormal"):end] in _CASE_PARTICLES:
            end = p.end("abnormal")  # "운동 능력 감소가": a noun of change drops its particle (guideline)
        out.append(Match(m.begin, end, _SITE_PRED._replace(surface=text[m.begin:end], normalized=normalized)))
    return out


NORMAL_RESULTS = frozenset({"정상", "의식 명료"})
_COMPLAINTS = ("통증", "불편감", "부종", "가려움", "저림", "발진", "압통", "부기")


def _split_site_complaints(text: str, matches: list[Match], lexicon: Lexicon) -> list[Match]:
    """A vocabulary symptom that is a body site plus a bare complaint ("무릎 통증" from KCD's joint-pain rows)
    is two mentions under the guideline; lexicalised ones (흉통, 두통) have no site word to split off."""
    out: list[Match] = []
    for m in matches:
        if m.term.category is SYMPTOM:
            surface = text[m.begin:m.end]
            complaint = next((c for c in _COMPLAINTS if surface.endswith(c) and len(surface) > len(c)), None)
            if complaint:
                site_text = surface[: -len(complaint)].rstrip()
                site_term = lexicon.term_for(site_text)
                if site_term is not None and site_term.category is ANATOMY:
                    c_begin = m.end - len(complaint)
                    out.append(Match(m.begin, m.begin + len(site_text), site_term))
                    out.append(Match(c_begin, m.end, lexicon.term_for(complaint) or m.term))
                    continue
        out.append(m)
    return out


_LATERALITY = re.compile(r"(?:오른쪽|왼쪽|우측|좌측|양측|양쪽|(?<![A-Za-z])(?:Rt|Lt|RT|LT|rt|lt|Bilat|bilat)\.?|(?<![A-Za-z])(?:Right|Left|right|left))\s?$")
_EN_POSITION = re.compile(r"(?<![A-Za-z])(?:(?:distal|proximal|upper|lower|middle|anterior|posterior|lateral|medial|inferior"
                          r"|superior|volar|dorsal|deep|superficial)[ \t]){1,2}$", re.IGNORECASE)
# Where on the site: 눈 주위, 목 앞쪽, 팔 안쪽, 수술 부위 (relational nouns the guideline keeps with the site).
_WHERE = re.compile(r"[ \t]?(?:주위|주변|앞쪽|뒤쪽|안쪽|바깥쪽|위쪽|아래쪽|옆쪽|가장자리|부위|내측|외측|전면|후면|상방|하방)(?=(?:에서|으로|[은는이가을를의에와과도로])?(?![가-힣]))")
# Vertebral levels and segments written as codes: L4-5, L5-S1, C5-6, T12 (S alone is a heart sound, T1/T2 a
# sequence: only in a range; L after an obstetric A0 is living children, G2 P1 A0 L1).
_SPINAL = re.compile(r"[CLT](?<![A-Za-z0-9-][CLT])(?<!A\d [CLT])(?:(?<=[CL])[1-7](?:\s?-\s?(?:[CLTS])?[1-7])?"
                     r"|(?<=T)1[0-2](?:\s?-\s?L?[1-5])?|(?<=T)[1-9]\s?-\s?T?1?[0-9])(?![A-Za-z0-9-])")
_SPINAL_TERM = Term("", Category.ANATOMY, "척추 분절", None, None, None, 3, True, False)


def spinal_levels(text: str) -> list[Match]:
    return [Match(m.start(), m.end(), _SPINAL_TERM._replace(surface=m.group())) for m in _SPINAL.finditer(text)]


# Colour and character kept with a finding (guideline: 누런 가래, 붉은 발진): the words a note writes right before it.
_COLOUR = re.compile(r"(?<![가-힣])(?:누런|노란|노르스름한|누르스름한|붉은|빨간|불그스름한|하얀|흰|허연|검은|까만|거무스름한|맑은|투명한"
                     r"|초록색|녹색|갈색|회색|피\s?섞인|혈성|농성|화농성|점액성|끈적한|묽은|거품\s?섞인)\s?$")


def with_laterality(text: str, m: Match) -> Match:
    """'오른쪽 아랫배', '좌측 무릎', 'Rt. 발목', '눈 주위': the side and the part belong to the body site; '누런
    가래', '붉은 발진': the colour belongs to the finding."""
    if m.term.category is SYMPTOM:
        colour = _COLOUR.search(text, max(0, m.begin - 8), m.begin)
        return Match(colour.start(), m.end, m.term) if colour else m
    if m.term.category is not ANATOMY:
        return m
    begin = m.begin
    if text[m.begin:m.begin + 1].isascii():
        # English position words before an English site (Rt. distal radius, left lower lobe).
        position = _EN_POSITION.search(text, max(0, begin - 40), begin)
        begin = position.start() if position else begin
    side = _LATERALITY.search(text, max(0, begin - 7), begin)
    where = _WHERE.match(text, m.end)
    if not (side or where or begin != m.begin):
        return m
    return Match(side.start() if side else begin, where.end() if where else m.end, m.term)


_LABELS = sorted({p.strip() for r in rows("sections.tsv") for p in r[0].split("|") if len(p.strip()) > 1}, key=len, reverse=True)
# A title line: an enumerated, bold or short section label with only glosses after it ("3) PE/V/S (Physical Exam,
# Vital Signs)", "**Assessment**"). What it names is the section to come, not a mention.
_TITLE_LINE = re.compile(
    r"^[ \t]*(?:\*\*|#{1,4}[ \t]*|\d{1,2}[).][ \t]*|[IVX]{1,4}\.[ \t]*)*"
    # (?=[first characters]): one class test per position, before the ~120 labels are tried one by one.
    rf"(?=[{''.join(sorted({re.escape(label[0]) for label in _LABELS}))}])"
    rf"(?P<label>{'|'.join(map(re.escape, _LABELS))})(?![A-Za-z가-힣])"
    r"(?P<rest>[ \t]*(?:[/(,&-][^\n:：]{0,70})?)[ \t]*(?:\*\*)?[ \t]*[:：]?[ \t]*(?:\*\*)?[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_GLOSS = re.compile(r"[\sA-Za-z/(),.&*가-힣-]*")


def title_lines(text: str) -> Spans:
    return Spans([(m.start(), m.end()) for m in _TITLE_LINE.finditer(text) if _GLOSS.fullmatch(m.group("rest"))])




_ADVICE = {r[0]: r[1] for r in rows("advice.tsv") if len(r) >= 2}
_ADVICE_ENDINGS = tuple(_ADVICE.get("ending", "").split(" "))
_ADVICE_SKIP = re.compile("|".join(map(re.escape, _ADVICE.get("skip", "").split())) or r"(?!)")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-•·*▶►]|\d{1,2}[.)])[ \t]*(?P<item>[^\n]+)$", re.MULTILINE)
_HANGUL = re.compile(r"[가-힣]")
_DOSE = re.compile(r"\d\s*(?:mg|mcg|g|mL|ml|IU|U)\b")
_LEAD_FREQUENCY = re.compile(r"(?:\S*\d\S*\s+|매일\s+|하루\s+|주\s+)+")
_PIECE = re.compile(r"[^,，;/]+")
_ADVICE_TERM = Term("", Category.PROCEDURE, "생활 지도", None, None, None, 3, False, False)


def _ends_like_advice(body: str) -> bool:
    """Ends in an instruction ending, maybe with a final '.' or '!' (걷기, 쉬세요!)."""
    return body.endswith(_ADVICE_ENDINGS) or (body[-1] in ".!" and body[:-1].endswith(_ADVICE_ENDINGS))


def advice_items(text: str) -> list[Match]:
    """'- 손톱 짧게 깎기', '짠 음식 줄이기, 다리 올리고 쉬기', '물 많이 먹이세요': advice in list items is a
    procedure (non-drug treatment), one per comma-separated piece that ends like an instruction."""
    out: list[Match] = []
    for m in _LIST_ITEM.finditer(text):
        start = m.start("item")
        for piece in _PIECE.finditer(m.group("item")):
            raw = piece.group()
            body = raw.strip().rstrip(".")
            if len(body) < 3 or len(body) > 30 or not _ends_like_advice(body) or not _HANGUL.search(body) \
                    or _ADVICE_SKIP.search(body) or _DOSE.search(body):
                continue  # a dose makes it a prescription line, not advice
            # Frequency and duration before the advice are attributes, not the mention: 주 5회 30분 걷기 → 걷기.
            lead = _LEAD_FREQUENCY.match(body)
            cut = lead.end() if lead and lead.end() < len(body) else 0
            b = start + piece.start() + len(raw) - len(raw.lstrip()) + cut
            out.append(Match(b, b + len(body) - cut, _ADVICE_TERM._replace(surface=body[cut:])))
    return out


# Advice said outside a list ("타이레놀 드시고 물 많이 드세요"): a clause ending in a polite imperative from the
# advice endings, before a stop or a line end (not a question), from the previous stop, comma or connective -고.
_SPOKEN_ENDINGS = sorted((e for e in _ADVICE_ENDINGS if e.endswith("세요")), key=len, reverse=True)
_SPOKEN_ADVICE = re.compile(rf"(?:{'|'.join(map(re.escape, _SPOKEN_ENDINGS)) or '(?!)'})(?=[ \t]*(?:[.!\n\"'”]|$))")
_CLAUSE_START = re.compile(r"(?:[.,!?\n:;\"'“”)]|[가-힣]고[ \t])[ \t]*")
_CONDITIONAL = re.compile(r"[가-힣]면[ \t]")


def spoken_advice(text: str, lexicon: Lexicon) -> list[Match]:
    """Advice in running text or speech, one clause per instruction; a drug, a plan word or a condition ('열 나면
    … 드세요' is a warning) makes it something else."""
    out: list[Match] = []
    for m in _SPOKEN_ADVICE.finditer(text):
        lo = max(0, m.start() - 40)
        start = lo
        for boundary in _CLAUSE_START.finditer(text, lo, m.start()):
            start = boundary.end()
        line = text.rfind("\n", 0, m.start()) + 1
        if _LIST_ITEM.match(text, line):
            continue  # list items are advice_items'
        body = text[start:m.end()].strip()
        if not 3 <= len(body) <= 30 or _ADVICE_SKIP.search(body) or _DOSE.search(body) or _CONDITIONAL.search(body) \
                or any(t.term.category is MEDICATION for t in lexicon.find(body)):
            continue
        b = start + len(text[start:m.end()]) - len(text[start:m.end()].lstrip())
        out.append(Match(b, b + len(body), _ADVICE_TERM._replace(surface=body)))
    return out


_SPEECH_WORDS = tuple(w for r in rows("patient_speech.tsv") for w in r[0].split())
_QUOTE = re.compile(r"[\"“”「『']([^\"“”」』'\n]{4,45})[\"“”」』']")
_SPEECH_TERM = Term("", Category.SYMPTOM, "환자 호소", None, None, None, 3, False, False)


# Sentences inside one quote: a polite final ending before a comma ("가려워요, 긁다 보면 피가 나요") or a stop.
_SAID_BREAK = re.compile(r"(?<=요)[,，][ \t]*|[.?!]+[ \t]+")


def quoted_complaints(text: str) -> list[tuple[Match, bool]]:
    """Each sentence of quoted patient or carer speech ("허리가 끊어질 것 같아요"), with whether it holds a
    complaint word. The engine keeps the ones that state a complaint as one symptom mention each (guideline:
    patient-voice sentences stay whole)."""
    out: list[tuple[Match, bool]] = []
    for m in _QUOTE.finditer(text):
        pos = m.start(1)
        for part in (*_SAID_BREAK.finditer(text, m.start(1), m.end(1)), None):
            end = part.start() if part is not None else m.end(1)
            said = text[pos:end].strip()
            if said:
                b = pos + len(text[pos:end]) - len(text[pos:end].lstrip())
                out.append((Match(b, b + len(said), _SPEECH_TERM._replace(surface=said)),
                            any(w in said for w in _SPEECH_WORDS)))
            if part is not None:
                pos = part.end()
    return out


def ends_in_predicate(said: str) -> bool:
    """The last word ends in a verb ending (kiwipiepy), so the quote is a clause someone said, not a quoted name."""
    from services.extraction.local.colloquial import analyse

    tokens = analyse(said.rsplit(None, 1)[-1].rstrip(",.?!~"))
    return bool(tokens) and tokens[-1].tag.startswith("E")


# A short test abbreviation followed by its value: IPSS 18, BAI: 22, Qmax 8.5 mL/s, EFW 1,200 g.
# The lookbehind after the capital (the character before it, same matches): re then scans for a capital letter
# instead of trying every position — half the time.
_ABBR_VALUE = re.compile(
    r"(?P<abbr>[A-Z](?<![A-Za-z0-9/.-].)[A-Za-z]{1,5}[0-9]?)(?=[ \t]*[:=]?[ \t]*[<>≤≥]?[ \t]*\d(?!\d{3}[-./])(?![)]))")
_NOT_TESTS = frozenset("PO IV IM SC SQ BID TID QID QD HS PRN PM AM No NO Dr Mr Ms Rm GA ER OR OP ICU POD HD Hx Tx Dx Rx"
                       " LMP EDC EDD HPI CC PI PE Day DAY Room Bed Case Step Grade Stage GOLD Type Class Lab Labs LAB ID SL NC"
                       " CO Pt PT Tab Cap Amp Vial Pack".split())
_ABBR_TERM = Term("", Category.TEST, "", None, None, "abbreviation", 4, True, True)


def abbreviation_tests(text: str, lexicon: Lexicon) -> list[Match]:
    out: list[Match] = []
    for m in _ABBR_VALUE.finditer(text):
        abbr = m.group("abbr")
        known = lexicon.term_for(abbr)
        if abbr in _NOT_TESTS or abbr.lower() in wordform.SALTS_EN or (known is not None and known.category is not TEST):
            continue
        if known is None and dose_follows(text, m.end()):
            continue  # PROLIA 60mg: a dose, so a drug (drugnames), not a result
        out.append(Match(m.start(), m.end(), known or _ABBR_TERM._replace(surface=abbr, normalized=abbr)))
    return out


_AMBIGUOUS = {r[0]: frozenset(r[1].split()) for r in rows("ambiguous_sites.tsv") if len(r) == 2}


def _sense_rules(kind: str) -> dict[str, re.Pattern[str]]:
    """site → one pattern over every rule of that kind (ambiguous_sites.tsv rows: kind, site, regex)."""
    by_site: dict[str, list[str]] = {}
    for r in rows("ambiguous_sites.tsv"):
        if len(r) >= 3 and r[0] == kind:
            by_site.setdefault(r[1], []).append(r[2])
    return {site: re.compile("|".join(f"(?:{p})" for p in patterns)) for site, patterns in by_site.items()}


_OTHER_AFTER = _sense_rules("other_after")
_OTHER_BEFORE = _sense_rules("other_before")
_SPECIALIST_AFTER = re.compile(r"[ \t]?(?:" + "|".join(map(re.escape, _AMBIGUOUS.get("specialist_after", ()))) + ")" if _AMBIGUOUS.get("specialist_after") else "(?!)")
_ITEM_BEFORE = re.compile(r"[가-힣A-Za-z0-9)][ \t]?$")
_CLINICAL_AFTER = re.compile(r"[ \t]?(?:수지|출혈|내시경|검사|경|점막|암|궤양|용종|탈출|부위|통증|손상|천공|협착|주위)")


def is_other_sense(text: str, m: Match, lexicon: Lexicon) -> bool:
    """A body-site match that means something else here: "기침 등의 증상" (등 = etc. after a listed item, itself a
    term or ended by a comma list), "직장 생활" (직장 = workplace, with no clinical word after it)."""
    if m.term.category is not ANATOMY:
        return False
    if in_department_name(text, m.begin, m.end) or _SPECIALIST_AFTER.match(text, m.end):
        return True  # 피부과 외래, 간 전문의: a department or a specialist, not the organ
    surface = text[m.begin:m.end]
    after = _OTHER_AFTER.get(surface)
    if after is not None and after.match(text, m.end):
        return True
    before_rule = _OTHER_BEFORE.get(surface)
    if before_rule is not None and before_rule.search(text, max(0, m.begin - 4), m.begin):
        return True
    if surface in _AMBIGUOUS.get("after_item", ()):
        before = text[max(0, m.begin - 20):m.begin]
        item = _ITEM_BEFORE.search(before)
        if item is None:
            return False
        word = re.split(r"[\s,·/]", before.rstrip())[-1]
        return bool(word) and (lexicon.term_for(word) is not None or "," in before or "·" in before)
    if surface in _AMBIGUOUS.get("workplace", ()):
        return _CLINICAL_AFTER.match(text, m.end) is None
    return False


_CLINICIAN = [w for r in rows("dialogue.tsv") if r[0] == "clinician" for w in r[1].split()]
_CLINICIAN_LINE = re.compile(r"^[ \t]*(?:" + ("|".join(map(re.escape, sorted(_CLINICIAN, key=len, reverse=True))) or "(?!)")
                             + r")[ \t]*[:：]", re.MULTILINE)
_QUESTION = re.compile(r"[^.?!\n]*\?")


def clinician_questions(text: str) -> Spans:
    """The questions in a clinician's turns of a dialogue ("의사: 기침이나 가래는 있어요?"): what they name is asked
    about, and the answer says whether the patient has it."""
    spans: list[tuple[int, int]] = []
    for turn in _CLINICIAN_LINE.finditer(text):
        line_end = text.find("\n", turn.end())
        spans += [q.span() for q in _QUESTION.finditer(text, turn.end(), len(text) if line_end < 0 else line_end)]
    return Spans(spans)

