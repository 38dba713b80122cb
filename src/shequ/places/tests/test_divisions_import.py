import io
import time

import pytest
from django.core.management import CommandError, call_command

from shequ.core.models import Event
from shequ.core.revisions import revision_token
from shequ.places.importers import division_rows_parse, shanghai_division_rows
from shequ.places.models import Compound, Division, DivisionKind, Grid, PlaceImport
from shequ.places.services import LOCATE_REVISION, DivisionImportError, divisions_import

pytestmark = pytest.mark.django_db

HEADER = "level,code,name,parent_code\n"
SMALL = (
    HEADER
    + "city,310000000000,上海市,\n"
    + "district,310101000000,黄浦区,310000000000\n"
    + "street,310101002000,南京东路街道,310101000000\n"
    + "street,310101015000,某某镇,310101000000\n"
    + "committee,310101002001,贵州居委会,310101002000\n"
    + "committee,310101015201,某某村村委会,310101015000\n"
    + "committee,310101015500,某某工业区社区,310101015000\n"
)


def rows_of(text):
    return division_rows_parse(io.StringIO(text))


def run(text, **kwargs):
    return divisions_import(rows=rows_of(text), actor=None, **kwargs)


def counts(report):
    return {level: vars(c) for level, c in report.levels.items()}


def test_shipped_shanghai_file_imports_1_16_234_6509_and_a_second_run_changes_nothing():
    started = time.perf_counter()
    first = divisions_import(rows=shanghai_division_rows(), actor=None, source="test")
    elapsed = time.perf_counter() - started
    assert {level: c.created for level, c in first.levels.items()} == {
        "city": 1,
        "district": 16,
        "street": 234,
        "committee": 6509,
    }
    assert Division.objects.count() == 6760
    assert elapsed < 10  # bulk operations: a few seconds at most even on a slow machine
    token = revision_token(LOCATE_REVISION)
    assert token

    second = divisions_import(rows=shanghai_division_rows(), actor=None, source="test")
    assert not second.changed
    assert {level: c.unchanged for level, c in second.levels.items()} == {
        "city": 1,
        "district": 16,
        "street": 234,
        "committee": 6509,
    }
    assert all(c.created == c.updated == c.missing == 0 for c in second.levels.values())
    assert revision_token(LOCATE_REVISION) == token  # nothing changed, nothing to rebuild
    assert Division.objects.filter(kind=DivisionKind.RESIDENTS_COMMITTEE).count() == 4941
    assert Division.objects.filter(kind=DivisionKind.VILLAGE_COMMITTEE).count() == 1555
    assert Division.objects.filter(level="committee", kind=DivisionKind.OTHER).count() == 13


def test_paths_are_codes_joined_root_first_with_trailing_slash():
    run(SMALL)
    committee = Division.objects.get(code="310101002001")
    assert committee.path == "310000000000/310101000000/310101002000/310101002001/"
    assert committee.parent.code == "310101002000"
    assert Division.objects.get(code="310000000000").path == "310000000000/"


def test_kind_is_derived_from_the_name():
    run(SMALL)
    kinds = dict(Division.objects.values_list("code", "kind"))
    assert kinds == {
        "310000000000": "city",
        "310101000000": "district",
        "310101002000": "subdistrict",
        "310101015000": "town",
        "310101002001": "residents_committee",
        "310101015201": "village_committee",
        "310101015500": "other",
    }


def test_renamed_unit_is_updated_and_counted():
    run(SMALL)
    report = run(SMALL.replace("贵州居委会", "贵州路居委会"))
    assert report.levels["committee"].updated == 1
    assert report.levels["committee"].unchanged == 2
    assert Division.objects.get(code="310101002001").name == "贵州路居委会"


def test_moved_unit_gets_new_path_and_so_do_its_compounds_and_grids():
    run(SMALL)
    committee = Division.objects.get(code="310101002001")
    Compound.objects.create(code="C1", name="小区", committee=committee, path=committee.path + "C1/")
    Grid.objects.create(code="G1", name="网格", division=committee, path=committee.path + "gG1/")
    moved = SMALL.replace(
        "committee,310101002001,贵州居委会,310101002000", "committee,310101002001,贵州居委会,310101015000"
    )
    report = run(moved)
    assert report.levels["committee"].updated == 1
    new_path = "310000000000/310101000000/310101015000/310101002001/"
    assert Division.objects.get(code="310101002001").path == new_path
    assert Compound.objects.get(code="C1").path == new_path + "C1/"
    assert Grid.objects.get(code="G1").path == new_path + "gG1/"


def test_units_missing_from_the_file_are_reported_not_deleted_and_retired_only_on_request():
    run(SMALL)
    without = SMALL.replace("committee,310101015500,某某工业区社区,310101015000\n", "")
    report = run(without)
    assert report.levels["committee"].missing == 1
    assert report.missing_codes == ["310101015500"]
    assert Division.objects.get(code="310101015500").is_active

    report = run(without, retire_missing=True)
    assert report.levels["committee"].retired == 1
    assert not Division.objects.get(code="310101015500").is_active

    # Back in a later file: reactivated.
    report = run(SMALL)
    assert report.levels["committee"].updated == 1
    assert Division.objects.get(code="310101015500").is_active


def test_units_of_another_city_are_not_missing_from_a_shanghai_file():
    run(HEADER + "city,110000000000,北京市,\ndistrict,110101000000,东城区,110000000000\n")
    report = run(SMALL)
    assert report.missing_codes == []
    assert Division.objects.get(code="110101000000").is_active


def test_file_may_extend_units_already_in_the_database():
    run(SMALL)
    report = run(HEADER + "committee,310101002002,新居委会,310101002000\n")
    assert report.levels["committee"].created == 1
    assert report.missing_codes == []  # only units below the file's own roots can be missing


def test_bad_rows_are_each_reported_with_line_and_reason_and_nothing_is_loaded():
    bad = (
        HEADER
        + "city,310000000000,上海市,\n"  # line 2: fine
        + "district,31010100000,黄浦区,310000000000\n"  # line 3: 11 digits
        + "province,310104000000,徐汇区,310000000000\n"  # line 4: unknown level
        + "street,310101002000,南京东路街道,319999000000\n"  # line 5: parent nowhere
        + "committee,310101002001,贵州居委会,310000000000\n"  # line 6: parent is a city, not a street
        + "district,310105000000,,310000000000\n"  # line 7: empty name
        + "district,310105000000,长宁区,310000000000\n"  # line 8: duplicate code
    )
    with pytest.raises(DivisionImportError) as info:
        run(bad)
    by_line = {}
    for error in info.value.errors:
        by_line.setdefault(error.line, []).append(error.reason)
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8]
    assert "12 位数字" in by_line[3][0]
    assert "province" in by_line[4][0]
    assert "319999000000" in by_line[5][0]
    assert "应为 street" in by_line[6][0]
    assert "名称为空" in by_line[7][0]
    assert "第 7 行" in by_line[8][0]
    assert Division.objects.count() == 0
    assert PlaceImport.objects.count() == 0


def test_level_change_of_an_existing_code_is_refused():
    run(SMALL)
    with pytest.raises(DivisionImportError) as info:
        run(HEADER + "street,310101002001,贵州居委会,310101000000\n")
    assert "层级为 committee" in info.value.errors[0].reason


def test_each_run_writes_one_summary_event():
    run(SMALL)
    run(SMALL)
    events = Event.objects.filter(type="DIVISIONS_IMPORTED").order_by("pk")
    assert events.count() == 2
    assert events[0].data["levels"]["committee"]["created"] == 3
    assert events[1].data["changed"] is False
    assert events[0].subject_type == "places.placeimport"
    assert events[0].scope_path == "310000000000/"


def test_command_prints_counts_and_says_when_nothing_changed(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text(SMALL, encoding="utf-8")
    out = io.StringIO()
    call_command("import_divisions", str(path), stdout=out)
    assert "committee" in out.getvalue()
    out = io.StringIO()
    call_command("import_divisions", str(path), stdout=out)
    assert "无变化" in out.getvalue()


def test_command_with_bad_rows_prints_each_and_exits_non_zero(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "city,310000000000,上海市,\ndistrict,abc,黄浦区,310000000000\n", encoding="utf-8"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_divisions", str(path), stderr=err)
    assert "第 3 行（abc）" in err.getvalue()
    assert Division.objects.count() == 0


def test_command_refuses_a_file_with_the_wrong_header(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("code,name\n310000000000,上海市\n", encoding="utf-8")
    with pytest.raises(CommandError, match="表头"):
        call_command("import_divisions", str(path))


def test_command_shanghai_option_loads_the_shipped_file():
    out = io.StringIO()
    call_command("import_divisions", "--shanghai", stdout=out)
    assert Division.objects.filter(level="committee").count() == 6509
    assert Division.objects.get(code="310101000000").name == "黄浦区"
