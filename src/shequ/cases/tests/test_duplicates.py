"""Duplicate suggestion while reporting: same category, within the radius, similar text."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from shequ.accounts.tests.factories import SmallTree, small_tree
from shequ.cases.duplicates import (
    SIMILARITY_THRESHOLD,
    duplicate_candidates,
    text_ngrams,
    text_normalised,
    text_similarity,
)
from shequ.cases.models import Case, CaseState, Category, CategoryKind
from shequ.places.geo import EARTH_RADIUS_M

pytestmark = pytest.mark.django_db

LON, LAT = 121.4800, 31.2350
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
WHEN = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

GARBAGE = "路口有一堆垃圾没人清理"
GARBAGE_AGAIN = "十字路口垃圾堆放很久了"
LAMP = "小区门口路灯不亮"

_numbers = count(1)


def at(east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    """The point ``east_m`` metres east and ``north_m`` metres north of (LON, LAT)."""
    return (
        LON + east_m / (M_PER_DEG * math.cos(math.radians(LAT))),
        LAT + north_m / M_PER_DEG,
    )


def category_create(minor: int, *, radius: int = 250) -> Category:
    return Category.objects.create(
        code=f"E99{minor:02d}",
        kind=CategoryKind.EVENT,
        major_code="99",
        major_name="测试大类",
        minor_code=f"{minor:02d}",
        name=f"测试小类{minor}",
        duplicate_radius_m=radius,
    )


def case_create(
    tree: SmallTree,
    category: Category,
    description: str,
    point: tuple[float, float] | None = (LON, LAT),
    *,
    street: tuple[int, int] = (1, 1),
    committee: int = 1,
    with_compound: bool = True,
    state: str = CaseState.REGISTERED,
    reported_at: datetime = WHEN,
    **extra: Any,
) -> Case:
    committee_node = tree.committee(*street, committee)
    street_node = tree.street(*street)
    n = next(_numbers)
    return Case.objects.create(
        number=f"SQ20250602{n:06d}",
        channel="resident_web",
        category=category,
        description=description,
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        district=tree.district(street[0]),
        street=street_node,
        committee=committee_node,
        compound=tree.compound(*street, committee) if with_compound else None,
        path=committee_node.path,
        street_code=street_node.code,
        state=state,
        reported_at=reported_at,
        updated_at=reported_at,
        **extra,
    )


def suggest(
    tree: SmallTree,
    category: Category,
    text: str,
    point: tuple[float, float] | None = (LON, LAT),
    **extra: Any,
) -> list[Case]:
    return [c.case for c in candidates(tree, category, text, point, **extra)]


def candidates(
    tree: SmallTree,
    category: Category,
    text: str,
    point: tuple[float, float] | None = (LON, LAT),
    **extra: Any,
) -> list[Any]:
    extra.setdefault("street_code", tree.street(1, 1).code)
    return duplicate_candidates(
        category=category,
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        text=text,
        **extra,
    )


@pytest.fixture
def tree() -> SmallTree:
    return small_tree()


@pytest.fixture
def garbage() -> Category:
    return category_create(1)


# --- text ------------------------------------------------------------------------------------------


def test_normalisation_drops_punctuation_space_and_width_and_case() -> None:
    assert text_normalised("路口，垃圾！ Ａｂｃ\t１２") == "路口垃圾abc12"


def test_normalisation_drops_stock_phrases() -> None:
    assert text_normalised("路口的垃圾已经好几天了，希望相关部门尽快处理，谢谢！") == "路口垃圾"


def test_shared_stock_phrases_do_not_make_texts_similar() -> None:
    lamp = "十字路口好几盏路灯都不亮，很长时间了，请相关部门管一管。"
    bikes = "小区后门电动车把盲道堵了，很长时间了，请相关部门管一管。"
    assert text_similarity(lamp, bikes) < SIMILARITY_THRESHOLD


def test_ngrams_are_character_bigrams_and_trigrams() -> None:
    assert text_ngrams("垃圾桶满") == {"垃圾", "圾桶", "桶满", "垃圾桶", "圾桶满"}
    assert text_ngrams("垃") == {"垃"}
    assert text_ngrams("") == frozenset()


def test_same_matter_in_other_words_reaches_the_threshold() -> None:
    assert text_similarity(GARBAGE, GARBAGE_AGAIN) >= SIMILARITY_THRESHOLD
    long_ticket = "福州路与山西南路十字路口垃圾堆放很久了，气味很大，希望尽快清理。"
    assert text_similarity(GARBAGE, long_ticket) >= SIMILARITY_THRESHOLD


def test_different_matter_stays_below_the_threshold() -> None:
    assert text_similarity(GARBAGE, LAMP) < SIMILARITY_THRESHOLD
    assert text_similarity(GARBAGE, "路灯坏了好几天，晚上很黑") < SIMILARITY_THRESHOLD


def test_identical_texts_are_fully_similar() -> None:
    assert text_similarity(GARBAGE, f"  {GARBAGE}！") == pytest.approx(1.0)


# --- who is suggested --------------------------------------------------------------------------------


def test_open_case_of_the_same_category_within_the_radius_is_suggested(
    tree: SmallTree, garbage: Category
) -> None:
    near = case_create(tree, garbage, GARBAGE_AGAIN, at(east_m=120))

    [found] = candidates(tree, garbage, GARBAGE)

    assert found.case == near
    assert found.distance_m == pytest.approx(120, abs=0.5)
    assert found.similarity >= SIMILARITY_THRESHOLD
    assert 0 < found.score <= 1
    assert found.case.category == garbage


def test_every_open_state_is_suggested(tree: SmallTree, garbage: Category) -> None:
    open_states = [
        CaseState.REPORTED,
        CaseState.VERIFYING,
        CaseState.REGISTERED,
        CaseState.DISPATCHED,
        CaseState.RETURN_REQUESTED,
        CaseState.HANDLING,
        CaseState.EXTENSION_REQUESTED,
        CaseState.SUSPENDED,
        CaseState.HANDLED,
        CaseState.CHECKING,
        CaseState.CONFIRMING,
    ]
    made = {case_create(tree, garbage, GARBAGE, state=state) for state in open_states}

    assert set(suggest(tree, garbage, GARBAGE, limit=20)) == made


def test_other_category_is_not_suggested(tree: SmallTree, garbage: Category) -> None:
    lamps = category_create(2)
    case_create(tree, lamps, GARBAGE)

    assert suggest(tree, garbage, GARBAGE) == []


def test_case_outside_the_radius_is_not_suggested(tree: SmallTree, garbage: Category) -> None:
    inside = case_create(tree, garbage, GARBAGE, at(north_m=240))
    case_create(tree, garbage, GARBAGE, at(north_m=260))
    # In the corner of the search box but 300 m away: the exact distance decides.
    case_create(tree, garbage, GARBAGE, at(east_m=212, north_m=212))

    assert suggest(tree, garbage, GARBAGE) == [inside]


def test_the_categorys_own_radius_applies(tree: SmallTree) -> None:
    wide = category_create(3, radius=600)
    far = case_create(tree, wide, GARBAGE, at(east_m=-550))

    assert suggest(tree, wide, GARBAGE) == [far]


@pytest.mark.parametrize("state", [CaseState.CLOSED, CaseState.REJECTED])
def test_final_cases_are_not_suggested(tree: SmallTree, garbage: Category, state: str) -> None:
    case_create(tree, garbage, GARBAGE, state=state)

    assert suggest(tree, garbage, GARBAGE) == []


def test_merged_cases_are_not_suggested_their_master_is(tree: SmallTree, garbage: Category) -> None:
    master = case_create(tree, garbage, GARBAGE)
    case_create(tree, garbage, GARBAGE, state=CaseState.MERGED, master=master)

    assert suggest(tree, garbage, GARBAGE) == [master]


def test_case_of_another_street_is_not_suggested(tree: SmallTree, garbage: Category) -> None:
    case_create(tree, garbage, GARBAGE, street=(1, 2))

    assert suggest(tree, garbage, GARBAGE) == []


def test_dissimilar_text_is_not_suggested(tree: SmallTree, garbage: Category) -> None:
    similar = case_create(tree, garbage, GARBAGE_AGAIN, at(east_m=30))
    case_create(tree, garbage, LAMP, at(east_m=10))

    assert suggest(tree, garbage, GARBAGE) == [similar]


def test_the_case_itself_is_excluded(tree: SmallTree, garbage: Category) -> None:
    own = case_create(tree, garbage, GARBAGE)
    other = case_create(tree, garbage, GARBAGE_AGAIN, at(north_m=50))

    assert suggest(tree, garbage, GARBAGE, exclude_id=own.pk) == [other]


def test_empty_text_suggests_nothing(tree: SmallTree, garbage: Category) -> None:
    case_create(tree, garbage, GARBAGE)

    assert suggest(tree, garbage, " ，。 ") == []


# --- without a point ---------------------------------------------------------------------------------


def test_address_only_report_matches_its_compound_by_text(tree: SmallTree, garbage: Category) -> None:
    same_compound = case_create(tree, garbage, GARBAGE_AGAIN, at(east_m=900))
    no_point = case_create(tree, garbage, GARBAGE, None)
    case_create(tree, garbage, LAMP)
    case_create(tree, garbage, GARBAGE, committee=2)

    found = candidates(tree, garbage, GARBAGE, None, compound_id=tree.compound(1, 1, 1).pk)

    assert [c.case for c in found] == [no_point, same_compound]
    assert all(c.distance_m is None for c in found)


def test_address_only_report_without_compound_matches_its_committee(
    tree: SmallTree, garbage: Category
) -> None:
    in_committee = case_create(tree, garbage, GARBAGE, None, with_compound=False)
    case_create(tree, garbage, GARBAGE, None, committee=2)

    assert suggest(tree, garbage, GARBAGE, None, committee_id=tree.committee(1, 1, 1).pk) == [in_committee]


def test_report_without_point_or_place_suggests_nothing(tree: SmallTree, garbage: Category) -> None:
    case_create(tree, garbage, GARBAGE)

    assert suggest(tree, garbage, GARBAGE, None) == []


def test_pinned_report_also_meets_address_only_cases_of_its_compound(
    tree: SmallTree, garbage: Category
) -> None:
    hotline = case_create(tree, garbage, GARBAGE, None)
    case_create(tree, garbage, GARBAGE, None, committee=2)

    found = candidates(tree, garbage, GARBAGE, compound_id=tree.compound(1, 1, 1).pk)

    assert [c.case for c in found] == [hotline]
    assert found[0].distance_m is None
    # Without the compound the pinned report has no way to place it.
    assert suggest(tree, garbage, GARBAGE) == []


# --- ranking, limit, cost ----------------------------------------------------------------------------


def test_nearer_case_ranks_first_for_the_same_text(tree: SmallTree, garbage: Category) -> None:
    far = case_create(tree, garbage, GARBAGE, at(north_m=200))
    near = case_create(tree, garbage, GARBAGE, at(north_m=20))

    found = candidates(tree, garbage, GARBAGE)

    assert [c.case for c in found] == [near, far]
    assert found[0].score > found[1].score


def test_more_similar_case_ranks_first_at_the_same_distance(tree: SmallTree, garbage: Category) -> None:
    loose = case_create(tree, garbage, GARBAGE_AGAIN, at(east_m=50))
    same = case_create(tree, garbage, GARBAGE, at(east_m=-50))

    found = candidates(tree, garbage, GARBAGE)

    assert [c.case for c in found] == [same, loose]
    assert found[0].similarity > found[1].similarity


def test_equal_scores_rank_the_newer_case_first(tree: SmallTree, garbage: Category) -> None:
    older = case_create(tree, garbage, GARBAGE, reported_at=WHEN - timedelta(days=2))
    newer = case_create(tree, garbage, GARBAGE)

    assert suggest(tree, garbage, GARBAGE) == [newer, older]


def test_limit_keeps_the_best(tree: SmallTree, garbage: Category) -> None:
    made = [case_create(tree, garbage, GARBAGE, at(north_m=10 * k)) for k in range(8)]

    assert suggest(tree, garbage, GARBAGE) == made[:5]
    assert suggest(tree, garbage, GARBAGE, limit=2) == made[:2]
    assert suggest(tree, garbage, GARBAGE, limit=0) == []


def test_two_queries_at_most(tree: SmallTree, garbage: Category, django_assert_num_queries: Any) -> None:
    for k in range(12):
        case_create(tree, garbage, GARBAGE if k % 2 else LAMP, at(east_m=15 * k))

    with django_assert_num_queries(2):
        found = candidates(tree, garbage, GARBAGE, limit=10)
        numbers = [c.case.number for c in found]
        categories = [c.case.category.code for c in found]

    assert len(numbers) == 6
    assert set(categories) == {garbage.code}


def test_one_query_when_nothing_is_near(
    tree: SmallTree, garbage: Category, django_assert_num_queries: Any
) -> None:
    case_create(tree, garbage, GARBAGE, at(east_m=2000))

    with django_assert_num_queries(1):
        assert suggest(tree, garbage, GARBAGE) == []
