"""Every row is checked before anything is written: each kind of bad row is reported on its row, and
nothing is loaded."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import user_with_role
from shequ.core.errors import ApiError
from shequ.registry import ledger
from shequ.registry.models import (
    Household,
    HouseholdMember,
    ImportStatus,
    Person,
    RowAction,
    TagAssignment,
)
from shequ.registry.services_import import import_job_confirm

from .test_import_support import (
    LI,
    ZHANG,
    World,
    household,
    ledger_csv,
    ledger_xlsx,
    resident_id,
    row,
    run_import,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db) -> World:
    return World()


def _counts() -> tuple[int, int, int, int]:
    return (
        Person.objects.count(),
        Household.objects.count(),
        HouseholdMember.objects.count(),
        TagAssignment.objects.count(),
    )


def _bad_file(world, bad: dict[str, str], actor=None):
    """A valid household plus one bad row; returns the job and the bad row's preview."""
    before = _counts()
    job = upload(world, ledger_csv([*household(), bad]), actor=actor)
    assert job.status == ImportStatus.INVALID
    assert _counts() == before  # nothing loaded
    assert job.counts["error"] >= 1
    bad_row = job.rows.get(row_number=5)
    assert bad_row.action == RowAction.ERROR
    with pytest.raises(ApiError):
        import_job_confirm(job=job, actor=actor or world.worker)
    return job, bad_row


def _messages(preview, field):
    return [e["message"] for e in preview.errors if e["field"] == field and e["level"] == "error"]


OTHER = resident_id(date(1990, 5, 6), 45)


def test_missing_required_fields_are_reported(world):
    _job, bad = _bad_file(world, row(name="", id_number=""))
    assert _messages(bad, "name")
    assert _messages(bad, "id_number")


def test_a_wrong_id_checksum_is_reported(world):
    wrong = OTHER[:-1] + ("0" if OTHER[-1] != "0" else "1")
    _job, bad = _bad_file(world, row(id_number=wrong, name="赵六"))
    assert any("校验位" in m for m in _messages(bad, "id_number"))


def test_an_id_with_an_impossible_birth_date_is_reported(world):
    body = "31010119901332001"
    from shequ.registry.synthetic import gb11643_check_character

    _job, bad = _bad_file(world, row(id_number=body + gb11643_check_character(body), name="赵六"))
    assert any("出生日期" in m for m in _messages(bad, "id_number"))


def test_a_birth_date_disagreeing_with_the_id_is_reported(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", birth_date="1990-05-07"))
    assert any("1990-05-06" in m for m in _messages(bad, "birth_date"))


def test_a_bad_date_is_reported(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", birth_date="1990-02-30"))
    assert _messages(bad, "birth_date")


def test_a_bad_mobile_is_reported(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", mobile="12345"))
    assert _messages(bad, "mobile")


def test_a_duplicate_id_within_the_file_is_reported(world):
    _job, bad = _bad_file(world, row(name="张建国二"))
    assert any("第 2 行" in m for m in _messages(bad, "id_number"))


def test_an_id_registered_in_another_committee_is_an_error_not_a_duplicate(world):
    Person.objects.create(
        name="赵六",
        id_number=OTHER,
        street_code=world.other_committee.code[:9] + "000",
        path=world.other_compound.path,
    )
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六"))
    assert any("其他居村" in m for m in _messages(bad, "id_number"))
    assert Person.objects.filter(id_number=OTHER).count() == 1


def test_an_unknown_compound_is_reported(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", compound="不存在小区"))
    assert _messages(bad, "compound")


def test_a_compound_of_another_committee_is_unknown(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", compound=world.other_compound.code))
    assert _messages(bad, "compound")


def test_an_unknown_building_is_reported(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", building="99"))
    assert _messages(bad, "building")


def test_an_unknown_room_in_a_known_building_is_created_on_import(world):
    job = run_import(world, [row(room="601", unit="2单元")])
    person = Person.objects.get(id_number=ZHANG)
    assert (person.house.building, person.house.unit, person.house.room) == (world.building, "2单元", "601")
    assert job.counts["new"] == 1


def test_an_unknown_tag_is_reported(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", tags="no_such_tag"))
    assert any("no_such_tag" in m for m in _messages(bad, "tags"))


def test_a_computed_tag_cannot_be_imported(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", tags="aged_80"))
    assert any("自动计算" in m for m in _messages(bad, "tags"))


def test_a_tag_the_importer_may_not_assign_is_reported(world):
    _job, bad = _bad_file(world, row(id_number=OTHER, name="赵六", tags="low_income"))
    assert any("无权" in m for m in _messages(bad, "tags"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "男性"),
        ("status", "出差"),
        ("tenure", "借住"),
        ("relation", "邻居"),
        ("document_type", "驾照"),
    ],
)
def test_a_bad_enumeration_value_names_the_allowed_ones(world, field, value):
    values = row(id_number=OTHER, name="赵六", household="2", relation="户主")
    values[field] = value
    _job, bad = _bad_file(world, values)
    messages = [m for m in _messages(bad, field) if value in m]
    assert len(messages) == 1
    assert ledger.allowed_values(field) in messages[0]


def test_a_household_with_two_heads_is_reported(world):
    rows = household()
    rows[1]["relation"] = "户主"
    job = upload(world, ledger_csv(rows))
    assert job.status == ImportStatus.INVALID
    assert job.rows.filter(action=RowAction.ERROR).count() == 2
    assert _counts() == (0, 0, 0, 0)


def test_a_new_household_without_a_head_is_reported(world):
    job = upload(world, ledger_csv(household()[1:]))
    assert job.status == ImportStatus.INVALID
    assert _counts() == (0, 0, 0, 0)


def test_an_unknown_place_code_in_an_id_is_only_a_warning(world):
    foreign_place = resident_id(date(1985, 1, 1), 7, prefix="770101")
    job = upload(world, ledger_csv([row(id_number=foreign_place)]))
    assert job.status == ImportStatus.VALIDATED
    [preview] = job.rows.all()
    assert preview.action == RowAction.NEW
    assert [e["level"] for e in preview.errors] == ["warning"]


def test_every_bad_row_of_a_file_is_reported_at_once(world):
    rows = [*household(), row(id_number=OTHER, name="赵六", mobile="1"), row(id_number="123", name="钱七")]
    job = upload(world, ledger_csv(rows))
    assert job.counts == {"new": 3, "changed": 0, "unchanged": 0, "error": 2, "corrections": 0}
    assert _counts() == (0, 0, 0, 0)


def test_the_csv_error_report_is_the_file_with_an_error_column(world):
    rows = [*household(), row(id_number=OTHER, name="赵六", mobile="1")]
    job = upload(world, ledger_csv(rows))
    with job.error_report.open("rb") as stream:
        report = list(ledger.iter_raw_rows(stream, ledger.CSV))
    assert report[0] == [*ledger.header_row(), ledger.ERROR_HEADER]
    assert [r[-1] for r in report[1:4]] == ["", "", ""]
    assert report[4][-1].startswith("手机号：")
    assert report[4][:-1] == [rows[3].get(k, "") for k in ledger.KEYS]


def test_the_xlsx_error_report_keeps_the_format(world):
    rows = [*household(), row(id_number=OTHER, name="赵六", birth_date="不详")]
    job = upload(world, ledger_xlsx(rows), name="ledger.xlsx")
    assert job.error_report.name.endswith(".xlsx")
    with job.error_report.open("rb") as stream:
        sheet = load_workbook(io.BytesIO(stream.read()), read_only=True).worksheets[0]
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0][-1] == ledger.ERROR_HEADER
    assert cells[4][-1].startswith("出生日期：")
    assert all(not r[-1] for r in cells[1:4])


def test_a_fixed_error_report_imports_cleanly(world):
    rows = [*household(), row(id_number=OTHER, name="赵六", mobile="1")]
    job = upload(world, ledger_csv(rows))
    with job.error_report.open("rb") as stream:
        report = list(ledger.iter_raw_rows(stream, ledger.CSV))
    report[4][ledger.KEYS.index("mobile")] = "13500135000"
    import csv as csv_module

    out = io.StringIO()
    csv_module.writer(out).writerows(report)
    fixed = upload(world, out.getvalue().encode("utf-8"), name="fixed.csv")
    assert fixed.status == ImportStatus.VALIDATED
    assert fixed.counts["new"] == 4


def test_gb18030_csv_files_are_read(world):
    job = upload(world, ledger_csv(household(), encoding="gb18030"))
    assert job.status == ImportStatus.VALIDATED
    assert job.rows.get(row_number=2).data["name"] == "张建国"


def test_english_keys_are_accepted_as_headers(world):
    out = io.StringIO()
    import csv as csv_module

    writer = csv_module.writer(out)
    writer.writerow(ledger.KEYS)
    writer.writerow([row().get(k, "") for k in ledger.KEYS])
    job = upload(world, out.getvalue().encode("utf-8"))
    assert job.status == ImportStatus.VALIDATED


def test_a_file_without_the_required_columns_is_invalid_as_a_whole(world):
    job = upload(world, b"a,b\n1,2\n")
    assert job.status == ImportStatus.INVALID
    assert "姓名" in job.message
    assert not job.rows.exists()


def test_only_import_roles_may_upload(world):
    officer = user_with_role(Role.STREET_OFFICER, division=world.tree.street(1, 1))
    with pytest.raises(ApiError) as error:
        upload(world, ledger_csv(household()), actor=officer)
    assert error.value.http_status == 403


def test_the_same_file_uploaded_twice_while_pending_is_one_job(world):
    first = upload(world, ledger_csv(household()))
    second = upload(world, ledger_csv(household()))
    assert first.pk == second.pk


def test_spreadsheet_cells_are_read_as_text(world):
    values = {**row(), "id_number": ZHANG, "mobile": 13800138000, "birth_date": date(1950, 3, 4)}
    spouse = {**row(name="李秀英", id_number=LI), "mobile": 13900139000.0}
    job = upload(world, ledger_xlsx([values, spouse]), name="ledger.xlsx")
    assert job.status == ImportStatus.VALIDATED
    assert job.rows.get(row_number=3).data["mobile"] == "13900139000"
