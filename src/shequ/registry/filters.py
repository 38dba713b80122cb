"""The population-filter engine ("政策找人", DOMAIN.md §4): typed criteria over the registry.

``PersonCriteria`` is the one description of "which people": the committee worker's search form, the
API's query parameters and saved filters (``SavedFilter.criteria``, stored as JSON) all use it.
``persons_matching`` applies it to a queryset the caller has already narrowed with the visibility
module (``visible(Person.objects.all(), user)``); it never widens a scope. ``counts_per_committee``
turns a matching queryset into a count per committee in one query.

Ages are computed in Python as birth-date bounds (a person born on 29 February has their birthday on
1 March in common years), so the same SQL works on SQLite and PostgreSQL and uses plain comparisons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from shequ.core.validators import normalise_id_number, normalise_mobile
from shequ.places.models import Division, House, Tenure

from . import permissions
from .models import (
    HouseholdMember,
    Person,
    PersonStatus,
    PopulationKind,
    Sex,
    TagAssignment,
    TagDefinition,
)

TEXT_MAX_LENGTH = 64
AGE_LIMIT = 150
# Digits (and the ID check character X) shorter than this are not searched as a number suffix.
SUFFIX_MIN_LENGTH = 4
_NUMBERISH = re.compile(r"^[0-9Xx+\-\s]+$")
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_CODE = re.compile(r"^[0-9]{12}$")
# Person.path is "<city>/<district>/<street>/<committee>/<compound>/" with 12-digit codes, so the
# committee code is always characters 40–51 (1-based).
_SEGMENT = 13
_COMMITTEE_SEGMENT = 3


class PersonCriteria(BaseModel):
    """Who to find. Every field is optional; an empty criteria object means "everyone living here"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)

    text: str = Field(
        default="", max_length=TEXT_MAX_LENGTH, description="name, ID number, mobile or address"
    )
    age_min: int | None = Field(default=None, ge=0, le=AGE_LIMIT)
    age_max: int | None = Field(default=None, ge=0, le=AGE_LIMIT)
    sex: Sex | None = None
    # Living here by default; ``None`` covers every status.
    status: PersonStatus | None = PersonStatus.LIVING_HERE
    population_kind: PopulationKind | None = None
    tags_all: list[str] = Field(default_factory=list, max_length=20)
    tags_any: list[str] = Field(default_factory=list, max_length=20)
    tenure: Tenure | None = None
    compound: str | None = Field(default=None, max_length=20, description="compound code")
    building: int | None = Field(default=None, ge=1, description="building id")
    division: str | None = Field(
        default=None, description="12-digit code of a district, street or committee: everyone below it"
    )
    household_size_min: int | None = Field(default=None, ge=1, le=50)
    household_size_max: int | None = Field(default=None, ge=1, le=50)
    lives_alone: bool | None = None
    registered_elsewhere: bool | None = None

    @field_validator("tags_all", "tags_any", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            value = [str(v).strip() for v in value if str(v).strip()]
            return list(dict.fromkeys(value))
        return value

    @field_validator(
        "sex",
        "status",
        "population_kind",
        "tenure",
        "compound",
        "building",
        "division",
        "age_min",
        "age_max",
        "household_size_min",
        "household_size_max",
        "lives_alone",
        "registered_elsewhere",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("division")
    @classmethod
    def _division_code(cls, value: str | None) -> str | None:
        if value is not None and not _CODE.match(value):
            raise ValueError(str(_("区划代码应为 12 位数字。")))
        return value

    @model_validator(mode="after")
    def _ranges(self) -> PersonCriteria:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise PydanticValidationError.from_exception_data(
                "PersonCriteria",
                [
                    {
                        "type": "value_error",
                        "loc": ("age_max",),
                        "input": self.age_max,
                        "ctx": {"error": str(_("最大年龄不能小于最小年龄。"))},
                    }
                ],
            )
        if (
            self.household_size_min is not None
            and self.household_size_max is not None
            and self.household_size_min > self.household_size_max
        ):
            raise PydanticValidationError.from_exception_data(
                "PersonCriteria",
                [
                    {
                        "type": "value_error",
                        "loc": ("household_size_max",),
                        "input": self.household_size_max,
                        "ctx": {"error": str(_("户人数上限不能小于下限。"))},
                    }
                ],
            )
        return self

    # --- JSON round trip (saved filters) ---------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The criteria as stored in ``SavedFilter.criteria``: only what differs from the defaults."""
        return self.model_dump(mode="json", exclude_defaults=True)

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> PersonCriteria:
        """Criteria from JSON or form data; invalid input raises Django's ``ValidationError`` keyed by
        field name."""
        try:
            return cls.model_validate(dict(data or {}))
        except PydanticValidationError as exc:
            raise criteria_errors(exc) from None

    @classmethod
    def from_querydict(cls, query: Any) -> PersonCriteria:
        """Criteria from a GET form (``QueryDict``): repeated tag parameters become lists."""
        data: dict[str, Any] = {}
        for key in cls.model_fields:
            if key in ("tags_all", "tags_any"):
                values = query.getlist(key) if hasattr(query, "getlist") else query.get(key, [])
                if values:
                    data[key] = values
            elif key in query:
                data[key] = query.get(key)
        return cls.parse(data)

    @property
    def tag_codes(self) -> list[str]:
        return list(dict.fromkeys([*self.tags_all, *self.tags_any]))


def criteria_errors(exc: PydanticValidationError) -> ValidationError:
    """A Django ``ValidationError`` keyed by the first element of each error location."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        name = loc[0] if loc else "__all__"
        message = str(error.get("ctx", {}).get("error") or error.get("msg", ""))
        errors.setdefault(name, []).append(message.removeprefix("Value error, "))
    return ValidationError(errors)


def path_prefix_q(path: str, lookup: str = "path") -> Q:
    """Rows whose place path starts with ``path``.

    SQLite never uses an index for ``LIKE 'prefix%'`` (its LIKE is case-insensitive), so on SQLite the
    same set is also bounded as a range (``prefix <= path < prefix with its last character bumped``),
    which SQLite answers from the path index. Paths are ASCII codes and "/", so with SQLite's binary
    collation the range holds exactly the paths with that prefix. Other backends keep the plain prefix
    match (their collations may not order "/" before digits; PostgreSQL has a pattern index).
    """
    q = Q(**{f"{lookup}__startswith": path})
    if path and connection.vendor == "sqlite":
        q &= Q(**{f"{lookup}__gte": path, f"{lookup}__lt": path[:-1] + chr(ord(path[-1]) + 1)})
    return q


# --- Validation against the user ---------------------------------------------------------------


def criteria_tags(criteria: PersonCriteria, *, user: Any) -> dict[str, TagDefinition]:
    """The tag definitions named by ``criteria``; a tag that does not exist or that the user may not
    see anywhere is a ``ValidationError`` naming the field (the same message for both)."""
    codes = criteria.tag_codes
    if not codes:
        return {}
    found = {tag.code: tag for tag in TagDefinition.objects.filter(code__in=codes)}
    errors: dict[str, list[str]] = {}
    for field_name in ("tags_all", "tags_any"):
        for code in getattr(criteria, field_name):
            tag = found.get(code)
            if tag is None or permissions.tag_visible_paths(user, tag) == ():
                errors.setdefault(field_name, []).append(
                    str(_("没有这个标签，或无权按它筛选：%(code)s")) % {"code": code}
                )
    if errors:
        raise ValidationError(errors)
    return found


def criteria_validate(criteria: PersonCriteria, *, user: Any) -> PersonCriteria:
    """Check the parts of ``criteria`` that depend on the database and on the user (tags, division);
    raises ``ValidationError`` naming the field."""
    criteria_tags(criteria, user=user)
    if criteria.division is not None and not Division.objects.filter(code=criteria.division).exists():
        raise ValidationError({"division": [str(_("没有这个区划代码。"))]})
    return criteria


# --- Dates -------------------------------------------------------------------------------------


def years_before(day: date, years: int) -> date:
    """``day`` shifted back by whole years; 29 February becomes 28 February in a common year."""
    year = day.year - years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def birth_bounds(*, age_min: int | None, age_max: int | None, as_of: date) -> tuple[date | None, date | None]:
    """(earliest birth date exclusive, latest birth date inclusive) for an age range on ``as_of``.

    Age ≥ n ⇔ born on or before ``as_of`` minus n years; age ≤ m ⇔ born after ``as_of`` minus (m + 1)
    years. A person born on 29 February is a year older on 1 March of a common year.
    """
    latest = years_before(as_of, age_min) if age_min is not None else None
    earliest = years_before(as_of, age_max + 1) if age_max is not None else None
    return earliest, latest


def age_on(birth_date: date, as_of: date) -> int:
    """Age in whole years on ``as_of`` (the same rule as ``birth_bounds``)."""
    age = as_of.year - birth_date.year
    if (as_of.month, as_of.day) < (birth_date.month, birth_date.day):
        age -= 1
    return age


# --- The engine --------------------------------------------------------------------------------


def text_q(text: str) -> Q:
    """Search by name (contains), address (contains), ID number or mobile (exact, or suffix)."""
    text = text.strip()
    if not text:
        return Q()
    if _NUMBERISH.match(text):
        number = normalise_id_number(text).replace("-", "").replace("+", "")
        mobile = normalise_mobile(text)
        if len(number) == 18:
            return Q(id_number=number)
        if _MOBILE.match(mobile):
            return Q(mobile=mobile)
        if len(number) >= SUFFIX_MIN_LENGTH:
            return Q(id_number__endswith=number) | Q(mobile__endswith=mobile)
        return Q(pk__in=[])
    # The compound name through a subquery, not a join: the join would look up the house, building
    # and compound of every person in scope before the name filter could drop them.
    in_compound = House.objects.filter(building__compound__name__contains=text).values("pk")
    return Q(name__contains=text) | Q(registered_address__contains=text) | Q(house_id__in=in_compound)


def _household_size() -> Subquery:
    """Members of the household of the outer ``HouseholdMember`` row."""
    return Subquery(
        HouseholdMember.objects.filter(household_id=OuterRef("household_id"))
        .order_by()
        .values("household_id")
        .annotate(size=Count("pk"))
        .values("size")[:1]
    )


def _in_household_sized(size_min: int | None, size_max: int | None) -> Exists:
    members = HouseholdMember.objects.filter(person_id=OuterRef("pk")).annotate(size=_household_size())
    if size_min is not None:
        members = members.filter(size__gte=size_min)
    if size_max is not None:
        members = members.filter(size__lte=size_max)
    return Exists(members)


def _tag_q(tags: Iterable[TagDefinition], *, user: Any) -> Q:
    """Persons holding an open assignment of one of ``tags``, counted only where the user may see the
    tag (a sensitive tag never matches a person outside the nodes where the user holds a role that
    sees it). A correlated ``EXISTS`` per person: the person's own rows are few, so this follows the
    assignment's person index instead of reading every assignment of a common tag."""
    q = Q(pk__in=[])
    for tag in tags:
        held = Q(
            Exists(TagAssignment.objects.filter(person_id=OuterRef("pk"), tag=tag, ended_at__isnull=True))
        )
        paths = permissions.tag_visible_paths(user, tag)
        if paths is not None:
            place = Q(pk__in=[])
            for path in paths:
                place |= path_prefix_q(path)
            held &= place
        q |= held
    return q


def _person_q(criteria: PersonCriteria, *, as_of: date) -> Q:
    """The conditions on the person row itself (and its house)."""
    q = Q(archived_at__isnull=True)
    if criteria.status is not None:
        q &= Q(status=criteria.status)
    if criteria.text:
        q &= text_q(criteria.text)
    if criteria.age_min is not None or criteria.age_max is not None:
        earliest, latest = birth_bounds(age_min=criteria.age_min, age_max=criteria.age_max, as_of=as_of)
        q &= Q(birth_date__isnull=False)
        if latest is not None:
            q &= Q(birth_date__lte=latest)
        if earliest is not None:
            q &= Q(birth_date__gt=earliest)
    equal = {
        "sex": criteria.sex,
        "population_kind": criteria.population_kind,
        "house__tenure": criteria.tenure,
        "house__building__compound__code": criteria.compound,
        "house__building_id": criteria.building,
    }
    for lookup, value in equal.items():
        if value is not None:
            q &= Q(**{lookup: value})
    if criteria.registered_elsewhere is not None:
        home = Q(registered_division__path__contains=Concat(Value("/"), F("street_code"), Value("/")))
        q &= Q(registered_division__isnull=False) & (~home if criteria.registered_elsewhere else home)
    return q


def _household_q(criteria: PersonCriteria) -> Q:
    q = Q()
    if criteria.household_size_min is not None or criteria.household_size_max is not None:
        q &= Q(_in_household_sized(criteria.household_size_min, criteria.household_size_max))
    if criteria.lives_alone is True:
        q &= Q(_in_household_sized(1, 1))
    elif criteria.lives_alone is False:
        q &= Q(_in_household_sized(2, None))
    return q


def persons_matching(
    queryset: QuerySet[Person], criteria: PersonCriteria, *, user: Any, as_of: date
) -> QuerySet[Person]:
    """Narrow an already scoped person queryset to ``criteria`` (archived records never match).

    Raises ``ValidationError`` naming the field for a tag the user may not see (or that does not
    exist) and for an unknown division code."""
    tags = criteria_tags(criteria, user=user)
    qs = queryset.filter(_person_q(criteria, as_of=as_of))
    for code in criteria.tags_all:
        qs = qs.filter(_tag_q([tags[code]], user=user))
    if criteria.tags_any:
        qs = qs.filter(_tag_q([tags[code] for code in criteria.tags_any], user=user))
    if criteria.division is not None:
        path = Division.objects.filter(code=criteria.division).values_list("path", flat=True).first()
        if path is None:
            raise ValidationError({"division": [str(_("没有这个区划代码。"))]})
        qs = qs.filter(path_prefix_q(path))
    household = _household_q(criteria)
    return qs.filter(household) if household else qs


def counts_per_committee(queryset: QuerySet[Person]) -> list[tuple[str, str, int]]:
    """``(committee code, committee name, count)`` of the persons in ``queryset``, in code order, in one
    query (the committee code is read from the place path; the name by a correlated subquery)."""
    start = _SEGMENT * _COMMITTEE_SEGMENT + 1
    rows = (
        queryset.order_by()
        .annotate(committee_code=Substr("path", start, 12))
        .values("committee_code")
        .annotate(
            n=Count("pk", distinct=True),
            committee_name=Subquery(
                Division.objects.filter(code=OuterRef("committee_code")).values("name")[:1]
            ),
        )
        .order_by("committee_code")
    )
    return [(row["committee_code"], row["committee_name"] or "", row["n"]) for row in rows]
