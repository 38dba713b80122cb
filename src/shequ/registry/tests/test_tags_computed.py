"""Computed tags: 高龄老人 appears on the 80th birthday (frozen time), the refresh is idempotent and
set-based, ends tags that no longer match, handles 29 February, and runs as a command and a task."""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shequ.accounts.tests.factories import compound_create
from shequ.core.models import Event
from shequ.places.models import Building, House
from shequ.registry.models import PersonStatus, TagAssignment, TagDefinition, TagRule
from shequ.registry.services_tags import (
    NO_LONGER_MATCHES,
    computed_tags_refresh,
    computed_tags_refresh_request,
)
from shequ.registry.tasks_tags import computed_tags_refresh_task

from .test_people_world import World, build_world, make_id, person_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date) -> time_machine.travel:
    return time_machine.travel(datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI), tick=False)


def open_codes(person) -> set[str]:
    return set(
        TagAssignment.objects.filter(person=person, ended_at__isnull=True, tag__rule__gt="").values_list(
            "tag__code", flat=True
        )
    )


def test_oldest_old_appears_on_the_80th_birthday_not_the_day_before(world):
    # The elder was born on 1945-06-15.
    with at(date(2025, 6, 14)):
        call_command("registry_tags_refresh", stdout=StringIO())
    assert "oldest_old" not in open_codes(world.elder)
    assert "elderly" in open_codes(world.elder)
    with at(date(2025, 6, 15)):
        out = StringIO()
        call_command("registry_tags_refresh", stdout=out)
    assert "oldest_old" in open_codes(world.elder)
    assert "as_of=2025-06-15" in out.getvalue()
    assignment = TagAssignment.objects.get(person=world.elder, tag__code="oldest_old")
    assert assignment.assigned_by is None
    assert assignment.path == world.elder.path
    assert assignment.street_code == world.elder.street_code


def test_the_refresh_is_idempotent(world):
    first = computed_tags_refresh(as_of=date(2025, 6, 15))
    rows = list(TagAssignment.objects.order_by("pk").values_list("pk", "person_id", "tag_id", "ended_at"))
    second = computed_tags_refresh(as_of=date(2025, 6, 15))
    assert first.assigned["oldest_old"] == 3  # the elder, and the two residents born in 1940
    assert 1942
    assert first.assigned["elderly"] == 3
    assert second.total_assigned == 0
    assert second.total_ended == 0
    assert (
        list(TagAssignment.objects.order_by("pk").values_list("pk", "person_id", "tag_id", "ended_at"))
        == rows
    )
    assert Event.objects.filter(type="COMPUTED_TAGS_REFRESHED").count() == 4  # per tag and run


def test_tags_end_for_people_who_no_longer_match_and_come_back_when_they_do(world):
    computed_tags_refresh(as_of=date(2025, 6, 15))
    world.other_street.status = PersonStatus.DECEASED
    world.other_street.save(update_fields=["status"])
    world.other_district.birth_date = date(1990, 2, 2)  # a corrected birth date
    world.other_district.save(update_fields=["birth_date"])
    report = computed_tags_refresh(as_of=date(2025, 6, 16))
    assert report.ended == {"elderly": 2, "oldest_old": 2}
    ended = TagAssignment.objects.get(person=world.other_street, tag__code="oldest_old")
    assert ended.ended_at is not None
    assert ended.end_reason == NO_LONGER_MATCHES
    assert open_codes(world.other_district) == set()
    world.other_district.birth_date = date(1942, 2, 2)
    world.other_district.save(update_fields=["birth_date"])
    computed_tags_refresh(as_of=date(2025, 6, 17))
    assert open_codes(world.other_district) == {"oldest_old", "elderly"}
    assert TagAssignment.objects.filter(person=world.other_district, tag__code="oldest_old").count() == 2


def test_hand_assigned_tags_are_left_alone(world):
    manual = TagAssignment.objects.get(person=world.elder, tag=world.canji)
    world.elder.status = PersonStatus.MOVED_OUT
    world.elder.save(update_fields=["status"])
    computed_tags_refresh(as_of=date(2025, 6, 15))
    manual.refresh_from_db()
    assert manual.ended_at is None


def test_born_on_29_february_turns_a_year_older_on_1_march_in_common_years(world):
    TagDefinition.objects.create(code="t-81", name="八十一岁", rule=TagRule.AGE_AT_LEAST, rule_value=81)
    leapling = person_in(
        world.owned,
        name="闰日生",
        id_number=make_id("310101", date(1944, 2, 29), "055"),
        birth=date(1944, 2, 29),
        mobile="13811112222",
    )
    computed_tags_refresh(as_of=date(2024, 2, 28))
    assert "oldest_old" not in open_codes(leapling)
    computed_tags_refresh(as_of=date(2024, 2, 29))  # a leap year: the birthday itself
    assert "oldest_old" in open_codes(leapling)
    computed_tags_refresh(as_of=date(2025, 2, 28))
    assert "t-81" not in open_codes(leapling)
    computed_tags_refresh(as_of=date(2025, 3, 1))  # 2025 has no 29 February
    assert "t-81" in open_codes(leapling)


def test_open_tags_follow_their_person_to_another_compound(world):
    computed_tags_refresh(as_of=date(2025, 6, 15))
    other = world.tree.committee(1, 2, 2)
    compound = compound_create(code="C-MOVE", name="新小区", committee=other)
    house = House.objects.create(building=Building.objects.create(compound=compound, number="9"), room="901")
    world.elder.house = house
    world.elder.path = compound.path
    world.elder.street_code = other.code[:9] + "000"
    world.elder.save(update_fields=["house", "path", "street_code"])
    report = computed_tags_refresh(as_of=date(2025, 6, 16))
    assert report.moved >= 2
    for assignment in TagAssignment.objects.filter(person=world.elder, ended_at__isnull=True):
        assert assignment.path == compound.path
        assert assignment.street_code == world.elder.street_code


def test_the_refresh_costs_the_same_queries_for_few_or_many_people(world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            computed_tags_refresh(as_of=date(2025, 6, 15))
        return len(ctx.captured_queries)

    TagAssignment.objects.filter(tag__rule__gt="").delete()
    few = queries()
    TagAssignment.objects.filter(tag__rule__gt="").delete()
    for n in range(40):
        person_in(
            world.owned,
            name=f"长者{n}",
            id_number=make_id("310101", date(1930, 1, 1 + n % 28), f"{100 + n}"),
            birth=date(1930, 1, 1 + n % 28),
            mobile=f"1380000{n:04d}",
        )
    many = queries()
    assert many == few
    assert TagAssignment.objects.filter(tag__code="oldest_old", ended_at__isnull=True).count() == 43


def test_the_task_refreshes_on_the_given_day(world):
    result = computed_tags_refresh_task.enqueue(as_of="2025-06-15")
    assert result.return_value["assigned"]["oldest_old"] == 3
    assert "oldest_old" in open_codes(world.elder)


def test_the_daily_request_runs_once_a_day(world, django_capture_on_commit_callbacks):
    with at(date(2025, 6, 15)):
        with django_capture_on_commit_callbacks(execute=True):
            assert computed_tags_refresh_request() is True
        assert "oldest_old" in open_codes(world.elder)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert computed_tags_refresh_request() is False
        assert callbacks == []
    with at(date(2025, 6, 16)), django_capture_on_commit_callbacks(execute=True):
        assert computed_tags_refresh_request() is True
