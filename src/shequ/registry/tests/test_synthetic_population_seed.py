from __future__ import annotations

import inspect
import re
from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shequ.core.models import Event
from shequ.places.models import Building, Compound, Division, House, HousingType, Tenure
from shequ.registry.models import (
    DocumentType,
    Household,
    HouseholdMember,
    Person,
    PersonStatus,
    PopulationKind,
    Relation,
)
from shequ.registry.selectors import SeedScale, committee_contexts, seed_committees
from shequ.registry.services import (
    SYNTHETIC_POPULATION_SEEDED,
    CommitteeOutcome,
    synthetic_population_seed,
)
from shequ.registry.synthetic import (
    DISTRICT_AREA_CODES,
    CommitteeContext,
    committee_population,
    iter_committee_populations,
)

from .conftest import JIANGQIU_VILLAGE, NANJING_EAST_ROAD, SHESHAN_TOWN

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
SHANGHAI_BOX = (120.8, 30.6, 122.2, 31.9)  # lon/lat bounds of the city's land area


def gb11643_valid(number: str) -> bool:
    """Independent check of GB 11643 (ISO 7064 MOD 11-2), written from the standard."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(number[:17]))
    return "10X98765432"[total % 11] == number[17]


def _seed_village(**kwargs):
    return synthetic_population_seed(scale=SeedScale.STREET, street_code=SHESHAN_TOWN, as_of=AS_OF, **kwargs)


def _snapshot() -> list[tuple]:
    return list(
        Person.objects.order_by("id_number").values_list(
            "name", "id_number", "birth_date", "sex", "mobile", "status", "path", "house__room"
        )
    )


def test_seeded_identity_numbers_pass_the_gb11643_checksum(village_only):
    _seed_village()
    persons = list(Person.objects.all())
    assert persons
    for person in persons:
        assert gb11643_valid(person.id_number), person.id_number
        assert person.id_number[6:14] == f"{person.birth_date:%Y%m%d}"
        # The 17th digit is odd for men, even for women.
        assert (int(person.id_number[16]) % 2 == 1) == (person.sex == "male")
        if person.document_type == DocumentType.RESIDENT_ID:
            assert person.id_number[:6] in DISTRICT_AREA_CODES
        elif person.document_type == DocumentType.FOREIGN_PERMANENT_RESIDENCE:
            assert person.id_number.startswith("931")
        else:
            assert person.id_number[:2] in ("81", "82", "83")
    assert len({p.id_number for p in persons}) == len(persons)


def test_every_seeded_row_is_synthetic(village_only):
    report = _seed_village()
    assert report.seeded == 1
    for model in (Compound, Building, House, Person, Household, HouseholdMember):
        assert model.objects.exists(), model
        assert not model.objects.filter(is_synthetic=False).exists(), model


def test_village_has_rural_homesteads_and_fewer_households(village_only):
    _seed_village()
    compounds = Compound.objects.all()
    assert compounds.filter(housing_type=HousingType.RURAL_HOMESTEAD, is_rural_homestead=True).exists()
    households = Household.objects.count()
    assert 200 <= households <= 900


def test_urban_committee_counts_fall_within_the_distributions(divisions):
    committee = divisions["310101002001"]
    synthetic_population_seed(scale=SeedScale.STREET, street_code=NANJING_EAST_ROAD, as_of=AS_OF)

    compounds = Compound.objects.filter(committee=committee)
    assert 1 <= compounds.count() <= 4
    households = Household.objects.filter(path__startswith=committee.path)
    assert 1000 <= households.count() <= 3000
    for compound in compounds:
        assert compound.path == f"{committee.path}{compound.code}/"
        assert (
            compound.household_count == Household.objects.filter(house__building__compound=compound).count()
        )
        assert SHANGHAI_BOX[0] < compound.lon < SHANGHAI_BOX[2]
        assert SHANGHAI_BOX[1] < compound.lat < SHANGHAI_BOX[3]

    sizes = Counter(
        HouseholdMember.objects.filter(household__path__startswith=committee.path).values_list(
            "household_id", flat=True
        )
    )
    assert set(sizes.values()) <= {1, 2, 3, 4, 5, 6}
    assert 2.3 <= sum(sizes.values()) / len(sizes) <= 2.9
    assert len(sizes) == households.count()
    assert HouseholdMember.objects.filter(relation=Relation.HEAD).count() == Household.objects.count()

    living = Person.objects.filter(path__startswith=committee.path, status=PersonStatus.LIVING_HERE)
    total = living.count()
    births = list(living.values_list("birth_date", flat=True))
    aged_60 = sum(1 for b in births if (AS_OF - b).days >= 60 * 365.25)
    assert 0.18 <= aged_60 / total <= 0.30
    men = living.filter(sex="male").count()
    assert 0.9 <= men / (total - men) <= 1.12
    registered = living.filter(population_kind=PopulationKind.REGISTERED).count()
    assert 0.55 <= registered / total <= 0.85

    former = Person.objects.filter(path__startswith=committee.path).exclude(status=PersonStatus.LIVING_HERE)
    assert former.filter(status=PersonStatus.MOVED_OUT).exists()
    assert former.filter(status=PersonStatus.DECEASED).exists()
    assert not former.filter(house__isnull=False).exists()

    houses = House.objects.filter(building__compound__committee=committee)
    tenure = Counter(houses.values_list("tenure", flat=True))
    share = {key: value / houses.count() for key, value in tenure.items()}
    assert 0.58 <= share[Tenure.OWNER_OCCUPIED] <= 0.72
    assert 0.19 <= share[Tenure.RENTED] <= 0.31
    assert 0.03 <= share[Tenure.VACANT] <= 0.07
    assert 0.02 <= share.get(Tenure.PUBLIC_RENTAL, 0) + share.get(Tenure.RESETTLEMENT, 0) <= 0.09
    assert not Household.objects.filter(house__tenure=Tenure.VACANT).exists()

    mobiles = [m for m in Person.objects.values_list("mobile", flat=True) if m]
    assert mobiles
    assert all(MOBILE.match(m) and m[:3] in ("198", "199") for m in mobiles)
    street = committee.code[:9] + "000"
    assert set(Person.objects.values_list("street_code", flat=True)) == {street}
    assert set(Household.objects.values_list("street_code", flat=True)) == {street}
    assert set(HouseholdMember.objects.values_list("street_code", flat=True)) == {street}


def test_seeding_again_skips_committees_already_seeded(village_only):
    first = _seed_village()
    before = (Person.objects.count(), Household.objects.count(), Compound.objects.count())
    second = _seed_village()
    assert first.seeded == 1
    assert second.seeded == 0
    assert second.skipped == 1
    assert (Person.objects.count(), Household.objects.count(), Compound.objects.count()) == before
    assert Event.objects.filter(type=SYNTHETIC_POPULATION_SEEDED).count() == 1


def test_same_seed_gives_the_same_population_and_another_seed_does_not(village_only):
    _seed_village(seed=7)
    first = _snapshot()
    report = _seed_village(seed=7, reset=True)
    assert report.deleted > 0
    assert _snapshot() == first
    _seed_village(seed=8, reset=True)
    assert _snapshot() != first


def test_reset_never_touches_real_rows(village_only):
    village = village_only[JIANGQIU_VILLAGE]
    real_compound = Compound.objects.create(
        code="310117103201900", name="真实小区", committee=village, path=f"{village.path}310117103201900/"
    )
    real_house = House.objects.create(
        building=Building.objects.create(compound=real_compound, number="1"), room="101"
    )
    real_person = Person.objects.create(
        name="真实居民", id_number="", street_code=SHESHAN_TOWN, path=real_compound.path, house=real_house
    )
    # A committee that holds real compounds is never seeded, and reset leaves the real rows alone.
    report = _seed_village(reset=True)
    assert report.seeded == 0
    assert not Person.objects.filter(is_synthetic=True).exists()
    Compound.objects.filter(pk=real_compound.pk).update(committee=village_only["310117000000"])
    _seed_village()
    assert Person.objects.filter(is_synthetic=True).exists()
    _seed_village(reset=True)
    assert Person.objects.filter(pk=real_person.pk).exists()
    assert House.objects.filter(pk=real_house.pk).exists()
    assert Compound.objects.filter(pk=real_compound.pk).exists()


def test_committee_with_real_compounds_is_reported_and_skipped(village_only):
    village = village_only[JIANGQIU_VILLAGE]
    Compound.objects.create(
        code="310117103201900", name="真实小区", committee=village, path=f"{village.path}x/"
    )
    report = _seed_village()
    assert report.skipped == 1
    assert not Person.objects.exists()


def test_generated_id_already_registered_is_renumbered(village_only):
    ctx = committee_contexts(seed_committees(scale=SeedScale.STREET, street_code=SHESHAN_TOWN))[0]
    planned = committee_population(ctx, seed=1, as_of=AS_OF).persons[0]
    Person.objects.create(
        name="已登记居民",
        document_type=planned.document_type,
        id_number=planned.id_number,
        street_code="310101002000",
        path="310000000000/",
    )
    report = _seed_village()
    assert report.seeded == 1
    assert Person.objects.filter(id_number=planned.id_number).count() == 1
    assert Person.objects.filter(is_synthetic=True, name=planned.name, birth_date=planned.birth_date).exists()


def test_compounds_are_placed_inside_the_district_boundary(village_only):
    square = [[121.10, 31.05], [121.16, 31.05], [121.16, 31.11], [121.10, 31.11], [121.10, 31.05]]
    Division.objects.filter(code="310117000000").update(boundary={"type": "Polygon", "coordinates": [square]})
    _seed_village()
    for lon, lat in Compound.objects.values_list("lon", "lat"):
        assert 121.10 <= lon <= 121.16
        assert 31.05 <= lat <= 31.11


def test_generator_yields_one_committee_at_a_time():
    pulled: list[str] = []

    def committees():
        for code in ("310117103201", "310117103202", "310117103203"):
            pulled.append(code)
            yield CommitteeContext(
                committee_id=1,
                code=code,
                name="江秋村村委会",
                path=f"310000000000/310117000000/310117103000/{code}/",
                kind="village_committee",
                street_name="佘山镇",
                district_name="松江区",
            )

    populations = iter_committee_populations(committees(), seed=1, as_of=AS_OF)
    assert inspect.isgenerator(populations)
    assert pulled == []
    first = next(populations)
    # Only the first committee has been read and built; nothing of the others is held.
    assert pulled == ["310117103201"]
    assert {c.path.split("/")[-3] for c in first.compounds} == {"310117103201"}
    assert {p.path.split("/")[-3] for p in first.persons} == {"310117103201"}
    second = next(populations)
    assert pulled == ["310117103201", "310117103202"]
    assert second.persons[0].id_number != first.persons[0].id_number


def test_writes_are_batched_not_per_row(village_only):
    with CaptureQueriesContext(connection) as queries:
        report = _seed_village()
    rows = sum(report.counts.values())
    assert rows > 2000
    inserts = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    # Dozens of rows per INSERT at least (SQLite caps statements at 999 parameters).
    assert len(inserts) < rows / 50


def test_demo_scale_takes_central_committees_and_a_suburban_village(divisions):
    committees = list(seed_committees(scale=SeedScale.DEMO))
    codes = [c.code for c in committees]
    assert codes[:3] == ["310101002001", "310101002002", "310101002003"]
    assert "310117103201" in codes
    assert "310117103001" in codes
    assert {c.kind for c in committees} == {"residents_committee", "village_committee"}


def test_seed_command_says_the_data_are_synthetic(village_only):
    out = StringIO()
    call_command(
        "seed",
        scale="street",
        street_code=SHESHAN_TOWN,
        seed=3,
        no_progress=True,
        stdout=out,
        stderr=StringIO(),
    )
    text = out.getvalue()
    assert "合成" in text
    assert "虚构" in text
    assert Person.objects.filter(is_synthetic=True).exists()
    out = StringIO()
    call_command(
        "seed", scale="street", street_code=SHESHAN_TOWN, no_progress=True, stdout=out, stderr=StringIO()
    )
    assert "跳过 1 个" in out.getvalue()


def test_seed_command_without_divisions_fails_clearly(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="区划"):
        call_command("seed", scale="demo", no_progress=True, stdout=StringIO(), stderr=StringIO())


def test_seeded_outcomes_are_reported_per_committee(village_only):
    results = []
    _seed_village(on_committee=results.append)
    _seed_village(on_committee=results.append)
    assert [r.outcome for r in results] == [CommitteeOutcome.SEEDED, CommitteeOutcome.ALREADY_SEEDED]
    assert results[0].counts["persons"] == Person.objects.count()


def test_committee_staff_see_only_their_committees_residents(divisions):
    from shequ.accounts.models import Membership, Role, User
    from shequ.accounts.visibility import visible

    synthetic_population_seed(scale=SeedScale.STREET, street_code=SHESHAN_TOWN, as_of=AS_OF)
    village = divisions[JIANGQIU_VILLAGE]
    worker = User.objects.create_user(username="cunwei", password="x" * 16)
    Membership.objects.create(user=worker, role=Role.COMMITTEE_WORKER, division=village)
    seen = visible(Person.objects.all(), worker)
    assert seen.exists()
    assert seen.count() == Person.objects.filter(path__startswith=village.path).count()
    assert seen.count() < Person.objects.count()
    assert (
        visible(Household.objects.all(), worker).count()
        == Household.objects.filter(path__startswith=village.path).count()
    )
    assert (
        visible(HouseholdMember.objects.all(), worker).count()
        == HouseholdMember.objects.filter(household__path__startswith=village.path).count()
    )


def test_a_reset_that_deletes_located_compounds_bumps_the_locate_revision(village_only):
    from shequ.core.revisions import revision_token
    from shequ.places.services import LOCATE_REVISION
    from shequ.registry.services import synthetic_committee_reset

    _seed_village()
    seeded = revision_token(LOCATE_REVISION)
    (context,) = committee_contexts(Division.objects.filter(code=JIANGQIU_VILLAGE))
    assert synthetic_committee_reset(committee=context) > 0
    assert not Compound.objects.filter(is_synthetic=True).exists()
    assert revision_token(LOCATE_REVISION) != seeded  # locate forgets the deleted compounds
