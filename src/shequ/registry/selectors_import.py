"""Reads of the ledger import: row checks, the import plan, and the job lists.

An import is planned twice: when the file is validated (the preview the committee confirms) and
again, cheaply, inside the apply transaction from the stored rows (only the checks that read the
database are repeated). The apply goes ahead only if the second plan equals the confirmed preview.

Rules of the plan (DOMAIN.md §4):
- a person is found by document type + number; in this committee's area they are updated in place
  (never duplicated); registered in another committee's area, the row is an error (the person must
  move through the registry);
- an empty cell means "no information": it never clears a value already registered;
- a house is found by compound (code or name, of the importing committee), building, unit and room;
  an unknown compound or building is an error, an unknown unit/room in a known building is created;
- a source-owned attribute (公安, 民政, 人社, 卫健) that differs becomes a correction request to the
  source, never an overwrite;
- tags are added, never removed (a ledger may leave out tags its author may not see); computed tags
  cannot be imported, and a new tag needs the importer's right to assign it;
- rows with the same household number form one household: at most one head; a household that does
  not exist yet needs exactly one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shequ.accounts.visibility import access_by_id, visible
from shequ.core.validators import check_id_number, normalise_id_number, normalise_mobile
from shequ.places.models import Building, Compound, Division, DivisionLevel, House

from . import ledger
from .models import (
    SOURCE_OWNED,
    AttributeProvenance,
    CorrectionRequest,
    DocumentType,
    HouseholdMember,
    ImportJob,
    ImportRow,
    Person,
    PersonStatus,
    Relation,
    RequestStatus,
    RowAction,
    Sex,
    TagAssignment,
    TagDefinition,
)
from .permissions import can_assign_tag, can_import

# Person attributes a ledger row sets, in the order of the file; ``house`` is the actual residence.
PERSON_ATTRIBUTES: tuple[str, ...] = (
    "name",
    "birth_date",
    "sex",
    "mobile",
    "registered_address",
    "population_kind",
    "status",
    "house",
)
PERSONAL = frozenset(Person.PERSONAL_FIELDS)
# Documents numbered in the GB 11643 layout (resident IDs, HK/Macau/Taiwan residence permits, the 2023
# foreign permanent-residence ID card).
GB11643_DOCUMENTS = frozenset(
    {
        DocumentType.RESIDENT_ID,
        DocumentType.HK_MACAU_RESIDENCE_PERMIT,
        DocumentType.TAIWAN_RESIDENCE_PERMIT,
        DocumentType.FOREIGN_PERMANENT_RESIDENCE,
    }
)
_OTHER_DOCUMENT = re.compile(r"^[A-Z0-9\-]{5,32}$")
_BUILDING_SUFFIX = re.compile(r"(号楼|号|幢|栋)$")
NOT_LIVING = frozenset({PersonStatus.MOVED_OUT, PersonStatus.DECEASED})
NEW_HOUSEHOLD = "new"
_LOOKUP_CHUNK = 900 if connection.vendor == "sqlite" else 5000

ERROR = "error"
WARNING = "warning"


def issue(key: str, message: str, level: str = ERROR) -> dict[str, str]:
    return {"field": key, "message": message, "level": level}


def building_number(value: str) -> str:
    return _BUILDING_SUFFIX.sub("", value.strip())


# --- One row, without the database ---------------------------------------------------------------


def row_check(  # noqa: PLR0912, PLR0915 - one check per column, in column order
    values: dict[str, str], *, today: date
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Normalise one ledger row and collect every problem that needs no database.

    Returns the normalised data (JSON-ready: strings, ISO dates, a list of tag codes) and the issues
    (errors and warnings), each naming its column."""
    data: dict[str, Any] = {}
    issues: list[dict[str, str]] = [
        issue(key, _("必填项未填写。")) for key in ledger.REQUIRED if not values.get(key)
    ]

    for key in ("document_type", "sex", "status", "population_kind", "tenure", "relation"):
        raw = values.get(key, "")
        if not raw:
            continue
        code = ledger.ENUMS[key].get(raw) or ledger.ENUMS[key].get(raw.lower())
        if code is None:
            issues.append(
                issue(
                    key,
                    _("“%(value)s”不是有效值，可填：%(allowed)s。")
                    % {"value": raw, "allowed": ledger.allowed_values(key)},
                )
            )
        else:
            data[key] = code
    document_type = data.get("document_type", DocumentType.RESIDENT_ID)
    data["document_type"] = document_type

    for key in ("name", "registered_address", "compound", "unit", "room", "household"):
        if values.get(key):
            data[key] = values[key]
    if values.get("building"):
        data["building"] = building_number(values["building"])
    if len(data.get("name", "")) > 64:
        issues.append(issue("name", _("姓名过长。")))
    if len(data.get("registered_address", "")) > 255:
        issues.append(issue("registered_address", _("户籍地址过长。")))

    id_birth: date | None = None
    id_sex = ""
    raw_id = values.get("id_number", "")
    if raw_id:
        number = normalise_id_number(raw_id)
        data["id_number"] = number
        if document_type in GB11643_DOCUMENTS:
            result = check_id_number(number, today=today)
            issues.extend(issue("id_number", message) for message in result.errors)
            issues.extend(issue("id_number", message, WARNING) for message in result.warnings)
            if result.ok:
                id_birth = result.birth_date
                id_sex = Sex.MALE if result.sex == "M" else Sex.FEMALE
        elif not _OTHER_DOCUMENT.match(number):
            issues.append(issue("id_number", _("证件号码应为 5–32 位字母或数字。")))

    raw_birth = values.get("birth_date", "")
    if raw_birth:
        birth = ledger.parse_date(raw_birth)
        if birth is None:
            issues.append(
                issue("birth_date", _("“%(value)s”不是有效日期，请写成 1950-01-02。") % {"value": raw_birth})
            )
        elif birth > today or birth.year < 1880:
            issues.append(issue("birth_date", _("出生日期不在合理范围内。")))
        elif id_birth is not None and birth != id_birth:
            issues.append(
                issue(
                    "birth_date",
                    _("出生日期与证件号码不一致（证件号码为 %(date)s）。") % {"date": id_birth.isoformat()},
                )
            )
        else:
            data["birth_date"] = birth.isoformat()
    elif id_birth is not None:
        data["birth_date"] = id_birth.isoformat()

    if "sex" in data:
        if id_sex and data["sex"] != Sex.UNKNOWN and data["sex"] != id_sex:
            issues.append(issue("sex", _("性别与证件号码不一致。")))
    elif id_sex:
        data["sex"] = id_sex

    raw_mobile = values.get("mobile", "")
    if raw_mobile:
        mobile = normalise_mobile(raw_mobile)
        if len(mobile) == 11 and mobile.isdigit() and mobile[0] == "1" and mobile[1] in "3456789":
            data["mobile"] = mobile
        else:
            issues.append(issue("mobile", _("手机号码应为 11 位，以 13–19 开头。")))

    status = data.get("status", PersonStatus.LIVING_HERE)
    if status not in NOT_LIVING:
        issues.extend(
            issue(key, _("在住人员须填写小区、楼栋和室号。"))
            for key in ledger.HOUSE_KEYS
            if not values.get(key)
        )

    if data.get("household") and not data.get("relation"):
        if "relation" not in values:
            issues.append(issue("relation", _("填写了户编号，须填写与户主关系。")))
    elif data.get("relation") and not data.get("household"):
        issues.append(issue("household", _("填写了与户主关系，须填写户编号。")))

    if values.get("tags"):
        data["tags"] = sorted(set(ledger.split_tags(values["tags"])))
    return data, issues


# --- The plan ------------------------------------------------------------------------------------


@dataclass
class PlannedRow:
    number: int
    data: dict[str, Any]
    issues: list[dict[str, str]] = field(default_factory=list)
    action: str = RowAction.NEW
    person_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    house_key: tuple[int, str, str] | None = None  # (building id, unit, room)
    house_id: int | None = None
    new_tags: list[int] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return any(i["level"] == ERROR for i in self.issues)

    def error(self, key: str, message: str) -> None:
        self.issues.append(issue(key, message))


@dataclass
class ExistingPerson:
    pk: int
    path: str
    values: dict[str, Any]


@dataclass
class Plan:
    committee: Division
    rows: list[PlannedRow]
    compounds: dict[int, Compound] = field(default_factory=dict)
    buildings: dict[int, Building] = field(default_factory=dict)
    houses: dict[tuple[int, str, str], tuple[int, str]] = field(default_factory=dict)  # → (pk, tenure)
    new_houses: dict[tuple[int, str, str], str] = field(default_factory=dict)  # → tenure
    tenure_changes: dict[int, str] = field(default_factory=dict)  # house pk → tenure
    existing: dict[int, ExistingPerson] = field(default_factory=dict)
    provenance: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)  # → (pk, source)
    memberships: dict[int, tuple[int, int, str, int, int | None]] = field(default_factory=dict)
    tags: dict[str, TagDefinition] = field(default_factory=dict)
    households: dict[str, int | None] = field(default_factory=dict)  # file number → household pk

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(RowAction.values, 0)
        corrections = 0
        for row in self.rows:
            counts[row.action] += 1
            corrections += sum(1 for c in row.changes.values() if isinstance(c, dict) and c.get("correction"))
        counts["corrections"] = corrections
        return counts

    def signature(self) -> list[tuple[int, str, int | None, dict[str, Any]]]:
        return [(r.number, r.action, r.person_id, r.changes) for r in self.rows]


def committee_street_code(committee: Division) -> str:
    return committee.code[:9] + "000"


def _chunks(items: Sequence[Any], size: int = _LOOKUP_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _place_lookups(plan: Plan) -> tuple[dict[str, Compound], dict[tuple[int, str], Building]]:
    compounds = list(Compound.objects.filter(committee=plan.committee).only("pk", "code", "name", "path"))
    by_code = {c.code: c for c in compounds}
    by_name: dict[str, Compound | None] = {}
    for c in compounds:
        by_name[c.name] = None if c.name in by_name else c  # None: two compounds share the name
    lookup: dict[str, Compound] = dict(by_code)
    for name, compound in by_name.items():
        if compound is not None and name not in lookup:
            lookup[name] = compound
    plan.compounds = {c.pk: c for c in compounds}
    buildings = list(
        Building.objects.filter(compound__committee=plan.committee).only("pk", "compound_id", "number")
    )
    plan.buildings = {b.pk: b for b in buildings}
    building_lookup = {(b.compound_id, building_number(b.number)): b for b in buildings}
    plan.houses = {
        (b, u, r): (pk, tenure)
        for pk, b, u, r, tenure in House.objects.filter(
            building__compound__committee=plan.committee
        ).values_list("pk", "building_id", "unit", "room", "tenure")
    }
    return lookup, building_lookup


def _existing_persons(plan: Plan, keys: set[tuple[str, str]]) -> dict[tuple[str, str], ExistingPerson]:
    numbers = sorted({number for _doc, number in keys})
    found: dict[tuple[str, str], ExistingPerson] = {}
    columns = (
        "pk",
        "document_type",
        "id_number",
        "path",
        *[a if a != "house" else "house_id" for a in PERSON_ATTRIBUTES],
    )
    for chunk in _chunks(numbers):
        for row in Person.objects.filter(id_number__in=chunk).values_list(*columns):
            pk, document_type, number, path, *rest = row
            if (document_type, number) not in keys:
                continue
            values = dict(zip(PERSON_ATTRIBUTES, rest, strict=True))
            if values["birth_date"] is not None:
                values["birth_date"] = values["birth_date"].isoformat()
            found[(document_type, number)] = ExistingPerson(pk=pk, path=path, values=values)
    return found


def _person_lookups(
    plan: Plan, person_ids: list[int]
) -> tuple[dict[tuple[int, str], str], set[tuple[int, int]]]:
    pending: dict[tuple[int, str], str] = {}
    open_tags: set[tuple[int, int]] = set()
    for chunk in _chunks(person_ids):
        for pk, person_id, attribute, source in AttributeProvenance.objects.filter(
            person_id__in=chunk
        ).values_list("pk", "person_id", "attribute", "source"):
            plan.provenance[(person_id, attribute)] = (pk, source)
        for person_id, attribute, proposed in CorrectionRequest.objects.filter(
            person_id__in=chunk, status=RequestStatus.PENDING
        ).values_list("person_id", "attribute", "proposed_value"):
            pending[(person_id, attribute)] = proposed
        open_tags.update(
            TagAssignment.objects.filter(person_id__in=chunk, ended_at__isnull=True).values_list(
                "person_id", "tag_id"
            )
        )
        for pk, person_id, household_id, relation, house_id, head_id in HouseholdMember.objects.filter(
            person_id__in=chunk
        ).values_list(
            "pk", "person_id", "household_id", "relation", "household__house_id", "household__head_id"
        ):
            plan.memberships[person_id] = (pk, household_id, relation, house_id, head_id)
    return pending, open_tags


def _display(attribute: str, value: Any) -> str:
    return "" if value is None else str(value)


def import_plan(  # noqa: PLR0912, PLR0915 - the plan's steps read best in sequence
    *, committee: Division, actor: Any, rows: Sequence[tuple[int, dict[str, Any], list[dict[str, str]]]]
) -> Plan:
    """Plan an import of ``rows`` (number, normalised data, row issues) into ``committee``'s area."""
    plan = Plan(committee=committee, rows=[PlannedRow(number=n, data=d, issues=list(i)) for n, d, i in rows])
    compound_lookup, building_lookup = _place_lookups(plan)

    # Duplicate documents within the file.
    first_row: dict[tuple[str, str], int] = {}
    for row in plan.rows:
        number = row.data.get("id_number")
        if not number:
            continue
        key = (row.data["document_type"], number)
        if key in first_row:
            row.error("id_number", _("与第 %(row)s 行的证件号码重复。") % {"row": first_row[key]})
        else:
            first_row[key] = row.number

    # Houses.
    tenure_by_house: dict[tuple[int, str, str], tuple[str, int]] = {}
    for row in plan.rows:
        data = row.data
        if data.get("status") in NOT_LIVING or not data.get("compound"):
            continue
        compound = compound_lookup.get(data["compound"])
        if compound is None:
            row.error("compound", _("本居村没有小区“%(value)s”。") % {"value": data["compound"]})
            continue
        building = building_lookup.get((compound.pk, data.get("building", "")))
        if building is None:
            if data.get("building"):
                row.error(
                    "building",
                    _("小区“%(compound)s”没有楼栋“%(value)s”。")
                    % {"compound": compound.name, "value": data["building"]},
                )
            continue
        if not data.get("room"):
            continue
        house_key = (building.pk, data.get("unit", ""), data["room"])
        row.house_key = house_key
        existing_house = plan.houses.get(house_key)
        row.house_id = existing_house[0] if existing_house else None
        tenure = data.get("tenure")
        if tenure:
            seen = tenure_by_house.get(house_key)
            if seen is not None and seen[0] != tenure:
                row.error("tenure", _("与第 %(row)s 行同一房屋的使用情况不一致。") % {"row": seen[1]})
            elif seen is None:
                tenure_by_house[house_key] = (tenure, row.number)
    for house_key, (tenure, _number) in tenure_by_house.items():
        if house_key in plan.houses:
            pk, current = plan.houses[house_key]
            if current != tenure:
                plan.tenure_changes[pk] = tenure
        else:
            plan.new_houses[house_key] = tenure
    for row in plan.rows:
        if (
            row.house_key is not None
            and row.house_key not in plan.houses
            and row.house_key not in plan.new_houses
        ):
            plan.new_houses[row.house_key] = ""

    # Persons.
    existing = _existing_persons(plan, set(first_row))
    for row in plan.rows:
        number = row.data.get("id_number")
        if not number:
            continue
        person = existing.get((row.data["document_type"], number))
        if person is None:
            continue
        if not person.path.startswith(committee.path):
            row.error("id_number", _("此人已登记在其他居村，须通过人员迁移办理，不能重复登记。"))
            continue
        row.person_id = person.pk
        plan.existing[person.pk] = person
    pending, open_tags = _person_lookups(plan, sorted(plan.existing))

    # Tags.
    codes = sorted({code for row in plan.rows for code in row.data.get("tags", ())})
    plan.tags = {t.code: t for t in TagDefinition.objects.filter(code__in=codes)}
    may_assign: dict[str, bool] = {}
    for row in plan.rows:
        for code in row.data.get("tags", ()):
            tag = plan.tags.get(code)
            if tag is None:
                row.error("tags", _("未知的标签代码“%(code)s”。") % {"code": code})
            elif tag.is_computed:
                row.error("tags", _("“%(name)s”是自动计算的标签，不能导入。") % {"name": tag.name})
            elif not tag.is_active:
                row.error("tags", _("标签“%(name)s”已停用。") % {"name": tag.name})
            elif row.person_id is None or (row.person_id, tag.pk) not in open_tags:
                if code not in may_assign:
                    may_assign[code] = can_assign_tag(actor, tag, committee.path)
                if may_assign[code]:
                    row.new_tags.append(tag.pk)
                else:
                    row.error("tags", _("您无权标注“%(name)s”。") % {"name": tag.name})

    # Households.
    _plan_households(plan)

    # Field changes and actions.
    for row in plan.rows:
        if row.has_errors:
            row.action = RowAction.ERROR
            row.changes = {}
            continue
        if row.person_id is None:
            row.action = RowAction.NEW
            continue
        _person_changes(plan, row, pending)
        if row.new_tags:
            row.changes["tags"] = {
                "old": "",
                "new": ",".join(sorted(c for c in row.data["tags"] if plan.tags[c].pk in row.new_tags)),
            }
        row.action = RowAction.CHANGED if row.changes else RowAction.UNCHANGED
    return plan


def _person_changes(  # noqa: PLR0912
    plan: Plan, row: PlannedRow, pending: dict[tuple[int, str], str]
) -> None:
    assert row.person_id is not None  # noqa: S101 - only called for existing persons
    person = plan.existing[row.person_id]
    data = row.data
    for attribute in PERSON_ATTRIBUTES:
        if attribute == "house":
            if data.get("status") in NOT_LIVING:
                new: Any = None
            elif row.house_key is None:
                continue
            else:
                new = row.house_id if row.house_id is not None else "new"
        else:
            if attribute not in data:
                continue  # an empty cell keeps the registered value
            new = data[attribute]
        old = person.values[attribute]
        if old == new:
            continue
        change: dict[str, Any] = {"old": _display(attribute, old), "new": _display(attribute, new)}
        source = plan.provenance.get((row.person_id, attribute), (0, ""))[1]
        if source in SOURCE_OWNED:
            if pending.get((row.person_id, attribute)) is not None:
                continue  # a correction of this attribute is already with its source
            change["correction"] = source
        row.changes[attribute] = change
    tenure = data.get("tenure")
    if tenure and row.house_id is not None and plan.tenure_changes.get(row.house_id) == tenure:
        old_tenure = plan.houses[row.house_key][1] if row.house_key is not None else ""
        row.changes["tenure"] = {"old": old_tenure, "new": tenure}
    membership = plan.memberships.get(row.person_id)
    household = data.get("household")
    if household:
        target = plan.households.get(household)
        target_label = NEW_HOUSEHOLD if target is None else target
        if membership is None or membership[1] != target:
            row.changes["household"] = {
                "old": "" if membership is None else membership[1],
                "new": target_label,
            }
        if membership is None or membership[1] != target or membership[2] != data["relation"]:
            row.changes["relation"] = {
                "old": "" if membership is None else membership[2],
                "new": data["relation"],
            }


def _plan_households(plan: Plan) -> None:  # noqa: PLR0912
    groups: dict[str, list[PlannedRow]] = defaultdict(list)
    for row in plan.rows:
        if row.data.get("household"):
            groups[row.data["household"]].append(row)
    chosen: dict[str, tuple[int | None, list[PlannedRow]]] = {}
    for number, members in groups.items():
        heads = [r for r in members if r.data.get("relation") == Relation.HEAD]
        if len(heads) > 1:
            for r in heads:
                r.error("relation", _("户编号“%(number)s”有多个户主。") % {"number": number})
        houses = {r.house_key for r in members if r.house_key is not None}
        if len(houses) > 1:
            for r in members:
                r.error("household", _("户编号“%(number)s”的成员不在同一房屋。") % {"number": number})
            continue
        house_key = next(iter(houses), None)
        house_id = plan.houses[house_key][0] if house_key is not None and house_key in plan.houses else None
        target: int | None = None
        if house_id is not None:
            for r in heads + [r for r in members if r not in heads]:
                membership = plan.memberships.get(r.person_id) if r.person_id is not None else None
                if membership is not None and membership[3] == house_id:
                    target = membership[1]
                    break
        plan.households[number] = target
        chosen[number] = (target, heads)
        if target is None and not heads:
            for r in members:
                r.error("relation", _("户编号“%(number)s”没有户主。") % {"number": number})
    targets = sorted({t for t, _h in chosen.values() if t is not None})
    current_heads: dict[int, int] = {}
    for chunk in _chunks(targets):
        current_heads.update(
            HouseholdMember.objects.filter(household_id__in=chunk, relation=Relation.HEAD).values_list(
                "household_id", "person_id"
            )
        )
    for number, (target, heads) in chosen.items():
        if target is None or not heads:
            continue
        head = heads[0]
        current = current_heads.get(target)
        if current is None or current == head.person_id:
            continue
        # A new head: the former head must stay in the household under another relation, in this file.
        stays = any(
            r.person_id == current and r.data.get("relation") not in (None, Relation.HEAD)
            for r in groups[number]
        )
        if not stays:
            head.error("relation", _("更换户主时，须在同一户编号下填写原户主的新关系。"))
        else:
            head.changes["head"] = {"old": current, "new": head.person_id or NEW_HOUSEHOLD}


# --- Jobs ------------------------------------------------------------------------------------


def import_jobs(*, user: Any) -> QuerySet[ImportJob]:
    """The import jobs the user may see, newest first."""
    return (
        visible(ImportJob.objects.all(), user)
        .select_related("division", "created_by")
        .order_by("-created_at", "-pk")
    )


def access_import_job_by_id(*, user: Any, job_id: Any) -> ImportJob:
    return access_by_id(ImportJob.objects.select_related("division", "created_by"), job_id, user)


def import_rows(*, job: ImportJob, action: str = "") -> QuerySet[ImportRow]:
    rows = ImportRow.objects.filter(job=job).order_by("row_number")
    if action in RowAction.values:
        rows = rows.filter(action=action)
    return rows


def importable_committees(*, user: Any) -> QuerySet[Division]:
    """The committees the user may import into (visible, and holding an import role there)."""
    committees = visible(
        Division.objects.filter(level=DivisionLevel.COMMITTEE, is_active=True), user
    ).order_by("code")
    allowed = [d.pk for d in committees.only("pk", "path") if can_import(user, d.path)]
    return Division.objects.filter(pk__in=allowed).order_by("code")


def access_importable_committee(*, user: Any, code: str) -> Division:
    """A committee the user may import into; 404 when it is outside their scope or their powers."""
    from django.http import Http404

    committee = visible(Division.objects.filter(level=DivisionLevel.COMMITTEE, code=code), user).first()
    if committee is None or not can_import(user, committee.path):
        raise Http404
    return committee
