"""Reads of the registry."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.db.models import Q, QuerySet

from shequ.places.models import Compound, Division, DivisionKind, DivisionLevel

from .models import Household, HouseholdMember, Person
from .synthetic import CommitteeContext


class SeedScale(StrEnum):
    DEMO = "demo"
    STREET = "street"
    DISTRICT = "district"
    CITY = "city"


# Defaults of the scales: 南京东路街道 and 黄浦区 (central), 松江区 for the suburban part of the demo.
DEFAULT_STREET_CODE = "310101002000"
DEFAULT_DISTRICT_CODE = "310101000000"
DEMO_CENTRAL_DISTRICT_CODE = "310101000000"
DEMO_SUBURBAN_DISTRICT_CODE = "310117000000"
DEMO_CENTRAL_COMMITTEES = 3

_CHUNK = 500


def _committees() -> QuerySet[Division]:
    return Division.objects.filter(level=DivisionLevel.COMMITTEE, is_active=True).order_by("code")


def _demo_committee_ids() -> list[int]:
    ids = list(
        _committees()
        .filter(code__startswith=DEMO_CENTRAL_DISTRICT_CODE[:6], kind=DivisionKind.RESIDENTS_COMMITTEE)
        .values_list("pk", flat=True)[:DEMO_CENTRAL_COMMITTEES]
    )
    suburban = _committees().filter(code__startswith=DEMO_SUBURBAN_DISTRICT_CODE[:6])
    village = suburban.filter(kind=DivisionKind.VILLAGE_COMMITTEE).first()
    if village is not None:
        # A residents' committee of the same town as the village, if there is one.
        neighbour = (
            suburban.filter(kind=DivisionKind.RESIDENTS_COMMITTEE, code__startswith=village.code[:9]).first()
            or suburban.filter(kind=DivisionKind.RESIDENTS_COMMITTEE).first()
        )
        ids.extend(d.pk for d in (neighbour, village) if d is not None)
    return ids


def seed_committees(
    *, scale: SeedScale, street_code: str | None = None, district_code: str | None = None
) -> QuerySet[Division]:
    """The committees a seeding run of ``scale`` covers, in code order."""
    committees = _committees()
    if scale == SeedScale.DEMO:
        return committees.filter(pk__in=_demo_committee_ids())
    if scale == SeedScale.STREET:
        return committees.filter(code__startswith=(street_code or DEFAULT_STREET_CODE)[:9])
    if scale == SeedScale.DISTRICT:
        return committees.filter(code__startswith=(district_code or DEFAULT_DISTRICT_CODE)[:6])
    return committees


def committee_contexts(committees: QuerySet[Division]) -> list[CommitteeContext]:
    """Light descriptions of the committees (a few hundred bytes each, even for the whole city)."""
    district_ids = dict(
        Division.objects.filter(level=DivisionLevel.DISTRICT).values_list("code", "pk").order_by("code")
    )
    district_ids = {code[:6]: pk for code, pk in district_ids.items()}
    contexts: list[CommitteeContext] = []
    rows = committees.select_related("parent__parent").only(
        "code", "name", "path", "kind", "parent__name", "parent__parent__name"
    )
    for committee in rows.iterator(chunk_size=_CHUNK):
        street = committee.parent
        district = street.parent if street is not None else None
        contexts.append(
            CommitteeContext(
                committee_id=committee.pk,
                code=committee.code,
                name=committee.name,
                path=committee.path,
                kind=committee.kind,
                street_name=street.name if street is not None else "",
                district_name=district.name if district is not None else "",
                district_ids=district_ids,
            )
        )
    return contexts


def committees_with_compounds(committee_ids: Iterable[int]) -> dict[int, bool]:
    """For committees that already have compounds: whether any of them is real (not synthetic)."""
    ids = list(committee_ids)
    found: dict[int, bool] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = (
            Compound.objects.filter(committee_id__in=ids[start : start + _CHUNK])
            .values_list("committee_id", "is_synthetic")
            .distinct()
        )
        for committee_id, is_synthetic in rows:
            found[committee_id] = found.get(committee_id, False) or not is_synthetic
    return found


def district_boundaries() -> dict[str, dict[str, object] | None]:
    """District boundaries (GeoJSON) by 6-digit area code, where loaded."""
    return {
        code[:6]: boundary
        for code, boundary in Division.objects.filter(level=DivisionLevel.DISTRICT).values_list(
            "code", "boundary"
        )
    }


def synthetic_persons_under(path: str) -> QuerySet[Person]:
    return Person.objects.filter(path__startswith=path, is_synthetic=True)


def synthetic_households_under(path: str) -> QuerySet[Household]:
    return Household.objects.filter(path__startswith=path, is_synthetic=True)


def synthetic_members_under(path: str) -> QuerySet[HouseholdMember]:
    return HouseholdMember.objects.filter(household__path__startswith=path, is_synthetic=True)


def existing_document_numbers(*, document_type: str, numbers: Iterable[str]) -> set[str]:
    """Which of ``numbers`` are already registered for ``document_type``."""
    wanted = list(numbers)
    taken: set[str] = set()
    for start in range(0, len(wanted), _CHUNK * 2):
        taken.update(
            Person.objects.filter(
                Q(document_type=document_type), id_number__in=wanted[start : start + _CHUNK * 2]
            ).values_list("id_number", flat=True)
        )
    return taken
