"""Highlighting: escaped always, nested mentions as nested marks (the guideline tags a body part inside a
patient's complaint), partial overlaps left out rather than breaking the markup."""

from __future__ import annotations

import re

from services.domain import Category, Entity
from services.render import highlight


def _e(text: str, sub: str, category: Category, start: int = 0) -> Entity:
    b = text.index(sub, start)
    return Entity(category=category, text=sub, begin=b, end=b + len(sub))


def test_nested_mentions_are_nested_marks() -> None:
    text = "허리가 끊어질 것 같아요 <b>"
    html_out = highlight(text, [_e(text, "허리가 끊어질 것 같아요", Category.SYMPTOM), _e(text, "허리", Category.ANATOMY)])
    assert re.search(r'<mark[^>]*nl-symptom[^>]*><mark[^>]*nl-anatomy[^>]*>허리</mark>가 끊어질 것 같아요</mark>', html_out)
    assert "&lt;b&gt;" in html_out and "<b>" not in html_out


def test_partial_overlap_is_left_out_and_markup_stays_balanced() -> None:
    text = "가나다라마바사"
    html_out = highlight(text, [_e(text, "가나다라", Category.SYMPTOM), _e(text, "다라마바", Category.TEST),
                                _e(text, "사", Category.ANATOMY)])
    assert html_out.count("<mark") == html_out.count("</mark>") == 2
    assert "nl-test" not in html_out and ">사</mark>" in html_out
    assert re.sub(r"<[^>]+>", "", html_out) == text  # every character still shown, once
