"""match: the distance, when a misprint may stand for a label, and never a guess between two."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from xxgk.forms.builtin import builtin
from xxgk.forms.labels import MIN_NEAR, QUOTES, align_near, close, distance, nearest
from xxgk.read.grid import norm

CJK = st.text(alphabet="行政规范性文件本年制发废止现行有效件数其他处理受理", min_size=0, max_size=12)
LABELS = [norm(r.label) for f in ("gk2019", "gk2021") for t in builtin(f).tables for r in t.rows] + [
    norm(c.label) for f in ("gk2019", "gk2021") for t in builtin(f).tables for c in t.columns]


@given(CJK, CJK, CJK)
def test_distance_is_a_metric(a: str, b: str, c: str) -> None:
    assert distance(a, a) == 0 and distance(a, b) == distance(b, a)
    assert (distance(a, b) == 0) == (a == b)
    assert distance(a, c) <= distance(a, b) + distance(b, c)
    assert abs(len(a) - len(b)) <= distance(a, b) <= max(len(a), len(b))


@given(CJK, CJK)
def test_close_means_at_most_two_edits_and_never_for_short_or_equal_labels(a: str, b: str) -> None:
    if close(a, b):
        assert a != b and min(len(a), len(b)) >= MIN_NEAR and distance(a, b) <= 2
        assert close(b, a)


@given(st.sampled_from(LABELS), st.integers(0, 40), st.sampled_from("的和与之"))
def test_one_character_inserted_is_close_to_its_label(label: str, at: int, extra: str) -> None:
    at %= len(label) + 1
    found = label[:at] + extra + label[at:]
    if len(label) >= MIN_NEAR:
        assert close(found, label)


@given(st.sampled_from(LABELS), CJK)
def test_nearest_never_names_a_label_when_another_is_as_close(label: str, noise: str) -> None:
    found = label + noise[:1]
    hit = nearest(found, LABELS)
    if hit.indices:
        best = {LABELS[i] for i in hit.indices}
        assert len(best) == 1
        d = distance(found, next(iter(best)))
        assert all(distance(found, other) > d for other in set(LABELS) - best if close(found, other))
    else:
        assert len(hit.tied) != 1


def test_equally_close_labels_are_a_tie() -> None:
    assert nearest("本年制止件数", ["本年制发件数", "本年废止件数"]).tied == ("本年制发件数", "本年废止件数")
    assert nearest("本年废止件", ["本年制发件数", "本年废止件数"]).indices == (1,)


def test_near_matches_stay_at_their_place() -> None:
    standard = ["规章", "行政规范性文件", "行政许可"]
    # 规范性文件 after 行政许可 is out of place: not read as 行政规范性文件
    got = align_near(standard, ["规章", "行政许可", "规范性文件"], {0: 0, 2: 1})
    assert got.near == ()
    got = align_near(standard, ["规章", "规范性文件", "行政许可"], {0: 0, 2: 2})
    assert got.near == ((1, 1),) and got.pairs == {0: 0, 1: 1, 2: 2}


@given(st.sampled_from(sorted(QUOTES)), st.sampled_from(sorted(QUOTES)))
def test_quotes_fold_to_one(left: int, right: int) -> None:
    assert norm(f"3.危及{chr(left)}三安全一稳定{chr(right)}") == norm("3.危及“三安全一稳定”")
