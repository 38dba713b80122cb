"""Duplicate suggestion while reporting (DOMAIN.md §5 "Duplicates"): open cases of the same category
near the reported place whose description says much the same thing.

Which cases are candidates:

- open (a state in ``OPEN_STATES``; merged cases are never open) and not folded into a master;
- the same category and the same street (``street_code``);
- with a point: within the category's ``duplicate_radius_m`` of it (a latitude/longitude box in SQL,
  served by the ``(street_code, state, category)`` index, then the exact haversine distance in Python);
  cases that have no point themselves (address-only reports, hotline tickets) are also compared when
  they lie in the same compound as the new report;
- without a point (an address-only report): the cases of the same compound, or else of the same
  committee, by text alone. With neither a point nor a committee or compound there is nothing narrower
  than the street to go on and no suggestion is made.

Text similarity works on characters, with no word segmentation (none runs on the intake path): the text
is normalised (NFKC, lower case, punctuation, symbols and white space removed, then the stock phrases of
a complaint that say nothing about the matter — 希望尽快处理, 请相关部门, 已经好几天了, 谢谢 … — dropped,
see ``FILLER_PHRASES``) and compared two ways: the Jaccard index of the sets of character bigrams and
trigrams, and ``rapidfuzz.fuzz.partial_ratio`` (the best alignment of the shorter text inside the longer
one, which keeps a short report comparable with a long hotline description). The similarity is the
larger of the two, in [0, 1]; a case is suggested when it reaches ``SIMILARITY_THRESHOLD`` (0.35).
Measured on the reference pairs:

========================================  ========================================  =======  ===========
new report                                existing case                             Jaccard  partial/100
========================================  ========================================  =======  ===========
路口有一堆垃圾没人清理                    十字路口垃圾堆放很久了                    0.07     0.53 (flag)
路口有一堆垃圾没人清理                    福州路与山西南路十字路口垃圾堆放很久了，  0.05     0.45 (flag)
                                          气味很大，希望尽快清理。
路口有一堆垃圾没人清理                    小区门口路灯不亮                          0.00     0.22 (no)
========================================  ========================================  =======  ===========

The threshold sits between the same matter told in other words (0.45 and above) and a different matter
(0.22). Without the stock phrases, two unrelated complaints that both end in "已经好几天了，希望有关部门
重视" score 0.4–0.5 on ``partial_ratio``: on generated complaints of different categories (the benchmark's
templates) dropping them cut the share reaching 0.35 from 22% to 8%. A false suggestion costs the
resident one glance ("report anyway"); a missed one costs a second case for the same matter, so the
threshold leans towards suggesting.

The score ranks the suggestions: ``0.7 × similarity + 0.3 × proximity``, where proximity is
``1 − distance / radius`` (1 on the spot, 0 at the edge of the radius) and 0.5 when a distance is unknown
(either side has no point). Ties go to the nearer, then the later-created case.

Cost: one query for the candidate rows (only id, lon, lat and the first 300 characters of the
description), one for the few suggested cases; nothing is cached between calls.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Required, TypedDict, Unpack

import numpy as np
from django.db import connection
from rapidfuzz import fuzz

from shequ.core.rows import statement_run
from shequ.places.geo import EARTH_RADIUS_M, haversine_m

from .models import OPEN_STATES, Case, Category

SIMILARITY_THRESHOLD = 0.35
SIMILARITY_WEIGHT = 0.7
UNKNOWN_PROXIMITY = 0.5
TEXT_PREFIX = 300  # characters of a description compared (the start of a report says what it is about)

_M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180.0
_NOT_WORD = re.compile(r"[\W_]+")
# Stock phrases of complaints (requests, politeness, how long it has lasted) and two function characters;
# removed after punctuation, longest first.
FILLER_PHRASES = (
    "请相关部门", "相关部门", "有关部门", "相关单位", "希望", "尽快", "尽早", "赶紧", "麻烦", "谢谢",
    "感谢", "重视", "管一管", "管管", "派人", "来看看", "看看", "处理一下", "处理", "解决", "一下",
    "已经", "好几天", "好多天", "几天了", "很长时间", "很久", "一个多星期", "一个多月", "反映过好几次",
    "反映过", "多次反映", "从昨天开始", "就这样", "您好", "你好", "有人", "请", "了", "的",
)  # fmt: skip
_FILLER = re.compile("|".join(sorted(FILLER_PHRASES, key=len, reverse=True)))


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    case: Case
    distance_m: float | None  # None when the new report or the candidate has no point
    similarity: float  # in [0, 1]
    score: float  # in [0, 1], higher first


def text_normalised(text: str) -> str:
    """NFKC, lower case, only letters and digits (Han characters included) and no stock phrases:
    "路口，垃圾！希望尽快处理" and "路口 垃圾" compare equal."""
    if not unicodedata.is_normalized("NFKC", text):  # the quick check is ~100× cheaper than normalising
        text = unicodedata.normalize("NFKC", text)
    return _FILLER.sub("", _NOT_WORD.sub("", text.lower()))


def text_ngrams(normalised: str) -> frozenset[str]:
    """Character bigrams and trigrams of a normalised text (the text itself when shorter than two)."""
    n = len(normalised)
    if n < 2:
        return frozenset((normalised,)) if normalised else frozenset()
    grams = {normalised[i : i + 2] for i in range(n - 1)}
    grams.update(normalised[i : i + 3] for i in range(n - 2))
    return frozenset(grams)


def text_similarity(a: str, b: str) -> float:
    """Similarity in [0, 1] of two raw texts (see the module's description)."""
    na, nb = text_normalised(a), text_normalised(b)
    return _similarity(na, text_ngrams(na), nb)


def _similarity(query: str, query_grams: frozenset[str], other: str) -> float:
    if not query or not other:
        return 0.0
    other_grams = text_ngrams(other)
    shared = len(query_grams & other_grams)
    jaccard = shared / (len(query_grams) + len(other_grams) - shared)
    partial = fuzz.partial_ratio(query, other) / 100.0
    return max(jaccard, partial)


def _score(similarity: float, distance_m: float | None, radius_m: float) -> float:
    proximity = UNKNOWN_PROXIMITY if distance_m is None else max(0.0, 1.0 - distance_m / radius_m)
    return SIMILARITY_WEIGHT * similarity + (1.0 - SIMILARITY_WEIGHT) * proximity


class DuplicateSearch(TypedDict, total=False):
    """What a new report is compared on: ``lon``/``lat`` are WGS-84; ``committee_id``/``compound_id``
    are its located places (needed when it has no point); at most ``limit`` matches."""

    category: Required[Category]
    lon: Required[float | None]
    lat: Required[float | None]
    text: Required[str]
    street_code: Required[str]
    committee_id: int | None
    compound_id: int | None
    limit: int


def duplicate_candidates(
    *, exclude_id: int | None = None, **search: Unpack[DuplicateSearch]
) -> list[DuplicateCandidate]:
    """Open cases that may report the same matter, best first; ``exclude_id`` leaves out the case
    being compared itself."""
    best = _ranked(exclude_id=exclude_id, **search)
    if not best:
        return []
    cases = Case.objects.order_by().in_bulk([match.pk for match in best])
    out: list[DuplicateCandidate] = []
    for match in best:
        case = cases.get(match.pk)
        if case is None:  # gone between the two queries
            continue
        case.category = search["category"]
        out.append(
            DuplicateCandidate(
                case=case, distance_m=match.distance_m, similarity=match.similarity, score=match.score
            )
        )
    return out


def duplicate_numbers(**search: Unpack[DuplicateSearch]) -> list[str]:
    """The tracking numbers of ``duplicate_candidates`` (what intake keeps for the dispatcher), in
    one query."""
    return [match.number for match in _ranked(**search)]


@dataclass(frozen=True)
class _Match:
    pk: int
    number: str
    distance_m: float | None
    similarity: float
    score: float


def _ranked(
    *,
    category: Category,
    lon: float | None,
    lat: float | None,
    text: str,
    street_code: str,
    committee_id: int | None = None,
    compound_id: int | None = None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[_Match]:
    query = text_normalised(text)
    point = (lon, lat) if lon is not None and lat is not None else None
    if limit <= 0 or not query or (point is None and committee_id is None and compound_id is None):
        return []
    radius = float(category.duplicate_radius_m)
    found = _candidate_rows(
        category=category,
        point=point,
        radius=radius,
        street_code=street_code,
        committee_id=committee_id,
        compound_id=compound_id,
        exclude_id=exclude_id,
    )
    if not found:
        return []
    distances = _distances(point, found)
    query_grams = text_ngrams(query)
    scored: list[tuple[float, float, int, _Match]] = []
    for (pk, number, _lon, _lat, head), distance in zip(found, distances, strict=True):
        if distance is not None and distance > radius:
            continue
        similarity = _similarity(query, query_grams, text_normalised(head or ""))
        if similarity < SIMILARITY_THRESHOLD:
            continue
        score = _score(similarity, distance, radius)
        # Sort key: best score, then nearer (unknown last), then newer (higher id).
        near = math.inf if distance is None else distance
        scored.append((-score, near, -pk, _Match(pk, number, distance, similarity, score)))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:limit]]


_Row = tuple[int, str, float | None, float | None, str | None]


def _candidate_rows(
    *,
    category: Category,
    point: tuple[float, float] | None,
    radius: float,
    street_code: str,
    committee_id: int | None,
    compound_id: int | None,
    exclude_id: int | None,
) -> list[_Row]:
    """One query: (id, number, lon, lat, start of the description) of the open cases worth
    comparing. The statement is written once per shape (``_candidate_sql``): it runs on every report,
    and building it through the ORM each time cost several times what the database spends on it."""
    params: list[Any] = [street_code, category.pk]
    if point is not None:
        lon, lat = point
        # A box a little wider than the circle (the exact distance follows in Python).
        dlat = radius * 1.01 / _M_PER_DEG_LAT
        dlon = radius * 1.01 / (_M_PER_DEG_LAT * max(math.cos(math.radians(lat)), 1e-6))
        params += [lat - dlat, lat + dlat, lon - dlon, lon + dlon]
        shape = "box+compound" if compound_id is not None else "box"
        if compound_id is not None:
            params.append(compound_id)
    elif compound_id is not None:
        shape = "compound"
        params.append(compound_id)
    else:
        shape = "committee"
        params.append(committee_id)
    if exclude_id is not None:
        params.append(exclude_id)
    return statement_run(_candidate_sql(connection.vendor, shape, exclude_id is not None), params)


_BOX = "lat BETWEEN %s AND %s AND lon BETWEEN %s AND %s"
_PLACE_WHERE = {
    "box": f"({_BOX})",
    "box+compound": f"(({_BOX}) OR (lon IS NULL AND compound_id = %s))",
    "compound": "compound_id = %s",
    "committee": "committee_id = %s",
}


@lru_cache(maxsize=16)
def _candidate_sql(vendor: str, shape: str, exclude: bool) -> str:
    """The open cases of a street and category at a place (see ``_candidate_rows``); identifiers from
    the model, values as parameters."""
    table = connection.ops.quote_name(Case._meta.db_table)
    states = ", ".join(f"'{state}'" for state in sorted(OPEN_STATES))  # fixed choice values
    sql = (
        f"SELECT id, number, lon, lat, SUBSTR(description, 1, {TEXT_PREFIX}) FROM {table} "  # noqa: S608
        f"WHERE street_code = %s AND category_id = %s AND master_id IS NULL AND state IN ({states}) "
        f"AND {_PLACE_WHERE[shape]}"
    )
    return sql + (" AND id <> %s" if exclude else "")


def _distances(point: tuple[float, float] | None, rows: list[_Row]) -> list[float | None]:
    """Haversine metres from ``point`` to each row (None where either side has no point)."""
    out: list[float | None] = [None] * len(rows)
    if point is None:
        return out
    located = [i for i, row in enumerate(rows) if row[2] is not None and row[3] is not None]
    if located:
        metres = haversine_m(
            point[0],
            point[1],
            np.fromiter((rows[i][2] for i in located), dtype=np.float64, count=len(located)),
            np.fromiter((rows[i][3] for i in located), dtype=np.float64, count=len(located)),
        ).tolist()
        for i, d in zip(located, metres, strict=True):
            out[i] = d
    return out
