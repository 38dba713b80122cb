"""A small registry world shared by the people tests (imported by them), and the checks that it is built
the way the registry stores people: each person placed at their compound's path and street.

Committee (1, 1, 1) of ``small_tree()`` holds an owner-occupied flat where an 80-year-old lives alone
and a rented flat with a couple; committee (1, 2, 1) (another street) and committee (2, 1, 1) (another
district) each hold one resident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from shequ.accounts.tests.factories import SmallTree, small_tree
from shequ.core.validators import id_check_char
from shequ.places.models import Building, House, Tenure
from shequ.registry.models import (
    AttributeProvenance,
    Household,
    HouseholdMember,
    Person,
    PopulationKind,
    Relation,
    Sex,
    Source,
    TagAssignment,
    TagDefinition,
)

pytestmark = pytest.mark.django_db

CONFIRMED = datetime(2024, 1, 10, 2, 0, tzinfo=UTC)


def make_id(area: str, birth: date, sequence: str = "001") -> str:
    """A formally valid resident ID number (GB 11643 checksum)."""
    first17 = f"{area}{birth:%Y%m%d}{sequence}"
    return first17 + id_check_char(first17)


@dataclass
class World:
    tree: SmallTree
    owned: House  # committee (1, 1, 1), owner-occupied
    rented: House  # committee (1, 1, 1), rented
    elder: Person  # 80 on 2025-06-15, lives alone in ``owned``
    head: Person  # rented flat, head of household
    spouse: Person  # rented flat, spouse
    other_street: Person  # committee (1, 2, 1)
    other_district: Person  # committee (2, 1, 1)
    alone: Household
    couple: Household
    gaoling: TagDefinition  # non-sensitive
    canji: TagDefinition  # sensitive: civil-affairs officers and committee heads only


def house_in(tree: SmallTree, key: tuple[int, int, int], room: str, tenure: str) -> House:
    building = Building.objects.get(compound=tree.compound(*key), number="1")
    return House.objects.create(building=building, unit="1", room=room, tenure=tenure)


def person_in(house: House, *, name: str, id_number: str, birth: date, mobile: str, **extra) -> Person:
    compound = house.building.compound
    return Person.objects.create(
        name=name,
        id_number=id_number,
        birth_date=birth,
        mobile=mobile,
        house=house,
        street_code=compound.committee.code[:9] + "000",
        path=compound.path,
        **extra,
    )


def household_of(house: House, *members: tuple[Person, str]) -> Household:
    compound = house.building.compound
    household = Household.objects.create(
        house=house, street_code=compound.committee.code[:9] + "000", path=compound.path
    )
    for person, relation in members:
        HouseholdMember.objects.create(
            household=household, person=person, relation=relation, street_code=household.street_code
        )
        if relation == Relation.HEAD:
            household.head = person
    household.save()
    return household


def tag_on(person: Person, tag: TagDefinition) -> TagAssignment:
    return TagAssignment.objects.create(
        person=person, tag=tag, assigned_at=CONFIRMED, path=person.path, street_code=person.street_code
    )


def build_world() -> World:
    tree = small_tree()
    owned = house_in(tree, (1, 1, 1), "101", Tenure.OWNER_OCCUPIED)
    rented = house_in(tree, (1, 1, 1), "102", Tenure.RENTED)
    committee = tree.committee(1, 1, 1)
    elder = person_in(
        owned,
        name="张三丰",
        id_number=make_id("310101", date(1945, 6, 15)),
        birth=date(1945, 6, 15),
        mobile="13800138000",
        sex=Sex.MALE,
        registered_address="上海市黄浦区某路1号",
        registered_division=committee,
    )
    head = person_in(
        rented,
        name="李四海",
        id_number=make_id("320102", date(1985, 3, 1), "012"),
        birth=date(1985, 3, 1),
        mobile="13912345678",
        sex=Sex.MALE,
        population_kind=PopulationKind.MIGRANT,
        registered_division=tree.district(2),
    )
    spouse = person_in(
        rented,
        name="王五娘",
        id_number=make_id("320102", date(1987, 9, 9), "024"),
        birth=date(1987, 9, 9),
        mobile="13700001111",
        sex=Sex.FEMALE,
        population_kind=PopulationKind.MIGRANT,
    )
    other_street = person_in(
        house_in(tree, (1, 2, 1), "201", Tenure.OWNER_OCCUPIED),
        name="赵六一",
        id_number=make_id("310101", date(1940, 1, 1), "031"),
        birth=date(1940, 1, 1),
        mobile="13600006666",
    )
    other_district = person_in(
        house_in(tree, (2, 1, 1), "301", Tenure.OWNER_OCCUPIED),
        name="钱七七",
        id_number=make_id("310104", date(1942, 2, 2), "047"),
        birth=date(1942, 2, 2),
        mobile="13500005555",
    )
    alone = household_of(owned, (elder, Relation.HEAD))
    couple = household_of(rented, (head, Relation.HEAD), (spouse, Relation.SPOUSE))
    gaoling = TagDefinition.objects.create(code="t-elderly", name="测试高龄")
    canji = TagDefinition.objects.create(
        code="t-disabled",
        name="测试敏感标签",
        is_sensitive=True,
        visible_to=["civil_affairs_officer", "committee_head"],
        assignable_by=["committee_head"],
    )
    for person in (elder, other_street, other_district):
        tag_on(person, gaoling)
    tag_on(elder, canji)
    AttributeProvenance.objects.create(
        person=elder, attribute="name", source=Source.PUBLIC_SECURITY, confirmed_at=CONFIRMED
    )
    AttributeProvenance.objects.create(
        person=elder, attribute="mobile", source=Source.COMMITTEE, confirmed_at=CONFIRMED
    )
    return World(
        tree=tree,
        owned=owned,
        rented=rented,
        elder=elder,
        head=head,
        spouse=spouse,
        other_street=other_street,
        other_district=other_district,
        alone=alone,
        couple=couple,
        gaoling=gaoling,
        canji=canji,
    )


@pytest.fixture
def world() -> World:
    return build_world()


def test_people_are_placed_at_their_compound_path_and_street(world):
    assert world.elder.path == world.tree.compound(1, 1, 1).path
    assert world.elder.street_code == world.tree.street(1, 1).code
    assert world.other_district.path.startswith(world.tree.district(2).path)
    assert world.couple.members.count() == 2
    assert world.alone.head == world.elder
