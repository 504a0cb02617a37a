"""Comment themes: segmentation, the log-odds ratio, the token cache, the API, the pages."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback import themes
from feedback.stopwords import EN_STOP_WORDS, ZH_STOP_WORDS

# --- the log-odds ratio, worked by hand -------------------------------------------------------


def test_log_odds_worked_by_hand():
    # side: a twice, b once (n = 3); rest: a once, b three times (m = 4); prior = the counts of
    # both (α_a = 3, α_b = 4, α0 = 7)
    scores = {s.term: s for s in themes.log_odds(Counter(a=2, b=1), Counter(a=1, b=3))}
    # δ_a = log(5 / (3+7-2-3)) - log(4 / (4+7-1-3)) = log(1) - log(4/7) = log(7/4)
    assert scores["a"].delta == pytest.approx(math.log(7 / 4))
    assert scores["a"].variance == pytest.approx(1 / 5 + 1 / 4)
    assert scores["a"].z == pytest.approx(0.55962 / math.sqrt(0.45), abs=1e-4)
    assert scores["a"].z == pytest.approx(0.83425, abs=1e-4)
    # δ_b = log(5 / (3+7-1-4)) - log(7 / (4+7-3-4)) = -log(7/4); var = 1/5 + 1/7
    assert scores["b"].delta == pytest.approx(-math.log(7 / 4))
    assert scores["b"].z == pytest.approx(-0.55962 / math.sqrt(1 / 5 + 1 / 7), abs=1e-4)


def test_a_term_both_sides_use_alike_scores_zero_however_common():
    scores = {s.term: s for s in themes.log_odds(Counter(x=50, y=5), Counter(x=100, y=10))}
    assert scores["x"].z == pytest.approx(0, abs=1e-9)
    assert scores["y"].z == pytest.approx(0, abs=1e-9)


def test_themes_rank_by_z_not_by_count():
    # "refund" only among the unhappy (5 of them); "service" in every comment on both sides
    documents = (
        [("unhappy", ["refund", "service"])] * 5
        + [("unhappy", ["service", "slow"])] * 3
        + [("happy", ["service", "patient"])] * 6
        + [(None, ["service"])] * 20
    )
    found = themes.themes(documents, min_count=3)
    unhappy = [t.term for t in found["unhappy"]]
    assert unhappy[:2] == ["refund", "slow"]
    assert "service" not in unhappy  # most frequent, but not distinctive
    assert [t.term for t in found["happy"]] == ["patient"]
    assert found["unhappy"][0].count == 5
    assert found["unhappy"][0].z > found["unhappy"][1].z > 0


def test_min_count_and_top_n():
    documents = [("unhappy", [f"w{i}"]) for i in range(30) for _ in range(3)] + [
        ("unhappy", ["rare"]),
        (None, ["other"]),
    ]
    found = themes.themes(documents, min_count=3, top=10)["unhappy"]
    assert len(found) == 10 and "rare" not in [t.term for t in found]


def test_sides():
    assert themes.side_of(1, 10, uses_csat=True) == "unhappy"
    assert themes.side_of(2, None, uses_csat=True) == "unhappy"
    assert themes.side_of(3, 0, uses_csat=True) is None
    assert themes.side_of(5, 0, uses_csat=True) == "happy"
    assert themes.side_of(None, 0, uses_csat=True) is None
    assert themes.side_of(None, 6, uses_csat=False) == "unhappy"
    assert themes.side_of(1, 7, uses_csat=False) is None
    assert themes.side_of(None, 9, uses_csat=False) == "happy"


# --- segmentation -----------------------------------------------------------------------------


def test_chinese_is_cut_into_words_and_stop_words_go():
    tokenizer = themes.segmenter(())
    terms = themes.terms_of("我被重复扣费了，要求退款！客服很耐心。", tokenizer)
    assert "退款" in terms and "耐心" in terms and "扣费" in terms
    assert not set(terms) & ZH_STOP_WORDS
    assert "，" not in terms and "！" not in terms


def test_the_user_dictionary_keeps_a_category_name_whole():
    text = "账单与收费太乱了"
    assert "账单与收费" not in themes.terms_of(text, themes.segmenter(()))
    words = themes.user_words(
        ["账单与收费", "Billing"], [" 在线客服 "], themes.theme_words_setting("话费包，流量卡, ")
    )
    assert words == ("Billing", "在线客服", "流量卡", "话费包", "账单与收费")
    tokenizer = themes.segmenter(words)
    assert "账单与收费" in themes.terms_of(text, tokenizer)
    assert "话费包" in themes.terms_of("这个话费包不划算", tokenizer)


def test_english_by_words_lower_case_without_stop_words():
    terms = themes.terms_of(
        "The REFUND took too long, and the agent was rude! Refund?", themes.segmenter(())
    )
    assert terms == ["refund", "took", "long", "agent", "rude"]
    assert not set(terms) & EN_STOP_WORDS


def test_each_term_counts_once_per_comment():
    assert themes.terms_of("退款 退款 退款 refund refund", themes.segmenter(())) == [
        "退款",
        "refund",
    ]


def test_the_stamp_follows_the_dictionary():
    assert themes.dictionary_stamp(("a",)) == themes.dictionary_stamp(("a",))
    assert themes.dictionary_stamp(("a",)) != themes.dictionary_stamp(("a", "b"))


def test_stored_terms_round_trip():
    assert themes.split_terms(themes.join_terms(["退款", "refund"])) == ["退款", "refund"]
    assert (
        themes.join_terms(["退款"]) == " 退款 " and themes.split_terms(themes.join_terms([])) == []
    )


@settings(max_examples=60, deadline=None)
@given(
    st.text(max_size=300) | st.text(alphabet="\x00\x01\x1b\u200b😀🙏退款扣费 abcXYZ", max_size=60)
)
def test_hostile_comments_give_clean_terms(text):
    for term in themes.terms_of(text, themes.segmenter(())):
        assert term and term == term.strip() and " " not in term
        assert not any(ord(ch) < 32 or ch == "\x7f" for ch in term)
        assert term not in themes.STOP_WORDS


def test_a_huge_comment_is_cut_at_the_limit():
    terms = themes.terms_of("退款" * 100_000 + "结尾词汇", themes.segmenter(()))
    assert terms == ["退款"]
