"""The population-filter engine (政策找人): criteria validation and JSON round trip, every filter on a
small world, age on a frozen date, tags the user may not see, and counts per committee in one query."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, user_for_role_in_tree
from shequ.accounts.visibility import visible
from shequ.registry.filters import (
    PersonCriteria,
    age_on,
    birth_bounds,
    counts_per_committee,
    persons_matching,
)
from shequ.registry.models import Person, PersonStatus

from .test_people_world import World, build_world, person_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


AS_OF = date(2025, 6, 15)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def names(world: World, user, as_of: date = AS_OF, **criteria) -> set[str]:
    qs = persons_matching(
        visible(Person.objects.all(), user), PersonCriteria.parse(criteria), user=user, as_of=as_of
    )
    return set(qs.values_list("name", flat=True))


@pytest.fixture
def worker(world):
    return user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)


@pytest.fixture
def admin(world):
    return user_for_role_in_tree(Role.CITY_ADMIN, world.tree)


# --- Criteria ----------------------------------------------------------------------------------


def test_criteria_round_trip_through_json():
    criteria = PersonCriteria.parse(
        {"age_min": "80", "tags_all": "gaoling,dubao", "tenure": "rented", "lives_alone": "true"}
    )
    assert criteria.age_min == 80
    assert criteria.tags_all == ["gaoling", "dubao"]
    stored = criteria.to_json()
    assert stored == {
        "age_min": 80,
        "tags_all": ["gaoling", "dubao"],
        "tenure": "rented",
        "lives_alone": True,
    }
    assert PersonCriteria.parse(stored) == criteria


def test_status_defaults_to_living_here_and_none_means_any():
    assert PersonCriteria().status == PersonStatus.LIVING_HERE
    assert PersonCriteria.parse({"status": ""}).status is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"age_min": 90, "age_max": 80}, "age_max"),
        ({"age_min": -1}, "age_min"),
        ({"status": "gone"}, "status"),
        ({"tenure": "castle"}, "tenure"),
        ({"division": "3101"}, "division"),
        ({"household_size_min": 3, "household_size_max": 2}, "household_size_max"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_criteria_name_the_field(data, field):
    with pytest.raises(ValidationError) as error:
        PersonCriteria.parse(data)
    assert field in error.value.message_dict


# --- Ages --------------------------------------------------------------------------------------


def test_age_bounds_use_birthdays_and_29_february():
    assert birth_bounds(age_min=80, age_max=None, as_of=date(2025, 6, 15)) == (None, date(1945, 6, 15))
    assert birth_bounds(age_min=None, age_max=79, as_of=date(2025, 6, 15)) == (date(1945, 6, 15), None)
    # On 28 February 2025 someone born on 29 February 1944 is still 80; on 1 March they are 81.
    assert age_on(date(1944, 2, 29), date(2025, 2, 28)) == 80
    assert age_on(date(1944, 2, 29), date(2025, 3, 1)) == 81
    assert birth_bounds(age_min=81, age_max=None, as_of=date(2025, 2, 28))[1] == date(1944, 2, 28)


def test_age_at_least_80_includes_the_person_from_their_birthday(world, worker):
    assert names(world, worker, as_of=date(2025, 6, 14), age_min=80) == set()
    assert names(world, worker, as_of=date(2025, 6, 15), age_min=80) == {"张三丰"}
    assert names(world, worker, age_max=40) == {"李四海", "王五娘"}
    assert names(world, worker, age_min=38, age_max=40) == {"李四海"}


def test_age_filter_through_the_api_on_a_frozen_day(world, worker):
    answers = []
    for day in (date(2025, 6, 14), date(2025, 6, 15)):
        with time_machine.travel(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI), tick=False):
            client = Client()
            login(client, worker)
            answers.append(client.get("/api/v1/registry/persons", {"age_min": 80}).json())
    before, on_the_day = answers
    assert before["count"] == 0
    assert [item["id"] for item in on_the_day["items"]] == [world.elder.pk]
    assert on_the_day["items"][0]["age"] == 80


# --- Filters -----------------------------------------------------------------------------------


def test_text_search_by_name_id_phone_and_address(world, worker):
    assert names(world, worker, text="三丰") == {"张三丰"}
    assert names(world, worker, text=world.head.id_number) == {"李四海"}
    assert names(world, worker, text=world.head.id_number[-6:]) == {"李四海"}
    assert names(world, worker, text="139 1234 5678") == {"李四海"}
    assert names(world, worker, text="+8613912345678") == {"李四海"}
    assert names(world, worker, text="1111") == {"王五娘"}
    assert names(world, worker, text=world.tree.compound(1, 1, 1).name[:6]) == {"张三丰", "李四海", "王五娘"}
    assert names(world, worker, text="某路") == {"张三丰"}
    assert names(world, worker, text="12") == set()  # too short to be a number suffix
    # Never beyond the scope, even by exact ID number.
    assert names(world, worker, text=world.other_district.id_number) == set()


def test_tenure_compound_building_and_division(world, worker, admin):
    assert names(world, worker, tenure="rented") == {"李四海", "王五娘"}
    assert names(world, worker, tenure="owner_occupied") == {"张三丰"}
    assert names(world, admin, compound=world.tree.compound(1, 2, 1).code) == {"赵六一"}
    assert names(world, worker, building=world.owned.building_id) == {"张三丰", "李四海", "王五娘"}
    assert names(world, admin, division=world.tree.district(1).code) == {
        "张三丰",
        "李四海",
        "王五娘",
        "赵六一",
    }
    assert names(world, admin, division=world.tree.street(1, 2).code) == {"赵六一"}
    with pytest.raises(ValidationError) as error:
        names(world, admin, division="310999999999")
    assert "division" in error.value.message_dict


def test_household_size_and_lives_alone(world, worker):
    assert names(world, worker, lives_alone=True) == {"张三丰"}
    assert names(world, worker, lives_alone=False) == {"李四海", "王五娘"}
    assert names(world, worker, household_size_min=2) == {"李四海", "王五娘"}
    assert names(world, worker, household_size_max=1) == {"张三丰"}
    assert names(world, worker, age_min=80, lives_alone=True) == {"张三丰"}


def test_sex_kind_status_and_registered_elsewhere(world, worker):
    assert names(world, worker, sex="female") == {"王五娘"}
    assert names(world, worker, population_kind="migrant") == {"李四海", "王五娘"}
    assert names(world, worker, registered_elsewhere=True) == {"李四海"}
    assert names(world, worker, registered_elsewhere=False) == {"张三丰"}
    Person.objects.filter(pk=world.spouse.pk).update(status=PersonStatus.MOVED_OUT)
    assert names(world, worker) == {"张三丰", "李四海"}
    assert names(world, worker, status="moved_out") == {"王五娘"}
    assert names(world, worker, status="") == {"张三丰", "李四海", "王五娘"}


def test_tags_all_and_any(world, admin):
    head = user_for_role_in_tree(Role.COMMITTEE_HEAD, world.tree)
    assert names(world, admin, tags_all=["t-elderly"]) == {"张三丰", "赵六一", "钱七七"}
    assert names(world, head, tags_all=["t-elderly", "t-disabled"]) == {"张三丰"}
    assert names(world, head, tags_any=["t-disabled"]) == {"张三丰"}
    assert names(world, head, tags_any=["t-elderly", "t-disabled"], age_max=81) == {"张三丰"}


@pytest.mark.parametrize("field", ["tags_all", "tags_any"])
def test_a_sensitive_tag_the_user_may_not_see_is_refused_naming_the_field(world, worker, field):
    with pytest.raises(ValidationError) as error:
        names(world, worker, **{field: ["t-disabled"]})
    assert field in error.value.message_dict
    with pytest.raises(ValidationError) as unknown:
        names(world, worker, **{field: ["no-such-tag"]})
    assert field in unknown.value.message_dict


def test_a_sensitive_tag_matches_only_where_the_user_holds_a_role_that_sees_it(world):
    # A civil-affairs officer of district 1 sees 残疾人 in district 1 only, even with a wider scope.
    officer = user_for_role_in_tree(Role.CIVIL_AFFAIRS_OFFICER, world.tree)
    from shequ.registry.tests.test_people_world import tag_on

    tag_on(world.other_district, world.canji)
    wide = Person.objects.all()  # deliberately unscoped: the tag rule narrows on its own
    qs = persons_matching(wide, PersonCriteria(tags_all=["t-disabled"]), user=officer, as_of=AS_OF)
    assert set(qs.values_list("name", flat=True)) == {"张三丰"}


def test_counts_per_committee_in_one_query(world, admin):
    person_in(world.rented, name="孙八八", id_number="", birth=date(2000, 1, 1), mobile="")
    qs = persons_matching(visible(Person.objects.all(), admin), PersonCriteria(), user=admin, as_of=AS_OF)
    with CaptureQueriesContext(connection) as queries:
        rows = counts_per_committee(qs)
    assert len(queries) == 1
    committees = world.tree
    assert rows == [
        (committees.committee(1, 1, 1).code, committees.committee(1, 1, 1).name, 4),
        (committees.committee(1, 2, 1).code, committees.committee(1, 2, 1).name, 1),
        (committees.committee(2, 1, 1).code, committees.committee(2, 1, 1).name, 1),
    ]
