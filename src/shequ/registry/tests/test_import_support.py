"""Shared helpers of the ledger import and export tests (no tests here): a committee with a compound,
a building and houses; users; tag definitions; ledger files built in memory."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from openpyxl import Workbook

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import building_create, small_tree, user_with_role
from shequ.places.models import House, Tenure
from shequ.registry import ledger
from shequ.registry.models import ImportJob, TagDefinition, TagRule
from shequ.registry.services_import import (
    import_job_apply,
    import_job_confirm,
    import_job_create,
    import_job_validate,
    upload_from_bytes,
)
from shequ.registry.synthetic import id_number_build


def resident_id(birth: date, sequence: int, prefix: str = "310101") -> str:
    return id_number_build(prefix=prefix, birth_date=birth, sequence=sequence)


ZHANG = resident_id(date(1950, 3, 4), 11)  # male
OTHER_ID = resident_id(date(1990, 5, 6), 45)
LI = resident_id(date(1952, 6, 7), 22)  # female
WANG = resident_id(date(1980, 1, 2), 33)  # male
BABY = resident_id(date(2020, 1, 1), 1)  # male


class World:
    def __init__(self) -> None:
        self.tree = small_tree()
        self.committee = self.tree.committee(1, 1, 1)
        self.other_committee = self.tree.committee(1, 1, 2)
        self.compound = self.tree.compound(1, 1, 1)
        self.other_compound = self.tree.compound(1, 1, 2)
        self.building = self.compound.buildings.get(number="1")
        building_create(compound=self.compound, number="2")
        self.house = House.objects.create(
            building=self.building, unit="1单元", room="101", tenure=Tenure.OWNER_OCCUPIED
        )
        House.objects.create(building=self.building, unit="1单元", room="102", tenure=Tenure.RENTED)
        self.worker = user_with_role(Role.COMMITTEE_WORKER, division=self.committee, username="worker")
        self.head = user_with_role(Role.COMMITTEE_HEAD, division=self.committee, username="head")
        self.other_worker = user_with_role(
            Role.COMMITTEE_WORKER, division=self.other_committee, username="other"
        )
        self.tags = {
            "living_alone": TagDefinition.objects.create(
                code="living_alone",
                name="独居（台账测试）",
                assignable_by=[Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD],
            ),
            "low_income": TagDefinition.objects.create(
                code="low_income",
                name="低保（台账测试）",
                is_sensitive=True,
                assignable_by=[Role.CIVIL_AFFAIRS_OFFICER],
                visible_to=[Role.CIVIL_AFFAIRS_OFFICER, Role.COMMITTEE_HEAD],
            ),
            "aged_80": TagDefinition.objects.create(
                code="aged_80", name="高龄（台账测试）", rule=TagRule.AGE_AT_LEAST, rule_value=80
            ),
            "key_attention": TagDefinition.objects.create(
                code="key_attention",
                name="重点关注（台账测试）",
                is_sensitive=True,
                assignable_by=[Role.COMMITTEE_HEAD],
                visible_to=[Role.COMMITTEE_HEAD],
            ),
        }


def row(**values: str) -> dict[str, str]:
    """A ledger row living in house 1单元101 of the world's compound, with the given cells."""
    base = {
        "compound": "C31010100100101",
        "building": "1",
        "unit": "1单元",
        "room": "101",
        "name": "张建国",
        "id_number": ZHANG,
        "mobile": "13800138000",
        "status": "在住",
    }
    base.update(values)
    return {k: v for k, v in base.items() if v is not None}


def household(number: str = "1") -> list[dict[str, str]]:
    """A couple and their son in 1单元101."""
    return [
        row(household=number, relation="户主", tags="living_alone"),
        row(household=number, relation="配偶", name="李秀英", id_number=LI, mobile="13900139000", sex="女"),
        row(household=number, relation="子女", name="张伟", id_number=WANG, mobile=""),
    ]


def ledger_csv(rows: list[dict[str, str]], *, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ledger.header_row())
    for values in rows:
        writer.writerow([values.get(key, "") for key in ledger.KEYS])
    return out.getvalue().encode(encoding)


def ledger_xlsx(rows: list[dict[str, Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(ledger.header_row())
    for values in rows:
        sheet.append([values.get(key, None) for key in ledger.KEYS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(world: World, content: bytes, name: str = "ledger.csv", actor: Any = None) -> ImportJob:
    """Upload and validate (as the request would right after commit)."""
    job = import_job_create(
        committee=world.committee,
        actor=actor or world.worker,
        upload=upload_from_bytes(content, name),
        name=name,
    )
    return import_job_validate(job_id=job.pk)


def apply(job: ImportJob, actor: Any) -> ImportJob:
    import_job_confirm(job=job, actor=actor)
    return import_job_apply(job_id=job.pk, actor=actor)


def run_import(world: World, rows: list[dict[str, str]], actor: Any = None) -> ImportJob:
    actor = actor or world.worker
    job = upload(world, ledger_csv(rows), actor=actor)
    assert job.status == "validated", list(job.rows.values_list("row_number", "errors"))
    return apply(job, actor)
