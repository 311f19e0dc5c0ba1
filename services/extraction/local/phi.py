"""PHI recognizers (one interface, a registry) and stable masking for cloud engines.

Recognizers return (begin, end, phi_type). Korean names are found from context (이름:, …님,
…씨, 보호자) and checked against common surnames, because a bare two-syllable word is far
more often a noun than a name.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from services.extraction.local.resources import rows
from services.extraction.local.textutil import Occurrences, required_substrings

PhiSpan = tuple[int, int, str]
Recognizer = Callable[[str], Iterable[PhiSpan]]


def _matches_at(pattern: re.Pattern[str], text: str, starts: Iterable[int], begin: int = 0,
                end: int | None = None) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text, begin, end)``, trying the pattern only at ``starts`` (ascending). Patterns that
    open with a lookbehind get no fast first-character scan from ``re`` and try every position; ``starts`` must
    hold every possible match start (more is harmless) and ``pattern`` must never match empty, so the matches
    are exactly finditer's."""
    end = len(text) if end is None else end
    pos = begin
    for p in starts:
        if p >= pos:
            m = pattern.match(text, p, end)
            if m is not None:
                yield m
                pos = m.end()


def _finditer_at(pattern: re.Pattern[str], starts: re.Pattern[str], text: str, begin: int = 0,
                 end: int | None = None) -> Iterator[re.Match[str]]:
    """_matches_at where ``starts`` finds the characters a match can begin with."""
    return _matches_at(pattern, text, map(re.Match.start, starts.finditer(text, begin, end or len(text))), begin, end)


def _is_syllable(ch: str) -> bool:
    return "가" <= ch <= "힣"


def _word_start(text: str, pos: int) -> int:
    """Where the Hangul word around ``pos`` begins."""
    while pos > 0 and _is_syllable(text[pos - 1]):
        pos -= 1
    return pos


def _automaton(words: Iterable[str]) -> Occurrences[None]:
    return Occurrences(dict.fromkeys(words))

SURNAMES = (
    "남궁 황보 제갈 선우 독고 사공 서문 김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 유 전 홍 고 문 양 손 배"
    " 백 허 남 심 노 하 곽 성 차 주 우 구 민 진 나 엄 채 원 천 방 공 현 함 변 염 여 추 도 소 석 선 설 마 길 연 위 표"
    " 명 기 반 라 왕 금 옥 육 인 맹 제 모 탁 국 어 은 편 용 예 경 봉 사 부 지 태 피 감"
).split()
_SURNAME_RE = "|".join(sorted(SURNAMES, key=len, reverse=True))
# Words that look like surname + syllables before 님/씨 but are not names.
_NOT_NAMES = frozenset(
    "환자 보호자 어머 아버 어머니 아버지 할머니 할아버지 선생 교수 의사 간호사 고객 사모 부모 형 누 오빠 언니 동생 아드 따"
    " 원장 과장 주치의 담당 선배 후배 여러분 손님 정 이분 그분 저분 이쪽 방문 조카 이모 고모 삼촌 남편 부인 아내 아들 딸 기사"
    " 남자 여자 남성 여성 남아 여아 소아 성인 노인 유아 신 민원 김치 이상 이전 이후 정상 조금 하루 나머지 우리 모두 오늘 내일 어제 지금 이번 다음 유지 안정 고생 수고".split()
)
_HANGUL_NAME = rf"(?:{_SURNAME_RE})[가-힣]{{1,2}}"
# Names already half-masked in the source ("김OO님", "이○○", "박**") still mark a person.
_MASK_MARK = re.compile(r"(?:OO|○○|ㅇㅇ|\*\*|XX|△△|◯◯)(?![A-Za-z])")
_SURNAME_SET = frozenset(SURNAMES)
_LATIN_NAME = r"[A-Z][a-z]+(?:[ -][A-Z][a-z]+){1,2}|[A-Z]{2,}(?: [A-Z][a-z]+){1,2}"

_LABELLED_NAME = re.compile(
    r"(?:이름|성명|환자명|환자\s*이름|환자\s*[:：]|환아\s*[:：]|보호자|보호자명|담당의|주치의|담당\s*의사|판독의|작성자|간호사|의사|기록자|Name|Patient|Pt\.?|Physician|Dr\.?|Reported by|Signed by)"
    rf"\s*[:：]?\s*(?P<name>{_HANGUL_NAME}|{_LATIN_NAME})(?![가-힣])"
)
# "진료의: 박지훈", "마취의: …": a word ending in 의 (醫, physician) right before a colon is a doctor's role; the
# possessive particle 의 never stands before one. (Its own pattern, opening with 의, so re scans for that.)
_DOCTOR_LABEL = re.compile(rf"의(?<=[가-힣]의)[ \t]*[:：]\s*[:：]?\s*(?P<name>{_HANGUL_NAME}|{_LATIN_NAME})(?![가-힣])")
# Context first, then look back for the name: scanning for ~100 surnames at every character
# was the slowest PHI step.
_HONORIFIC = re.compile(r"님|씨|환자|선생님|교수님|보호자|간호사|원장님|과장님")
_DEMOGRAPHIC = re.compile(r"(?:만\s*)?\d{1,3}\s*세|\(\s*(?:[MF]\s*/|\d{1,3}\s*/\s*[MF]|[남여])|(?<=/)\d{1,3}\s*/\s*[MF남여](?![A-Za-z가-힣])")
# Where a match can begin: 만 before a number, a digit up to two digits before 세, a '(' before a sex or age.
_DEMOGRAPHIC_STARTS = re.compile(r"[만\d(](?:(?<=만)(?=\s*\d)|(?<=\d)(?=\d{0,2}\s*세)|(?<=\()(?=\s*(?:[MF\d남여]))|(?<=/\d)(?=\d{0,2}\s*/\s*[MF남여]))")
_NAME_FULL = re.compile(_HANGUL_NAME)


def _name_before(text: str, end: int, max_gap: int) -> tuple[int, int] | None:
    """The 2–4 syllable Hangul word ending at most `max_gap` spaces before `end`, if it is a
    surname-led word on its own (not the tail of a longer word) and not a common noun."""
    gap = 0
    while end > 0 and text[end - 1] == " " and gap < max_gap:
        end -= 1
        gap += 1
    begin = end
    while begin > 0 and "가" <= text[begin - 1] <= "힣" and end - begin <= 4:
        begin -= 1
    if begin > 0 and "가" <= text[begin - 1] <= "힣":
        return None
    name = text[begin:end]
    if not 2 <= len(name) <= 4 or not _NAME_FULL.fullmatch(name):
        return None
    if name in _NOT_NAMES or (name[:2] in _NOT_NAMES and not _one_name_word(name)):
        return None
    return begin, end


@lru_cache(maxsize=4096)
def _one_name_word(name: str) -> bool:
    """A three-syllable name that starts like a common word (이상훈, 하지민) is still a name when kiwipiepy reads it as
    one noun; a compound (이상소견 = 이상 + 소견, 하지통증) splits."""
    from services.extraction.local.colloquial import kiwi

    tokens = kiwi().tokenize(name)
    return len(name) == 3 and len(tokens) == 1 and tokens[0].tag in ("NNP", "NNG")
_AGE = re.compile(
    r"(?<![\d.])(?:만\s*)?\d{1,3}\s*(?:세|살)(?:\s?\d{1,2}\s?개월)?(?![가-힣])|(?<=[남여]아,\s)\d{1,2}\s?개월(?![가-힣])|(?<![\w.])\d{1,3}\s*(?:yo|y/o|YO|Y/O|yrs|years old|세\b)"
    r"|(?<![\d.])\d{1,2}0(?=대\s*(?:초반|중반|후반)?\s*(?:남성|여성|남자|여자|남|여|환자|노인)(?:으로|이며|이고|이|은|의|과)?(?![가-힣]))"
    r"|(?<=생후\s)\d{1,2}\s?개월(?![가-힣])"
    r"|(?<=나이[:：])\s*\d{1,3}|(?<=Age[:：])\s*\d{1,3}|(?<![\w/])\d{1,3}(?=\s*/\s*(?:[MF](?![A-Za-z])|[남여](?![가-힣])))|(?<=[MF]/)\d{1,3}(?!\d)|(?<=[가-힣]/)\d{1,3}(?=/[MF남여](?![A-Za-z가-힣]))|(?<![\w.])\d{1,3}(?=\s?[yY]\s?/?\s?[MF](?![a-z]))|(?<=[남여]/)\d{1,3}(?!\d)"
)
_SEX = re.compile(
    r"(?<=성별[:：])\s*(?:남성|여성|남자|여자|남|여|M|F)|(?<=Sex[:：])\s*(?:Male|Female|M|F)"
    r"|(?<=\d/)[MF](?![A-Za-z])|[MF](?=/\d)|(?<=세)\s*/?\s*(?:남성|여성|남자|여자|남|여)(?![가-힣]?[가-힣])"
    r"|(?<=대\s)(?:남성|여성|남자|여자)|(?<=\d대)(?:남성|여성)|(?<=세\s)(?:남아|여아)|(?<=세)(?:남아|여아)"
    r"|(?<=성별/나이:)\s*(?:남|여|M|F)|(?<=성별/나이: )(?:남|여|M|F)"
    r"|(?<=\d세\s)[MF](?![A-Za-z])|(?<![A-Za-z])[MF](?=\s*/\s*\d{1,3}\s*세)|(?<=\()[남여](?=\s*[,/]\s*\d{1,3}\s*세)"
    r"|(?<=세\s)(?:남성|여성|남자|여자)|(?<=세 )(?:남|여)(?=\s|/|,|\))|(?<![가-힣])(?:남|여)(?=\s*/\s*\d{1,3}\s*세)"
    r"|(?<![A-Za-z])(?:male|female)(?![A-Za-z])|(?<=\d[yY]\s)[MF](?![A-Za-z])|(?<=\d[yY]/)[MF](?![A-Za-z])"
    r"|(?<=\()(?:남아|여아)(?=\s*[,/])"
    r"|(?<=\d/)[남여](?![가-힣])|(?<=\d\s/\s)[남여](?![가-힣])|(?<![가-힣])[남여](?=\s?/\s?\d{1,3}(?!\d))"
)
# Lookbehinds after the first character (same matches): re then scans for that character instead of trying
# every position.
_RRN = re.compile(r"\d(?<!\d\d)\d{5}\s?-\s?[1-8][\d*]{6}(?!\d)")
_PHONE = re.compile(r"(?<![\d-])(?:\+82[-\s]?)?(?:0\d{1,2})[-.)\s]\s?\d{3,4}[-.\s]\d{4}(?!\d)|(?<!\d)01[016789]\d{7,8}(?!\d)")
_CHART = re.compile(
    r"(?:등록번호|환자번호|차트번호|챠트번호|병록번호|진료번호|수검번호|검진번호|접수번호|등록(?=\s*[:：]?\s*\d{6})|MRN|ER\s?#|ER\s*No\.?|Chart\s*No\.?|Patient\s*ID|환자\s*ID|ID)"
    r"\s*[:：#]?\s*(?P<id>[A-Za-z]{0,3}-?\d[\dA-Za-z-]{3,})"
)
_HASH_ID = re.compile(r"#(?<![\w#&]#)\s?(?P<id>[A-Z]{0,3}\d{5,12})(?!\d)")
_INSURANCE_ID = re.compile(r"(?:보험증\s*번호|건강보험증\s*번호|증번호|보험\s*번호|가입자\s*번호|Insurance\s*(?:No\.?|ID))\s*[:：#]?\s*(?P<id>[A-Za-z0-9-]{5,20})")
_LICENSE = re.compile(r"(?:면허\s*번호|면허번호|의사\s*면허|약사\s*면허|License\s*No\.?)\s*[:：#]?\s*(?:제\s*)?(?P<id>[A-Za-z0-9-]{3,12})\s*호?")
_EXTENSION = re.compile(r"(?:내선|교환|ext\.?|Ext\.?)\s*[:：]?\s*(?P<ext>\d{3,5})(?!\d)")
_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d{2}\s?[-./]\s?\d{1,2}\s?[-./]\s?\d{1,2}(?!\d)\.?"
    r"|(?<![\d.])\d{2}\.(?:0?[1-9]|1[0-2])\.(?:0?[1-9]|[12]\d|3[01])(?![\d.])"
    r"|(?<!\d)(?:19|20)\d{2}\s?년\s?\d{1,2}\s?월\s?\d{1,2}\s?일"
    r"|(?<![\d.])\d{1,2}\s?월\s?\d{1,2}\s?일"
    r"|(?<!\d)(?:19|20)\d{2}\s?년\s?\d{1,2}\s?월(?!\s?\d)"
    r"|(?<![\d/.:])(?:1[0-2]|0?[1-9])/(?:3[01]|[12]\d|0?[1-9])(?![\d/])(?!\s*(?:mg|mL|ml|회|개|일|주|tab|T\b))"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_PROVINCES = (
    "서울특별시|서울시|서울|부산광역시|부산시|부산|대구광역시|대구|인천광역시|인천|광주광역시|대전광역시|대전|울산광역시|울산|"
    "세종특별자치시|세종시|경기도|경기|강원특별자치도|강원도|충청북도|충북|충청남도|충남|전북특별자치도|전라북도|전북|"
    "전라남도|전남|경상북도|경북|경상남도|경남|제주특별자치도|제주도|제주"
)
_ADDRESS = re.compile(
    rf"(?<![가-힣])(?:{_PROVINCES})\s+[가-힣]+(?:시|군|구)(?:\s+[가-힣]+(?:구|시|군))?"
    r"(?:\s+[가-힣\d]+(?:로|길|동|읍|면|리|가)(?:\s?\d+(?:-\d+)?(?:번길)?)?)*"
    r"(?:\s?\d+(?:-\d+)?(?:번지)?)?(?:,?\s?[가-힣A-Za-z]*(?:아파트|빌라|빌딩|타워))?(?:\s?\d+동)?(?:\s?\d+호)?"
)
# Romanised Korean ("123 Teheran-ro, Gangnam-gu, Seoul") and English street addresses.
_LATIN_ADDRESS = re.compile(
    r"\b\d{1,5}(?:-\d{1,4})?,?\s+(?:[A-Z][a-z]+[- ]?){1,3}"
    r"(?:-(?:ro|gil|daero)|\s(?:St|Street|Ave|Avenue|Rd|Road|Blvd|Boulevard|Dr|Drive|Ln|Lane|Way))\b\.?"
    r"(?:,?\s*(?:[A-Z][a-z]+-(?:gu|si|gun|dong|do)|Seoul|Busan|Incheon|Daegu|Daejeon|Gwangju|Ulsan|[A-Z][a-z]+))*"
)
_ADDRESS_STARTS = re.compile(_PROVINCES)
_LABELLED_ADDRESS = re.compile(r"(?:주소|거주지|Address)\s*[:：]\s*(?P<addr>[^\n]{4,80})|(?:우편번호|우\)|Zip|ZIP)\s*[:：]?\s*(?P<zip>\d{5})(?!\d)")


def _names_before_demographics(text: str) -> Iterable[PhiSpan]:
    """A Korean name right before an age or sex ("이준호 59세 남", "서민재 (M/71)")."""
    for m in _finditer_at(_DEMOGRAPHIC, _DEMOGRAPHIC_STARTS, text):
        end = m.start()
        # "정태식 / 71세", "서민재 (M/71)", "이서연 / F / 27세": separators (and a sex between) before the age or sex.
        while end > 0 and text[end - 1] in "( /,":
            end -= 1
            if end > 0 and text[end - 1] in "MF남여" and (end < 2 or text[end - 2] in "( /,"):
                end -= 1
        span = _name_before(text, end, max_gap=2)
        if span:
            yield span[0], span[1], "name"


# A Latin-script name in running text, known by what follows it: an age, sex or phone ("John Smith, 45",
# "Mary Jones (F/62)", "John Smith, 010-…"). Capitalised clinical phrases ("Chest Pain, 3 days") are not names.
_LATIN_IN_TEXT = re.compile(r"(?P<name>[A-Z](?<![A-Za-z.][A-Z])[a-z]+(?: [A-Z][a-z]+){1,2})(?=\s*[,(]\s*(?:\d|[MF](?![a-z])|Male|Female|age))")
_NOT_LATIN_NAMES = frozenset(
    "patient chest blood history pain fever cough lung heart left right upper lower acute chronic vital signs"
    " physical exam assessment plan impression findings diagnosis medication test day week month year dose".split())


def _latin_names(text: str) -> Iterable[PhiSpan]:
    for m in _LATIN_IN_TEXT.finditer(text):
        words = m.group("name").lower().split()
        if not any(w in _NOT_LATIN_NAMES for w in words):
            yield m.start("name"), m.end("name"), "name"


def _masked_names(text: str) -> Iterable[PhiSpan]:
    """Names already half-masked in the source ("김OO님", "이○○", "남궁**") still mark a person."""
    for m in _MASK_MARK.finditer(text):
        for size in (2, 1):  # two-syllable surnames first
            b = m.start() - size
            if b >= 0 and text[b:m.start()] in _SURNAME_SET and (b == 0 or not "가" <= text[b - 1] <= "힣"):
                yield b, m.end(), "name"
                break


def _labelled_names(text: str) -> Iterable[PhiSpan]:
    for m in (*_LABELLED_NAME.finditer(text), *_DOCTOR_LABEL.finditer(text)):
        name = m.group("name")
        if name not in _NOT_NAMES and name not in _ROLE_WORDS and not any(name.startswith(w) for w in ("환자", "보호")) and not (
                len(name) >= 3 and not name.isascii() and _inflected(name)) and not (
                name.endswith("과") and text.startswith(" ", m.end("name"))):  # "주치의: 신경과 권도현": a department
            yield m.start("name"), m.end("name"), "name"


def _honorific_names(text: str) -> Iterable[PhiSpan]:
    for m in _HONORIFIC.finditer(text):
        span = _name_before(text, m.start(), max_gap=1)
        if span:
            yield span[0], span[1], "name"


_ROLES: dict[str, list[str]] = {r[0]: sorted(r[1].split(), key=len, reverse=True) for r in rows("phi_roles.tsv") if len(r) >= 2}
_ROLE_BEFORE = re.compile(
    rf"(?<![가-힣A-Za-z0-9])(?:{'|'.join(map(re.escape, _ROLES.get('before', [])))})[ \t]*\)?[ \t]*[:：(/]?[ \t]*"
    r"(?P<name>[가-힣]{3,4}?)(?:이|가|은|는|을|를|의|와|과|께서|에게|도|이가)?(?![가-힣])"
    r"|(?<![가-힣])[가-힣]{1,10}과[ \t]*\(?[ \t]*(?P<dname>[가-힣]{3,4})(?![가-힣])"
)
_ROLE_AFTER = re.compile(
    rf"(?<![가-힣])(?P<name>[가-힣]{{3,4}})[ \t]?\(?(?:{'|'.join(map(re.escape, _ROLES.get('after', [])))})\)?(?![가-힣])"
)


# Where the role patterns can start a match (one native pass finds every role word, overlapping ones too): a role
# word after a non-word character, a Hangul word up to ten syllables before 과 (a department), and a name three
# to six characters before a role word written after it. Trying only there gives search()'s matches.
# A role or relation word is never the name beside it ("보호자: 배우자 김말순").
_ROLE_WORDS = frozenset(w for words in _ROLES.values() for w in words)
_BEFORE_ROLES = _automaton([*_ROLES.get("before", []), "과"])
_AFTER_ROLES = _automaton(_ROLES.get("after", []))


def _role_starts(text: str) -> tuple[list[int], list[int]]:
    before: set[int] = set()
    for _, k, end in _BEFORE_ROLES.find(text):
        if end - k == 1 and text[k] == "과":
            s = _word_start(text, k)
            if 1 <= k - s <= 10:
                before.add(s)
        if k == 0 or not (_is_syllable(text[k - 1]) or (text[k - 1].isascii() and text[k - 1].isalnum())):
            before.add(k)
    after = {s for _, k, _ in _AFTER_ROLES.find(text) for s in range(max(0, k - 6), k - 2)
             if _is_syllable(text[s]) and (s == 0 or not _is_syllable(text[s - 1]))}
    return sorted(before), sorted(after)


def _search_at(pattern: re.Pattern[str], text: str, starts: list[int], pos: int) -> re.Match[str] | None:
    for p in starts[bisect_left(starts, pos):]:
        m = pattern.match(text, p)
        if m is not None:
            return m
    return None


def _role_names(text: str) -> Iterable[PhiSpan]:
    """Names in running text, by the role or relation written next to them: "R2 한지수 → 당직 R1 오태민",
    "집도의: 서정우", "딸 김선영", "정형외과 (조승현)", "송지아 간호사". Two-syllable names are left to the
    honorific recognizer (인계, 진술 are words)."""
    before, after = _role_starts(text)
    for pattern, starts in ((_ROLE_BEFORE, before), (_ROLE_AFTER, after)):
        pos = 0
        while (m := _search_at(pattern, text, starts, pos)) is not None:
            group = "dname" if m.groupdict().get("dname") else "name"
            name = m.group(group)
            if (not _NAME_FULL.fullmatch(name) or name in _NOT_NAMES or (name[:2] in _NOT_NAMES and not _one_name_word(name))
                    or name in _ROLE_WORDS or (name.endswith("과") and text.startswith(" ", m.end(group)))
                    or (_inflected(name) if pattern is _ROLE_AFTER or group == "dname" or _is_syllable(text[m.start(group) - 1])
                        else _clause_word(name))):  # (a name glued to its role word, 처방받음, gets the strict test)
                # Not a name, but it may be a role itself ("보호자: 어머니 이수정"): search again from it.
                pos = m.start(group) if m.start(group) > m.start() else m.end()
                continue
            pos = m.end()
            yield m.start(group), m.end(group), "name"


@lru_cache(maxsize=16384)
def _inflected(word: str) -> bool:
    """kiwipiepy reads the word as a verb or adjective form or with a particle ("부르면", "하는데"): not a name."""
    from services.extraction.local.colloquial import kiwi

    # Particles count only as the common case markers: a name may end in a syllable kiwipiepy reads as one (신유나).
    return any(t.tag[0] in "VE" or t.tag in ("XSV", "XSA") or (t.tag[0] == "J" and t.form in _CASE_MARKERS)
               for t in kiwi().tokenize(word))


_CASE_MARKERS = frozenset("은 는 이 가 을 를 의 에 도 와 과 로 으로 에서 에게 께서 만".split())


@lru_cache(maxsize=16384)
def _clause_word(word: str) -> bool:
    """Right after a staff role (전임의 권나래, RN 송지은) a name is expected, and kiwipiepy often reads one as a verb
    with a final or adnominal ending (권 + 나 + 래, 송 + 짓 + 은): only a connective, tense or nominal ending, a verb
    suffix or a case marker shows the word is a clause (부르면, 하였음, 설명함, 처방받음)."""
    from services.extraction.local.colloquial import kiwi

    return any(t.tag in ("EC", "EP", "ETN", "XSV", "XSA") or (t.tag[0] == "J" and t.tag != "JKQ" and t.form in _CASE_MARKERS)
               for t in kiwi().tokenize(word))


# Hospitals, clinics, insurers and employers written by name. The kind alone, or with a generic word before it
# (대학병원, 인근 의원, 요양병원, 권역응급의료센터), names no one.
_ORG_KINDS = ("대학교병원", "대학병원", "병원", "의원", "의료원", "의료센터", "센터", "보건소", "클리닉", "한의원", "치과", "약국",
              "건강보험공단", "보험공단", "건강보험", "생명", "화재", "손해보험", "해상", "공단", "전자", "건설", "물산", "주식회사",
              "초등학교", "중학교", "고등학교", "대학교", "유치원", "어린이집", "지검", "지방법원", "법원", "경찰서", "소방서",
              "구청", "시청", "은행", "증권", "자동차", "제약", "항공", "백화점", "물류", "통운", "상사")
# A particle may follow the name (연세내과의원에서, 한빛약국으로).
_ORG_PARTICLES = ("에서는", "에서", "으로", "에게", "까지", "부터", "로", "에", "의", "은", "는", "이", "가", "을", "를", "과", "와", "도")
_ORG_PARTICLE = "|".join(_ORG_PARTICLES)
_ORG = re.compile(rf"(?<![가-힣])(?P<prefix>[가-힣]{{1,12}}?)(?P<kind>{'|'.join(_ORG_KINDS)})(?=(?:{_ORG_PARTICLE})?(?![가-힣]))"
                  r"|(?:\(주\)|㈜)\s?[가-힣A-Za-z]{2,12}")
_GENERIC_ORG_PREFIX = frozenset(
    "이 그 저 해당 인근 근처 타 본 모 각 전 귀 당 동네 지역 대형 큰 작은 상급 종합 상급종합 일반 전문 협력 관련 대학 개인 요양 정신"
    " 권역응급의료 지역응급의료 응급의료 권역외상 외상 건강검진 검진 암 재활 심장 뇌졸중 외래 의료 건강 직장 지역건강 실손 일차의료"
    " 병 의 치 한 소아 소아과 내과 외과 안과 피부과 이비인후과 산부인과 정형외과 비뇨기과 신경과 가정의학과 동물 수의".split()
)


_EMPLOYER = re.compile(r"(?:회사|직장|소속|근무처|재직|근무지|직장명|회사명|Employer)\s*[(:：]\s*(?P<org>(?:㈜|\(주\))?[가-힣A-Za-z]{2,15})")


# A named organization starts a whole Hangul word that ends in a kind, or at (주)/㈜ (one native pass finds them all).
_ORG_ENDS = _automaton([*_ORG_KINDS, "(주)", "㈜"])


def _org_starts(text: str) -> list[int]:
    size = len(text)
    return sorted({_word_start(text, k) if _is_syllable(text[end - 1]) else k
                   for _, k, end in _ORG_ENDS.find(text)
                   if not _is_syllable(text[end - 1]) or end == size or not _is_syllable(text[end])
                   or _particle_ends_word(text, end)})


def _particle_ends_word(text: str, pos: int) -> bool:
    return any(text.startswith(p, pos) and (pos + len(p) == len(text) or not _is_syllable(text[pos + len(p)]))
               for p in _ORG_PARTICLES)


def _organizations(text: str) -> Iterable[PhiSpan]:
    for m in _EMPLOYER.finditer(text):
        yield m.start("org"), m.end("org"), "organization"
    for m in _matches_at(_ORG, text, _org_starts(text)):
        prefix = m.group("prefix")
        if prefix is not None and (prefix in _GENERIC_ORG_PREFIX or len(prefix) < 2):
            continue
        yield m.start(), m.end(), "organization"


def _regex(pattern: re.Pattern[str], phi_type: str, group: int | str = 0,
           starts: re.Pattern[str] | None = None) -> Recognizer:
    def recognize(text: str) -> Iterable[PhiSpan]:
        for m in pattern.finditer(text) if starts is None else _finditer_at(pattern, starts, text):
            b, e = m.span(group)
            raw = text[b:e]
            stripped = raw.strip()
            if stripped:
                b += len(raw) - len(raw.lstrip())
                yield b, b + len(stripped), phi_type

    return recognize


def _windowed(pattern: re.Pattern[str], phi_type: str, trigger: str, before: int = 24, after: int = 40,
              starts: str | None = None) -> Recognizer:
    """A recognizer that runs its (lookbehind-heavy, so slow to scan) pattern only near a cheap trigger,
    e.g. a digit followed by a date separator. Lookbehinds still see the text before each window. With
    ``starts`` the pattern is tried only where a match can begin (see _finditer_at)."""
    trigger_re = re.compile(trigger)
    starts_re = re.compile(starts) if starts else None

    def recognize(text: str) -> Iterable[PhiSpan]:
        seen: set[tuple[int, int]] = set()
        windows: list[list[int]] = []
        for t in trigger_re.finditer(text):
            b, e = max(0, t.start() - before), min(len(text), t.end() + after)
            if windows and b <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], e)
            else:
                windows.append([b, e])
        for b, e in windows:
            for m in pattern.finditer(text, b, e) if starts_re is None else _finditer_at(pattern, starts_re, text, b, e):
                span = m.span()
                raw = m.group()
                stripped = raw.strip()
                if stripped and span not in seen:
                    seen.add(span)
                    start = span[0] + len(raw) - len(raw.lstrip())
                    yield start, start + len(stripped), phi_type

    return recognize


RECOGNIZERS: dict[str, Recognizer] = {
    "name_labelled": _labelled_names,
    "name_honorific": _honorific_names,
    "name_demographics": _names_before_demographics,
    "name_masked": _masked_names,
    "name_latin": _latin_names,
    "rrn": _regex(_RRN, "rrn"),
    # Both trigger alternatives begin with a digit (0 is one; the lookbehind keeps "01"): written as one \d first,
    # re scans for digits instead of trying every position.
    "phone": _windowed(_PHONE, "phone", r"\d(?:\d{2,3}[-.\s]\d{4}|(?<=0)1[016789]\d{7})"),
    "name_role": _role_names,
    "organization": _organizations,
    "chart_id": _regex(_CHART, "patient_id", "id"),
    "hash_id": _regex(_HASH_ID, "patient_id", "id"),
    "insurance_id": _regex(_INSURANCE_ID, "insurance_id", "id"),
    "license": _regex(_LICENSE, "license_number", "id"),
    "extension": _regex(_EXTENSION, "phone", "ext"),
    "email": _windowed(_EMAIL, "email", r"@", before=64, after=64),
    "address": _regex(_ADDRESS, "address", starts=_ADDRESS_STARTS),
    "address_labelled": _regex(_LABELLED_ADDRESS, "address", "addr"),
    "postcode": _regex(_LABELLED_ADDRESS, "address", "zip"),
    "address_latin": _windowed(_LATIN_ADDRESS, "address", r"\d[\d-]*,?\s+[A-Z]", before=2, after=120),
    # Triggers are what every match must contain: a date has two separators or 년/월 after a digit, an age a
    # digit before 세/살/대 or a labelled number, a sex a word beside an age or its label.
    # starts: a date begins at the first digit of a number; an age there, at 만 or at the whitespace after 나이: /
    # Age: (after a colon); a sex at its word or letter, a '/', or the whitespace after 성별: / 세 (a colon or 세).
    # The date trigger opens with its alternatives' common digit (same matches as "\d\s?[-./]…|\d\s?[년월]|\d/\d").
    "date": _windowed(_DATE, "date", r"\d(?=[\s\-./년월])(?:\s?[-./]\s?\d{1,2}\s?[-./]|\s?[년월]|/\d)", starts=r"\d+"),
    # The age and sex triggers open with one character class (then the alternatives, in their order, each behind
    # a lookbehind on that character), so re scans for it: same matches as "\d\s*(?:세|…)|나이|Age|…". Their starts
    # likewise (same matches as "\d+|만|(?<=[:：])\s" and "[/남여MF]|male|female|(?<=[:：세])\s"). Each trigger's
    # (?=[…]) after that class holds every character its alternatives can go on with, so a digit inside a number is
    # turned down with one test instead of ~10 lookbehinds (keep it in step when an alternative is added). All three
    # rewrites checked against the old patterns on 2,600 notes and 300,000 random strings of their characters.
    "age": _windowed(_AGE, "age", r"[\d나AMF남여](?=[\s세살대yY이g/개])(?:(?<=\d)\s*(?:세|살|대|[yY]/?[oO]|yrs|years)|(?<=나)이|(?<=A)ge|(?<=[MF])/\d"
                                  r"|(?<=\d)\s*/\s*[MF남여]|(?<=[남여])/\d|(?<=\d)\s?[yY]\s?/?\s?[MF]|(?<=\d)\s?개월)",
                     starts=r"[\d만\s](?:(?<=\d)\d*|(?<=만)|(?<=[:：]\s))"),
    "sex": _windowed(_SEX, "sex", r"[성S\dMF남여mf](?=[별e\s/세대,아ayY])(?:(?<=성)별|(?<=S)ex|(?<=\d)\s*/\s*[MF남여]|(?<=[MF])\s*/\s*\d|(?<=\d)\s*세"
                                  r"|(?<=\d)대|(?<=[남여])\s*[/,]|(?<=[남여])아\s*[/,]|(?<=[Mm])ale|(?<=[Ff])emale|(?<=\d)[yY][\s/][MF])",
                     starts=r"[/남여MFmf\s](?:(?<=[/남여MF])|(?<=m)ale|(?<=f)emale|(?<=[:：세]\s))"),
}
# When spans overlap, the more specific type wins (an RRN is not a date or a phone number).
_RANK = {"rrn": 0, "email": 1, "patient_id": 2, "insurance_id": 2, "license_number": 2, "phone": 3, "fax": 3, "address": 4,
         "organization": 5, "name": 5, "date": 6, "age": 7, "sex": 8}


# What each recognizer's spans come from: it finds nothing in a text none of whose matches can hold (a lookup
# before the run). The strings are derived from the patterns at load time, so they follow any change to them.
_SOURCES: dict[str, tuple[re.Pattern[str], ...]] = {
    "name_labelled": (_LABELLED_NAME, _DOCTOR_LABEL), "name_honorific": (_HONORIFIC,), "name_demographics": (_DEMOGRAPHIC,),
    "name_masked": (_MASK_MARK,), "name_latin": (_LATIN_IN_TEXT,), "rrn": (_RRN,), "phone": (_PHONE,),
    "name_role": (_ROLE_BEFORE, _ROLE_AFTER), "organization": (_EMPLOYER, _ORG), "chart_id": (_CHART,),
    "hash_id": (_HASH_ID,), "insurance_id": (_INSURANCE_ID,), "license": (_LICENSE,), "extension": (_EXTENSION,),
    "email": (_EMAIL,), "address": (_ADDRESS,), "address_labelled": (_LABELLED_ADDRESS,), "postcode": (_LABELLED_ADDRESS,),
    "address_latin": (_LATIN_ADDRESS,), "date": (_DATE,), "age": (_AGE,), "sex": (_SEX,),
}
# Single characters (a space, '/', 님) are in nearly every note: no use as a prefilter, and many hits to collect.
_NEEDS = {name: needed for name, patterns in _SOURCES.items()
          if (needed := required_substrings(*patterns)) is not None and min(map(len, needed)) >= 2}
# One native pass tells which of those strings a note holds (most notes hold no address, licence or extension label).
_NEEDED = Occurrences({word: word for needed in _NEEDS.values() for word in needed})


def find_phi(text: str, enabled: Iterable[str] | None = None) -> list[PhiSpan]:
    spans: list[PhiSpan] = []
    words = _NEEDED.values
    present = {words[i] for i, _, _ in _NEEDED.find(text)}
    for name, recognizer in RECOGNIZERS.items():
        if (enabled is None or name in enabled) and not (name in _NEEDS and present.isdisjoint(_NEEDS[name])):
            spans.extend(recognizer(text))
    spans.sort(key=lambda s: (_RANK[s[2]], -(s[1] - s[0]), s[0]))
    # Chosen spans are disjoint, so only the last one starting before a span's end can overlap it.
    chosen: list[PhiSpan] = []
    for span in spans:
        i = bisect_left(chosen, (span[1],)) - 1
        if i < 0 or chosen[i][1] <= span[0]:
            insort(chosen, span)
    if enabled is None or "name" in enabled:
        for span in _listed_names(text, chosen):
            i = bisect_left(chosen, (span[1],)) - 1
            if i < 0 or chosen[i][1] <= span[0]:
                insort(chosen, span)
    return chosen


_NEXT_IN_LIST = re.compile(rf"[ \t]*[,、·][ \t]*(?P<name>{_HANGUL_NAME})(?![가-힣])")


def _listed_names(text: str, found: list[PhiSpan]) -> list[PhiSpan]:
    """A name listed right after a name (담당간호사: 김보라, 이하은) is a name too."""
    out: list[PhiSpan] = []
    for b, e, phi_type in found:
        while phi_type == "name" and (m := _NEXT_IN_LIST.match(text, e)) is not None:
            name = m.group("name")
            if not _NAME_FULL.fullmatch(name) or name in _NOT_NAMES or name in _ROLE_WORDS or _clause_word(name):
                break
            b, e = m.span("name")
            out.append((b, e, "name"))
    return out


_PLACEHOLDER = {"name": "이름", "phone": "전화", "rrn": "주민번호", "patient_id": "등록번호", "address": "주소",
                "date": "날짜", "age": "나이", "sex": "성별", "email": "이메일", "organization": "기관",
                "insurance_id": "보험번호", "license_number": "면허번호", "fax": "팩스"}


@dataclass(frozen=True)
class MaskEntry:
    placeholder: str
    phi_type: str
    text: str
    begin: int  # in the original text
    end: int
    masked_begin: int  # in the masked text
    masked_end: int


def mask(text: str, spans: Iterable[PhiSpan] | None = None) -> tuple[str, list[MaskEntry]]:
    """Replace PHI with stable placeholders ([이름1], [전화1]…); the same value gets the same
    placeholder everywhere. Returns the masked text and a map back to original offsets."""
    spans = sorted(find_phi(text) if spans is None else spans)
    numbers: dict[tuple[str, str], str] = {}
    counters: dict[str, int] = {}
    parts: list[str] = []
    entries: list[MaskEntry] = []
    pos = out_len = 0
    for b, e, phi_type in spans:
        value = text[b:e]
        key = (phi_type, value)
        if key not in numbers:
            counters[phi_type] = counters.get(phi_type, 0) + 1
            numbers[key] = f"[{_PLACEHOLDER.get(phi_type, phi_type)}{counters[phi_type]}]"
        placeholder = numbers[key]
        parts.append(text[pos:b])
        out_len += b - pos
        parts.append(placeholder)
        entries.append(MaskEntry(placeholder, phi_type, value, b, e, out_len, out_len + len(placeholder)))
        out_len += len(placeholder)
        pos = e
    parts.append(text[pos:])
    return "".join(parts), entries


def unmask_offset(entries: list[MaskEntry], masked_offset: int) -> int:
    """Map an offset in masked text back to the original text."""
    shift = 0
    for entry in entries:
        if masked_offset < entry.masked_begin:
            break
        if masked_offset < entry.masked_end:
            return entry.begin
        shift = entry.end - entry.masked_end
    return masked_offset + shift
