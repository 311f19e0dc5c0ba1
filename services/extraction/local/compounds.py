"""Whole compounds around a category head, in running text.

A word whose (particle-stripped) stem ends in a head (wordform) is a mention of the head's category
even when no vocabulary lists it (담낭절제술, 폐색전증, 진통제). Bare nouns written before it belong to
the same compound (대장 내시경, 피부 조직 검사, 만성 간염): a dictionary term, a known modifier, or a word
that kiwipiepy analyses as nouns only. kiwipiepy sees only those few neighbouring words, one at a time
and cached, so morphology costs almost nothing per note.

Symptoms are not extended over body sites: the guideline splits 무릎 통증 into 무릎 + 통증.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import compress, count, repeat

from services.domain import Category
from services.extraction.local import wordform
from services.extraction.local.categories import ANATOMY, DIAGNOSIS, MEDICATION, PROCEDURE, SYMPTOM, TEST
from services.extraction.local.colloquial import kiwi
from services.extraction.local.departments import DEPARTMENT_NAMES
from services.extraction.local.lexicon import Lexicon, Match, Term
from services.extraction.local.regions import is_region
from services.extraction.local.resources import rows

# Hepatitis and diabetes types are written with a Latin letter (만성 C형 간염): such a word joins a compound too.
# Written to open with one character class (same matches as "[A-E]형|[가-힣]+"), so re scans for it.
_WORD = re.compile(r"[A-E가-힣](?:(?<=[가-힣])[가-힣]*|(?<=[A-E])형)")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-zÀ-ÖØ-öø-ÿ'-]*\.?")  # Latin letters with accents: Guillain-Barré
# Longest suffix first: leukocytosis is a finding (-cytosis), not an -osis disease.
_EN_SUFFIX = sorted(((suffix, Category(r[1])) for r in rows("english_heads.tsv") if r[0] == "suffix" for suffix in r[2].split()),
                    key=lambda sc: -len(sc[0]))
_EN_WORDS = {w: Category(r[1]) for r in rows("english_heads.tsv") if r[0] == "word" for w in r[2].split()}
# Findings that name something on their own ("crackles", "effusion"), unlike generic heads ("pain", "test").
_EN_ALONE = {w: Category(r[1]) for r in rows("english_heads.tsv") if r[0] == "alone" for w in r[2].split()}
# "radiating pain", "pitting edema": an -ing/-ed participle right before a finding describes it (one word only,
# and not one that reports: "showed effusion").
_EN_REPORTING = frozenset(w for r in rows("english_heads.tsv") if r[0] == "reporting" for w in r[2].split())
_EN_MODIFIERS = frozenset(w for r in rows("english_modifiers.tsv") for w in r[0].split())
# Words that end an English noun phrase on its left: a test or procedure takes up to two other words (Morse fall
# scale, Fundus exam, CLO test), never across these.
_EN_FUNCTION = frozenset("the a an of and or with without no not for on in at to by from as is was are were be been per via"
                         " after before during if then than this that these those his her their its pt patient sliding positive negative".split())
_EN_NOT_HEADS = frozenset("mechanism mechanisms metabolism organism organisms diagnosis prognosis thesis hypothesis emphasis basis dose doses diagram program programme telegram instagram".split())
_NOUN_TAGS = frozenset({"NNG", "NNP", "XR", "XSN", "XPN", "SL", "SN", "NR"})
_MODIFIERS = frozenset(w for r in rows("compound_modifiers.tsv") for w in r[0].split())
_NOT_IN_COMPOUND = frozenset(w for r in rows("compound_stopwords.tsv") for w in r[0].split())
_MAX_LEFT = 3
# The small word lists are data (compound_rules.tsv). How an operation is done (복강경 좌측 난소 낭종 절제술) is part of
# the operation's name, never of the disease's, and an operation's name may be one word longer.
_RULES = {r[0]: r[1].split() for r in rows("compound_rules.tsv") if len(r) >= 2}
_APPROACHES = frozenset(_RULES.get("approach", []))
_LATIN_BEFORE = re.compile(r"(?<![A-Za-z0-9/.-])(?P<w>[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)?) $")
_REFERRAL = frozenset(_RULES.get("referral", []))
_SYMPTOM_CONTROL = frozenset(_RULES.get("symptom_control", []))
_GENERIC_TEST_HEADS = frozenset(_RULES.get("generic_test_head", []))
_GENERIC_TEST_MODIFIERS = frozenset(_RULES.get("generic_test_modifier", []))
_DEPARTMENTS = frozenset(DEPARTMENT_NAMES)
# "부작용에 대한 교육", "징후에 대해 교육합니다": education or counselling about something is a mention by itself
# (advice, guideline), its topic being a phrase of its own rather than a compound.
_ABOUT = re.compile(r"에[ \t]?대(?:한|해서?)[ \t]+$")
_ABOUT_HEADS = frozenset({"교육", "상담"})
# Free heads that annotators mark even alone (환자 및 보호자에게 교육함), unlike 검사 or 치료 alone.
_ALONE_HEADS = frozenset(_RULES.get("alone_head", []))
_OWN_MENTION = frozenset({Category.DIAGNOSIS, Category.SYMPTOM, Category.MEDICATION})
_SOFT_HEADS = tuple(_RULES.get("soft_head", []))
_DESCRIPTIVE_HEADS = frozenset(w for r in rows("descriptive_heads.tsv") for w in r[0].split())
# Reactions that are named conditions (hypersensitivity, allergy, anaphylaxis), unlike a site's reaction.
_DISEASE_REACTIONS = tuple(_RULES.get("disease_reaction", []))

@lru_cache(maxsize=65536)
def _is_noun_word(word: str) -> bool:
    """kiwipiepy says the whole word is nouns (and noun affixes) only: 조직, 대장, 복강경 — not 시행한, 있는."""
    tokens = kiwi().tokenize(word)
    return bool(tokens) and all(t.tag in _NOUN_TAGS for t in tokens)


@lru_cache(maxsize=65536)
def _word_head(word: str) -> tuple[str, Category, bool] | None:
    """(stem, category, bare free head) of a running-text word that ends in a category head, else None. One
    cached lookup per word: most words of a note recur across notes and name nothing."""
    stem = wordform.strip_josa(word)
    if stem in wordform.stopwords():
        # The stop-words block the suffix reading (수술 is no "-술" compound), not a free head's: 고관절 수술.
        return (stem, wordform.FREE_HEADS[stem], True) if stem in wordform.FREE_HEADS else None
    head = wordform.head_of(stem, runtime_only=True)
    if head is not None:
        return stem, head.category, False
    if stem in wordform.FREE_HEADS:
        return stem, wordform.FREE_HEADS[stem], True
    return None


@lru_cache(maxsize=65536)
def english_head(lexicon: Lexicon, word: str) -> tuple[Category, bool, bool] | None:
    """(category, bare generic head, found by word formation) of an English word that heads a phrase, else
    None; cached per word like _word_head."""
    low = word.lower()
    if len(low) < 4 and word.isupper() and len(word) >= 2:
        # Imaging abbreviations head the site written before them: Prostate MRI, brain CT.
        known = lexicon.term_for(word)
        return (known.category, False, False) if known is not None and known.kind == "imaging" else None
    if len(low) < 4 or low in _EN_NOT_HEADS:
        return None
    category = _EN_WORDS.get(low) or _EN_ALONE.get(low)
    bare = low in _EN_WORDS and low not in _EN_ALONE
    if category is None:
        category = _english_suffix(low)
    from_head = category is not None
    if category is None:
        known = lexicon.term_for(word)
        if known is None or not known.ascii or known.category is ANATOMY:
            return None
        category = known.category
    return category, bare, from_head


# English adjectives by their ending (neurocognitive, hepatocellular, psychogenic, idiopathic): they qualify the
# disease or finding after them as the listed modifiers do.
_ADJECTIVE_ENDINGS = tuple(_RULES.get("adjective_ending", []))


_NOT_ADJECTIVES = frozenset(_RULES.get("not_adjective", []))
_EPONYM = re.compile(r"[A-Z][a-zà-öø-ÿ]+(?:-[A-Z][a-zà-öø-ÿ]+)?(?:'s)?")


def _adjective(word: str) -> bool:
    low = word.lower()
    return (len(low) >= 6 and low.endswith(_ADJECTIVE_ENDINGS) and low not in _EN_FUNCTION and low not in _EN_REPORTING
            and low not in _NOT_ADJECTIVES)


def _eponym(word: str) -> bool:
    """A capitalised name right before a disease or sign head: Guillain-Barré syndrome, Kernig sign, Bell's palsy."""
    return _EPONYM.fullmatch(word) is not None and word.lower() not in _EN_FUNCTION and word.lower() not in _NOT_ADJECTIVES


def _participle(word: str) -> bool:
    low = word.lower()
    return len(low) >= 6 and low.endswith(("ing", "ed")) and low not in _EN_REPORTING and low not in _EN_FUNCTION


@lru_cache(maxsize=65536)
def _english_suffix(word: str) -> Category | None:
    return next((c for suf, c in _EN_SUFFIX if word.endswith(suf) and len(word) - len(suf) >= 3), None)


_NOUN_CACHE_SIZE = 65536


class CompoundFinder:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._noun_cache: dict[tuple[str, Category, str], bool] = {}

    def _noun_like(self, word: str, category: Category, head: str = "") -> bool:
        """_noun_like_uncached, remembered per (word, category, head): the answer depends on nothing else (this
        finder's lexicon and the module's word lists), and ~16 words a note ask it, mostly words seen before."""
        key = (word, category, head)
        known = self._noun_cache.get(key)
        if known is None:
            if len(self._noun_cache) >= _NOUN_CACHE_SIZE:
                self._noun_cache.clear()  # bounded, like the module's lru_caches
            known = self._noun_cache[key] = self._noun_like_uncached(word, category, head)
        return known

    def _noun_like_uncached(self, word: str, category: Category, head: str) -> bool:
        if word in _NOT_IN_COMPOUND or (word in _APPROACHES and category is not PROCEDURE):
            return False
        if len(word) < 2:
            # One syllable: only an organ before a disease head (간 질환, 폐 질환, 신 부전).
            site = self.lexicon.term_for(word)
            return category is DIAGNOSIS and site is not None and site.category is ANATOMY
        if len(word) > 2 and word.endswith("상") and self.lexicon.term_for(word[:-1]) is not None:
            return False  # "심전도상 이상": on the ECG (a locative), not part of the finding's name
        if word in _MODIFIERS:
            return True
        stem = wordform.strip_josa(word)
        if stem != word and (self.lexicon.term_for(stem) is not None or not _is_noun_word(word)):
            # A particle ends the noun phrase (혈액을 검사 is not one term); a noun that only ends in a syllable a
            # particle is written with (항응고, 혈소판) is no such word — unless what stands before that syllable is
            # a term itself: 흉통과 호흡곤란 is two symptoms, though kiwipiepy reads 흉통과 as 흉 + 통과.
            return False
        other = wordform.FREE_HEADS.get(word, category)
        if other is not category and PROCEDURE in (other, category):
            return False  # 섬유 섭취 | 증가: a treatment word closes its own compound (기능 장애 stays one)
        term = self.lexicon.term_for(word)
        if head in _GENERIC_TEST_HEADS:
            # 심장 평가, 정신과적 평가, 수면 패턴 모니터링 name an assessment; after a term (혈소판 수치 모니터링,
            # 부작용 모니터링) or a which-word (여부, 변화) the term is the mention and the word is generic.
            # A -성 quality noun (안정성, 필요성) assesses no body function either.
            if word in _GENERIC_TEST_MODIFIERS or (term is not None and term.category is not ANATOMY) or (
                    len(word) >= 3 and word.endswith("성")):
                return False
            own = _word_head(word)
            if own is not None and not own[2]:
                return False
        if term is None and category is PROCEDURE and head in wordform.FREE_HEADS:
            # 방광암 치료, 항진균제 치료: a word whose own head names a disease or drug is its own mention, and the
            # treatment word after it is generic, as for a listed disease or drug.
            own = _word_head(word)
            if own is not None and not own[2] and own[1] in _OWN_MENTION:
                return False
        if term is not None and category is DIAGNOSIS and term.category in (TEST, PROCEDURE):
            return False  # "복강경 좌측 난소 낭종 절제술": the approach belongs to the operation, not the disease
        if term is None and category is SYMPTOM and is_region(word, self.lexicon):
            return head in _DESCRIPTIVE_HEADS  # 대퇴부 통증: an unlisted region splits off like a listed site
        if term is not None and category is SYMPTOM and term.category is ANATOMY:
            # The guideline splits site + complaint (무릎 + 통증); a descriptive finding names the organ's change and
            # keeps it (좌심방 확장, 고막 팽윤, 비장 종대).
            return head in _DESCRIPTIVE_HEADS
        if term is not None:
            # 골다공증 치료, 항응고제 치료: a disease or drug before a treatment word is its own mention,
            # and the treatment word is generic.
            # A specific operation is named by what it removes, frees or drains, though: 난소 낭종 절제술, 골반 유착
            # 박리술, 복수 천자 (a generic word — 치료, 수술 — is not).
            if category is PROCEDURE and term.category is SYMPTOM and head in _SYMPTOM_CONTROL:
                return True  # 통증 조절: controlling a complaint is a treatment, as annotators mark it
            return not (category is PROCEDURE and term.category in _OWN_MENTION
                        and not (head not in wordform.FREE_HEADS and term.category is not MEDICATION))
        return _is_noun_word(word)

    def _subtype_before(self, text: str, prev: re.Match[str], word: re.Match[str], out: list[Match]) -> bool:
        """"임신성 당뇨", "알레르기성 비염", "활동성 출혈": an adjectival -성 noun written before a disease or finding
        the vocabulary names gives its subtype, which the guideline keeps in the mention; the disease has no head to find it by."""
        before = prev.group()
        if not before.endswith("성") or len(before) < 3 or text[prev.end():word.start()] != " ":
            return False
        stem = wordform.strip_josa(word.group())
        term = self.lexicon.term_for(stem)
        if term is None or term.category not in (DIAGNOSIS, SYMPTOM) or not _is_noun_word(before):
            return False
        surface = text[prev.start():word.start() + len(stem)]
        known = self.lexicon.term_for(surface)
        category = term.category  # a finding's subtype too: 활동성 출혈, 지속성 두통
        out.append(Match(prev.start(), word.start() + len(stem), known if known is not None and known.category is
                         category else Term(surface, category, term.normalized if category is SYMPTOM else surface,
                                            None, None, None, 5, False, False)))
        return True

    def find(self, text: str) -> list[Match]:
        return self._korean(text) + self._english(text)

    def _english(self, text: str) -> list[Match]:
        """The same idea for English phrases in Korean notes: -itis/-ectomy/-scopy words and head nouns
        (infarction, effusion, resection) with the adjectives and sites before them."""
        found_words = list(_EN_WORD.finditer(text))
        # (begin, end, word) and the heads built in C (map, zip): ~50 English words a note, few of them heads.
        strings = list(map(str.rstrip, map(re.Match.group, found_words), repeat(".")))
        words = list(zip(map(re.Match.start, found_words), map(re.Match.end, found_words), strings, strict=True))
        heads = list(map(english_head, repeat(self.lexicon), strings))
        out: list[Match] = []
        for i in compress(count(), heads):
            begin, _, word = words[i]
            category, bare, from_head = heads[i]  # type: ignore[misc]
            start = begin
            j = i - 1
            while j >= 0 and i - j <= _MAX_LEFT:
                b, e, prev = words[j]
                gap = text[e:start]
                site = self.lexicon.term_for(prev)
                if text[e - 1] == "." and prev.lower() not in _EN_MODIFIERS:
                    break  # "positive. K-MMSE": a sentence ends there
                noun = (from_head and category in (TEST, PROCEDURE, MEDICATION) and i - j <= 2
                        and prev.lower() not in _EN_FUNCTION and (site is None or site.category is category)
                        and (len(prev) >= 3 or (len(prev) == 2 and prev.isupper())))
                if gap.strip(". ") or len(gap) > 2 or not (
                        prev.lower().rstrip(".") in _EN_MODIFIERS or noun or (
                            category in (SYMPTOM, DIAGNOSIS) and (_adjective(prev) or (j == i - 1 and _eponym(prev))))
                        or (site is not None and site.category is ANATOMY) or (
                            j == i - 1 and category in (SYMPTOM, DIAGNOSIS) and _participle(prev))):
                    break
                start = b
                j -= 1
                if j == i - 2 and prev.lower() not in _EN_MODIFIERS and _participle(prev):
                    break  # "Rt. leg radiating pain": the participle opens the finding, the site before it is its own
            word_end = begin + len(word)
            if bare and start == begin:
                continue  # "pain", "test" alone: the vocabulary decides
            surface = text[start:word_end]
            known = self.lexicon.term_for(surface)
            # The head decides the category (word formation); a vocabulary entry of the same category adds its code.
            term = known if known is not None and known.category is category else Term(
                surface, category, surface.lower(), None, None, None, 5, True, False)
            out.append(Match(start, word_end, term))
        return out

    def _korean(self, text: str) -> list[Match]:
        words = list(_WORD.finditer(text))
        # The words' strings and heads in C-level passes: ~150 words a note, ~10% of them with a head; the loop
        # visits only those and the words after an -성 word (compress and map run in C).
        strings = list(map(re.Match.group, words))
        heads = list(map(_word_head, strings))
        after_seong = compress(count(1), map(str.endswith, strings, repeat("성")))
        out: list[Match] = []
        for i in sorted({*compress(count(), heads), *after_seong}):
            if i == len(words):
                continue
            found = heads[i]
            if found is None:
                if i and strings[i - 1].endswith("성"):
                    self._subtype_before(text, words[i - 1], words[i], out)
                continue
            stem, category, bare = found
            begin = start = words[i].start()
            j = i - 1
            while j >= 0 and i - j <= _MAX_LEFT + (category is PROCEDURE):
                b, e = words[j].span()
                prev = strings[j]
                if text[e:start] != " " or (b and text[b - 1].isdigit()) or not self._noun_like(prev, category, stem):
                    break  # (5일간 치료: a counter after a number is no modifier)
                start = b
                j -= 1
            if category is TEST and start == begin:
                # KOH 검사, EASI 점수, Dix-Hallpike 검사: a Latin name the vocabulary does not know is the test's name.
                latin = _LATIN_BEFORE.search(text, max(0, begin - 24), begin)
                if latin is not None and self.lexicon.term_for(latin.group("w")) is None:
                    start = latin.start("w")
            if category is PROCEDURE and any(w in _REFERRAL or w in _DEPARTMENTS for w in strings[j + 1:i]):
                continue  # 입원 치료, 소화기 내과 상담: a visit or a referral, not a treatment (guideline)
            if bare and start == begin and stem not in _ALONE_HEADS and not (
                    stem in _ABOUT_HEADS and _ABOUT.search(text, max(0, begin - 8), begin)):
                continue  # 검사, 치료 alone are generic words (추가 검사 예정), not mentions
            known = self.lexicon.term_for(text[start:begin + len(stem)])
            if stem.endswith(_SOFT_HEADS) and category is Category.SYMPTOM:
                # 반응 names a finding (주사 부위 반응) unless what reacts is a disease (알레르기 반응, 과민반응).
                if known is not None and known.category is Category.DIAGNOSIS or any(r in text[start:begin] + stem for r in _DISEASE_REACTIONS) or any(
                        (t := self.lexicon.term_for(wordform.strip_josa(x.group()))) is not None
                        and t.category is Category.DIAGNOSIS for x in words[j + 1:i]):
                    category = Category.DIAGNOSIS
            term = known if known is not None and (known.category is category or start == begin) else Term(text[start:begin + len(stem)], category, text[start:begin + len(stem)], None, None, None,
                                 5, False, False)
            out.append(Match(start, begin + len(stem), term))
        return out

