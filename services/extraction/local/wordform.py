"""Korean word formation: the head of a Sino-Korean compound carries its category.

만성 간염, 대장 내시경, 피부 조직 검사, 복강경 담낭절제술: the last morpheme (-염, -내시경, -검사, -술)
says what the whole names, whatever the words before it. Heads and the common words that end in one
without naming anything (보통, 문제) are data files (``heads.tsv``, ``head_stopwords.tsv``). The same
tables classify official names when the vocabularies are built and find unknown compounds in notes.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache, lru_cache

from services.domain import Category
from services.extraction.local.resources import rows

# Particles and copula endings that follow a noun in running text, longest first.
JOSA = tuple(sorted(
    "이 가 은 는 을 를 의 에 에서 에게 으로 로 과 와 도 만 까지 부터 이나 나 이며 며 이고 고 이다 였다 이었다 임 으로의 로의"
    " 에도 에는 에서는 으로는 로는 과의 와의 이라 라 이라고 라고 으로서 로서 처럼 보다 상의 상에서 쪽 쪽에 쪽으로 부위 부위에"
    " 이었고 였고 이며 이므로 이어서 이지만 지만 이나 등 등의 등을 등이 및 이랑 랑 에서의 으로도 로도 했고 함 하였고 하였으며 했으며"
    " 하였다 했다 하여 하고 하며 후 후에 중인 시 시행 예정 하였습니다 했습니다 합니다 하였음 했음 하겠습니다 하였으나 했으나"
    .split(), key=len, reverse=True))


# What may follow a term inside the same word: particles, copula and the endings of 하다/되다 verbs
# made from the term (출혈되어, 절제하였고), and a few noun suffixes (통증들, 수술상).
ENDINGS = tuple(sorted(set(JOSA) | set(
    "이 가 은 는 을 를 의 에 도 만 와 과 로 으 이었 였 입니 이며 이고 이나 이지 인 임 이라 이면 하 했 한 할 함 해 되 됐 된 될 됨 돼"
    " 시 성 적으로 적인 상 들 등 부터 까지 처럼 보다 에서 에게 께 께서 조차 마저 뿐 밖에 이랑 랑 로서 로써 으로써 으로서 같"
    # A drug's dosage form written onto its name (메트포르민서방정, 세파클러캡슐): phrases.with_salt takes it in.
    " 서방정 서방캡슐 연질캡슐 캡슐 시럽 현탁액 주사액 점안액 필름코팅정 장용정 구강붕해정 츄어블정 좌제".split()),
    key=len, reverse=True))


# Salt and hydrate words that follow a drug's name (TAMSULOSIN HYDROCHLORIDE, 암로디핀베실산염): the vocabulary
# keeps the ingredient, the engine extends a drug mention over them.
SALTS_KO = ("염산염", "황산염", "말레산염", "타르타르산염", "베실산염", "메실산염", "칼륨", "나트륨", "칼슘", "수화물", "이수화물",
          "삼수화물", "푸마르산염", "숙신산염", "브롬화수소산염", "인산염", "질산염", "아세트산염", "시트르산염")
SALTS_EN = ("hydrochloride", "sulfate", "sodium", "potassium", "calcium", "maleate", "besylate", "mesylate", "tartrate",
             "fumarate", "succinate", "phosphate", "acetate", "citrate", "hydrobromide", "hemihydrate", "monohydrate",
             "dihydrate", "trihydrate", "hydrate", "magnesium", "bromide", "chloride", "nitrate", "anhydrous",
             "aspartate", "saccharate", "palmitate", "propionate", "dipropionate", "furoate", "bitartrate", "disodium")


@dataclass(frozen=True)
class Head:
    suffix: str
    category: Category
    min_stem: int
    runtime: bool


@cache
def heads() -> tuple[Head, ...]:
    out = [Head(r[0], Category(r[1]), int(r[2]), r[3] == "1") for r in rows("heads.tsv") if len(r) >= 4]
    return tuple(sorted(out, key=lambda h: -len(h.suffix)))


@cache
def stopwords() -> frozenset[str]:
    return frozenset(w for r in rows("head_stopwords.tsv") for w in r[0].split())


@cache
def _heads_by_suffix(runtime_only: bool) -> tuple[dict[str, Head], int]:
    table = {h.suffix: h for h in reversed(heads()) if h.runtime or not runtime_only}
    return table, max(map(len, table), default=0)


@lru_cache(maxsize=200_000)
def head_of(word: str, runtime_only: bool = False) -> Head | None:
    """The category head a single (unspaced) word ends in, if its stem is long enough (longest head first)."""
    if word in stopwords():
        return None
    table, longest = _heads_by_suffix(runtime_only)
    for size in range(min(longest, len(word)), 0, -1):
        head = table.get(word[-size:])
        if head is not None and len(word) - size >= head.min_stem:
            return head
    return None


_JOSA_SET = frozenset(JOSA)
_JOSA_LONGEST = max(map(len, JOSA))


@lru_cache(maxsize=200_000)
def strip_josa(word: str) -> str:
    """``간염이`` → ``간염``; leaves words without a known particle alone. Keeps at least two syllables."""
    for size in range(min(_JOSA_LONGEST, len(word) - 2), 0, -1):
        if word[-size:] in _JOSA_SET:
            return word[:-size]
    return word


# Heads that are words by themselves: written after a noun they make a compound (소변 검사, 화학 요법),
# alone they are generic (추가 검사 예정) and are not mentions.
FREE_HEADS: dict[str, Category] = {
    "검사": Category.TEST, "촬영": Category.TEST, "내시경": Category.TEST, "초음파": Category.TEST, "생검": Category.TEST,
    "치료": Category.PROCEDURE, "요법": Category.PROCEDURE, "수술": Category.PROCEDURE, "시술": Category.PROCEDURE,
    "교육": Category.PROCEDURE, "조절": Category.PROCEDURE, "섭취": Category.PROCEDURE, "제한": Category.PROCEDURE,
    "소독": Category.PROCEDURE, "상담": Category.PROCEDURE, "면담": Category.PROCEDURE, "운동": Category.PROCEDURE, "감량": Category.PROCEDURE,
    "교정": Category.PROCEDURE, "훈련": Category.PROCEDURE, "찜질": Category.PROCEDURE, "마사지": Category.PROCEDURE,
    "백신": Category.MEDICATION, "약": Category.MEDICATION, "연고": Category.MEDICATION, "크림": Category.MEDICATION,
    "시럽": Category.MEDICATION, "주사제": Category.MEDICATION, "패치": Category.MEDICATION, "점안액": Category.MEDICATION,
    "질환": Category.DIAGNOSIS, "증후군": Category.DIAGNOSIS, "골절": Category.DIAGNOSIS, "종양": Category.DIAGNOSIS,
    "기능": Category.TEST, "점수": Category.TEST, "평가": Category.TEST, "모니터링": Category.TEST,
    "장애": Category.DIAGNOSIS, "손상": Category.DIAGNOSIS, "부전": Category.DIAGNOSIS, "외상": Category.DIAGNOSIS,
    "전이": Category.DIAGNOSIS, "유착": Category.DIAGNOSIS, "감염": Category.DIAGNOSIS,
    "병변": Category.SYMPTOM, "저하": Category.SYMPTOM, "감소": Category.SYMPTOM, "증가": Category.SYMPTOM,
    "상승": Category.SYMPTOM, "변동": Category.SYMPTOM, "이상": Category.SYMPTOM, "종대": Category.SYMPTOM,
    "비대": Category.SYMPTOM, "곤란": Category.SYMPTOM,
    # Terminology-style findings written as noun + change (주입 관련 반응, 근육 경직, 의식 상실, QT 간격 연장).
    "반응": Category.SYMPTOM, "경직": Category.SYMPTOM, "강직": Category.SYMPTOM, "불내성": Category.SYMPTOM,
    "상실": Category.SYMPTOM, "불능": Category.SYMPTOM, "약화": Category.SYMPTOM, "연장": Category.SYMPTOM,
    "역전": Category.SYMPTOM, "확장": Category.SYMPTOM, "돌출": Category.SYMPTOM, "변색": Category.SYMPTOM,
    "충동": Category.SYMPTOM, "천공": Category.SYMPTOM, "박리": Category.SYMPTOM, "느낌": Category.SYMPTOM,
    "지연": Category.SYMPTOM, "팽윤": Category.SYMPTOM,
    "폐색": Category.DIAGNOSIS, "농양": Category.DIAGNOSIS, "괴사": Category.DIAGNOSIS, "독성": Category.DIAGNOSIS,
}

_SPACE = re.compile(r"\s+")
# Heads that are words of their own and may be written apart from their modifier: 혈액검사 ↔ 혈액 검사.
_FREE_HEADS = ("검사", "촬영", "내시경", "초음파", "수술", "치료", "요법", "통증", "절제술", "생검", "주사",
               "질환", "증후군", "골절", "손상", "출혈", "감염", "궤양", "결석", "종양", "부전", "경색", "장애", "마비")


def spacing_variants(name: str) -> set[str]:
    """The ways a name is written with and without spaces: 혈액 검사 ↔ 혈액검사, 대장내시경 ↔ 대장 내시경.
    At most three internal boundaries are varied (eight forms)."""
    name = _SPACE.sub(" ", name.strip())
    tokens = name.split(" ")
    # Split glued words before their last free head: 피부조직검사 → 피부조직 검사, 대장내시경 → 대장 내시경.
    split: list[str] = []
    for word in tokens:
        for head in sorted(_FREE_HEADS, key=len):
            if word.endswith(head) and len(word) - len(head) >= 2:
                split += [word[: -len(head)], head]
                break
        else:
            split.append(word)
    tokens = split
    if len(tokens) > 4:
        return {name, name.replace(" ", "")}
    out = set()
    for joins in itertools.product((" ", ""), repeat=len(tokens) - 1):
        out.add(tokens[0] + "".join(j + t for j, t in zip(joins, tokens[1:], strict=True)))
    return out
