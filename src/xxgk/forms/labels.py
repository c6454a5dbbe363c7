"""Labels as departments print them: the fold labels are compared in, and the one safe
kind of near match.

Published reports print the official labels with other quotes (“” ‘’ "" 「」), other
widths and stray spaces — those are folded away (`QUOTES`, with `grid.norm`'s NFKC and
whitespace removal).  They also print typos: 先行有效件数 for 现行有效件数, 本年废止件 for
本年废止件数, 规范性文件 for 行政规范性文件.  Such a label is read as a standard one only
when it is `close` to it and to no other standard label of its table equally or more
(`nearest`), and only at its position (`align_near`: between the rows matched exactly
around it).  Anything less certain is left unmatched, for the reader to refuse or ignore
with a notice: a silent wrong match must never happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

# Every quote a label may be printed with, folded to one: the official text uses “”.
QUOTES = dict.fromkeys(map(ord, "“”‘’\"'「」『』〝〞‟„‚′"), '"')
MIN_NEAR = 4  # shortest standard label (folded characters) a near match may stand for


def distance(a: str, b: str) -> int:
    """Levenshtein distance: single characters inserted, deleted or replaced."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def close(found: str, standard: str) -> bool:
    """Whether ``found`` (folded) may be a misprint of ``standard`` (folded): one character
    inserted, deleted or replaced; or up to two characters added or dropped in one run
    (规范性文件 for 行政规范性文件).  Never for labels shorter than `MIN_NEAR`, where one
    character changes the meaning (其他/其它 aside, 规章 and 规划 are different things)."""
    return _near_distance(found, standard) is not None


def _near_distance(found: str, standard: str) -> int | None:
    """The distance when ``found`` is `close` to ``standard``, else None (cheap tests first:
    a label read in every return is compared with every label of its table)."""
    if found == standard or min(len(found), len(standard)) < MIN_NEAR or abs(len(found) - len(standard)) > 2:
        return None
    d = distance(found, standard)
    if d == 1:
        return d
    short, long = sorted((found, standard), key=len)
    return d if d == 2 and len(long) - len(short) == 2 and _one_run(short, long) else None


def _one_run(short: str, long: str) -> bool:
    """``long`` is ``short`` with one contiguous run of characters inserted."""
    extra = len(long) - len(short)
    return any(long[:i] + long[i + extra :] == short for i in range(len(short) + 1))


class Near(NamedTuple):
    """The standard labels (indices) a found label is closest to, all of one text; or,
    when two different texts are equally close, those texts (``tied``) and no indices."""

    indices: tuple[int, ...]
    tied: tuple[str, ...]


def nearest(found: str, standard: Sequence[str]) -> Near:
    """Which of ``standard`` ``found`` is a misprint of, if any (see `close`)."""
    return _nearest(found, tuple(standard))


@lru_cache(maxsize=4096)
def _nearest(found: str, standard: tuple[str, ...]) -> Near:
    """`nearest`, remembered: a batch meets the same printed labels in return after return."""
    scored = sorted({(d, s) for s in set(standard) if (d := _near_distance(found, s)) is not None})
    if not scored:
        return Near((), ())
    best = [s for d, s in scored if d == scored[0][0]]
    if len(best) > 1:
        return Near((), tuple(best))
    return Near(tuple(i for i, s in enumerate(standard) if s == best[0]), ())


class Aligned(NamedTuple):
    pairs: dict[int, int]  # standard index -> found index, exact and near
    near: tuple[tuple[int, int], ...]  # the near pairs among them
    ambiguous: tuple[tuple[int, tuple[str, ...]], ...]  # found index, the standard texts tied


def align_near(standard: Sequence[str], found: Sequence[str], exact: dict[int, int]) -> Aligned:
    """Extend an order-keeping exact alignment with near matches: a found label left over
    between two exactly matched ones may only stand for a standard label left over between
    the same two, and only if `nearest` names that text and no other."""
    pairs = dict(exact)
    near: list[tuple[int, int]] = []
    ambiguous: list[tuple[int, tuple[str, ...]]] = []
    anchors = [(-1, -1), *sorted(exact.items()), (len(standard), len(found))]
    for (i0, j0), (i1, j1) in zip(anchors, anchors[1:], strict=False):
        if i1 - i0 < 2:
            continue  # no standard label left over here: what was found in between is extra
        last = i0
        for j in range(j0 + 1, j1):
            hit = nearest(found[j], standard)
            if hit.tied:
                ambiguous.append((j, hit.tied))
                continue
            free = [i for i in hit.indices if last < i < i1 and i not in pairs]
            if free:
                pairs[free[0]] = j
                near.append((free[0], j))
                last = free[0]
    return Aligned(pairs, tuple(near), tuple(ambiguous))
