import io

import pytest
from django.core.exceptions import ValidationError

from shequ.accounts.models import User
from shequ.core.models import Event
from shequ.core.revisions import revision_token
from shequ.places.importers import division_rows_parse
from shequ.places.models import Division, HousingType
from shequ.places.services import (
    LOCATE_REVISION,
    compound_create,
    compound_update,
    divisions_import,
    grid_create,
)

pytestmark = pytest.mark.django_db

TREE = (
    "level,code,name,parent_code\n"
    "city,310000000000,上海市,\n"
    "district,310101000000,黄浦区,310000000000\n"
    "street,310101002000,南京东路街道,310101000000\n"
    "committee,310101002001,贵州居委会,310101002000\n"
    "committee,310101002002,云南居委会,310101002000\n"
)


@pytest.fixture
def committee():
    divisions_import(rows=division_rows_parse(io.StringIO(TREE)), actor=None)
    return Division.objects.get(code="310101002001")


@pytest.fixture
def actor():
    return User.objects.create_user(username="worker", password="x" * 16)


def make(committee, actor, **kwargs):
    defaults = {"code": "C001", "name": "贵州小区", "committee": committee, "actor": actor}
    return compound_create(**{**defaults, **kwargs})


def test_compound_gets_its_profile_path_and_a_created_event(committee, actor):
    compound = make(
        committee,
        actor,
        housing_type=HousingType.OLD,
        is_walled=False,
        has_property_manager=False,
        entrances=[
            {"name": "南门", "open": True},
            {"name": " 北门 ", "open": False, "lon": 121.48, "lat": 31.24},
        ],
        household_count=320,
        lon=121.4801,
        lat=31.2401,
    )
    assert compound.path == committee.path + "C001/"
    assert compound.entrances == [
        {"name": "南门", "open": True},
        {"name": "北门", "open": False, "lon": 121.48, "lat": 31.24},
    ]
    event = Event.objects.get(type="COMPOUND_CREATED")
    assert event.actor == actor
    assert event.data["housing_type"] == "old"
    assert event.scope_path == compound.path


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lon": 200.0, "lat": 31.2}, "lon"),
        ({"lon": 121.4, "lat": 95.0}, "lat"),
        ({"lon": 121.4}, "lat"),
        ({"lon": float("nan"), "lat": 31.2}, "lon"),
        ({"entrances": [{"name": "南门"}]}, "entrances"),
        ({"entrances": [{"name": "", "open": True}]}, "entrances"),
        ({"entrances": [{"name": "南门", "open": "yes"}]}, "entrances"),
        ({"entrances": [{"name": "南门", "open": True, "colour": "red"}]}, "entrances"),
        ({"entrances": [{"name": "南门", "open": True}, {"name": "南门", "open": False}]}, "entrances"),
        ({"entrances": "南门"}, "entrances"),
        ({"housing_type": "villa"}, "housing_type"),
        ({"housing_type": HousingType.RURAL_HOMESTEAD}, "is_rural_homestead"),
        ({"household_count": -1}, "household_count"),
        ({"name": "  "}, "name"),
        ({"code": "a/b"}, "code"),
        ({"boundary": {"type": "Point", "coordinates": [121.4, 31.2]}}, "boundary"),
    ],
)
def test_invalid_profiles_are_refused_naming_the_field(committee, actor, kwargs, field):
    with pytest.raises(ValidationError) as info:
        make(committee, actor, **kwargs)
    assert field in info.value.message_dict
    assert not Event.objects.filter(type="COMPOUND_CREATED").exists()


def test_compound_must_belong_to_a_committee(committee, actor):
    with pytest.raises(ValidationError) as info:
        make(committee.parent, actor)
    assert "committee" in info.value.message_dict


def test_duplicate_code_is_refused(committee, actor):
    make(committee, actor)
    with pytest.raises(ValidationError) as info:
        make(committee, actor)
    assert "code" in info.value.message_dict


def test_update_records_old_and_new_values(committee, actor):
    compound = make(committee, actor)
    updated = compound_update(
        compound=compound, actor=actor, household_count=12, entrances=[{"name": "东门", "open": False}]
    )
    assert updated.household_count == 12
    event = Event.objects.get(type="COMPOUND_UPDATED")
    assert event.data["household_count"] == {"old": 0, "new": 12}
    assert event.data["entrances"] == {"old": [], "new": [{"name": "东门", "open": False}]}
    assert set(event.data) == {"household_count", "entrances"}


def test_update_without_changes_writes_no_event(committee, actor):
    compound = make(committee, actor, household_count=5)
    compound_update(compound=compound, actor=actor, household_count=5)
    assert not Event.objects.filter(type="COMPOUND_UPDATED").exists()


def test_update_validates_the_merged_profile(committee, actor):
    compound = make(committee, actor, lon=121.48, lat=31.24)
    with pytest.raises(ValidationError) as info:
        compound_update(compound=compound, actor=actor, lat=None)
    assert "lat" in info.value.message_dict
    compound.refresh_from_db()
    assert compound.lat == 31.24


def test_moving_a_compound_bumps_the_locate_revision(committee, actor):
    compound = make(committee, actor, lon=121.48, lat=31.24)
    before = revision_token(LOCATE_REVISION)
    compound_update(compound=compound, actor=actor, household_count=9)
    assert revision_token(LOCATE_REVISION) == before
    compound_update(compound=compound, actor=actor, lon=121.481)
    assert revision_token(LOCATE_REVISION) != before


def test_grid_path_uses_g_prefix_and_compound_grid_must_be_local(committee, actor):
    grid = grid_create(code="0101", name="第一网格", division=committee, actor=actor)
    assert grid.path == committee.path + "g0101/"
    assert Event.objects.get(type="GRID_CREATED").scope_path == grid.path
    compound = make(committee, actor, grid=grid)
    assert compound.grid == grid

    other = Division.objects.get(code="310101002002")
    foreign = grid_create(code="0201", name="第二网格", division=other, actor=actor)
    with pytest.raises(ValidationError) as info:
        make(committee, actor, code="C002", grid=foreign)
    assert "grid" in info.value.message_dict

    street_grid = grid_create(code="S01", name="街镇网格", division=committee.parent, actor=actor)
    assert make(committee, actor, code="C003", grid=street_grid).grid == street_grid


def test_grid_needs_a_committee_or_street(committee, actor):
    with pytest.raises(ValidationError) as info:
        grid_create(code="D1", name="区网格", division=committee.parent.parent, actor=actor)
    assert "division" in info.value.message_dict


def test_the_kept_rows_follow_a_change_made_by_a_service_or_a_save(committee, actor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from shequ.core.revisions import revisions_pinned
    from shequ.places.lookups import compound_by_code, division_by_code

    compound = make(committee, actor, lon=121.48, lat=31.24)
    assert compound_by_code(compound.code).name == compound.name
    with revisions_pinned(), CaptureQueriesContext(connection) as captured:
        assert compound_by_code(compound.code).pk == compound.pk
        assert division_by_code(committee.code).pk == committee.pk
    assert len(captured) == 2  # the tokens, the committee (the compound was kept)
    compound_update(compound=compound, actor=actor, name="新名字小区")
    assert compound_by_code(compound.code).name == "新名字小区"
    committee.name = "改名居委会"
    committee.save(update_fields=["name"])
    assert division_by_code(committee.code).name == "改名居委会"
    assert compound_by_code("nope") is None
