"""The dispatch catalogue (派单目录): the seeded 小类 and their fields, seeding again, the category
search of the report form, the catalogue pages and the category API."""

from __future__ import annotations

import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.test import Client

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, small_tree, user_for_role_in_tree
from shequ.cases.catalogue import CATALOGUE, MAJORS, catalogue_seed
from shequ.cases.models import Category, CategoryKind, EmergencyService, ResponsibleKind, Urgency
from shequ.cases.selectors_catalogue import category_majors, category_search
from shequ.core.models import Unit

pytestmark = pytest.mark.django_db

API = "/api/v1/cases"


@pytest.fixture(autouse=True)
def catalogue() -> None:
    """The seeded catalogue (migration 0002); seeding again restores it should a transactional test
    have flushed the migration's rows."""
    catalogue_seed()


def client_for(user) -> Client:
    client = Client()
    login(client, user)
    return client


def codes(queryset) -> list[str]:
    return [c.code for c in queryset]


# --- The seed ---------------------------------------------------------------------------------------


def test_the_catalogue_has_forty_ordinary_and_four_emergency_categories():
    seeded = Category.objects.filter(code__in=[spec.code for spec in CATALOGUE])
    ordinary = seeded.filter(emergency_service="")
    emergency = seeded.exclude(emergency_service="")
    assert ordinary.count() >= 40
    assert sorted(emergency.values_list("emergency_service", flat=True)) == ["110", "119", "120", "122"]
    assert all(c.is_public and c.is_active for c in emergency)
    assert {c.code: c.emergency_service for c in emergency} == {
        "E0401": EmergencyService.FIRE,
        "E0402": EmergencyService.POLICE,
        "E0403": EmergencyService.AMBULANCE,
        "E0404": EmergencyService.TRAFFIC,
    }


def test_every_seeded_category_is_valid_and_shaped_like_gbt_30428():
    for category in Category.objects.filter(code__in=[spec.code for spec in CATALOGUE]):
        category.full_clean()
        assert re.fullmatch(r"[PE]\d{4}", category.code), category.code
        assert category.kind == (CategoryKind.PART if category.code[0] == "P" else CategoryKind.EVENT)
        assert (category.major_code, category.minor_code) == (category.code[1:3], category.code[3:5])
        assert category.major_name == MAJORS[(category.kind, category.major_code)]
        assert category.name
        assert category.keywords
        assert category.registration_condition
        assert category.closing_condition
        assert category.deadline_amount > 0
        assert category.deadline_unit in Unit.values
        assert category.urgency in Urgency.values
        assert category.responsible_kind in ResponsibleKind.values
        assert category.duplicate_radius_m > 0
        if category.responsible_kind in (ResponsibleKind.DEPARTMENT_BRANCH, ResponsibleKind.UTILITY):
            assert category.responsible_sector, category.code
        if category.responsible_kind in (ResponsibleKind.COMMITTEE, ResponsibleKind.PROPERTY_COMPANY):
            assert not category.responsible_sector, category.code


def test_the_majors_follow_the_standard_and_cover_the_city_s_matters():
    majors = {(m["kind"], m["major_code"]): m["major_name"] for m in category_majors(include_internal=True)}
    assert majors[(CategoryKind.PART, "01")] == "公用设施"
    assert majors[(CategoryKind.PART, "06")] == "其他设施"
    assert majors[(CategoryKind.EVENT, "04")] == "突发事件"
    assert majors[(CategoryKind.EVENT, "08")] == "邻里事务"
    assert len([key for key in majors if key[0] == CategoryKind.PART]) == 6
    sectors = set(Category.objects.values_list("responsible_sector", flat=True))
    assert {
        "城管",
        "绿化市容",
        "市政道路",
        "房管",
        "水务",
        "电力",
        "燃气",
        "通信",
        "市场监管",
        "公安",
    } <= sectors
    kinds = set(Category.objects.filter(emergency_service="").values_list("responsible_kind", flat=True))
    assert kinds == set(ResponsibleKind.values)


def test_the_domain_s_examples_have_their_time_limits_and_conditions():
    garbage = Category.objects.get(code="E0101")
    assert garbage.name == "暴露垃圾"
    assert (garbage.deadline_amount, garbage.deadline_unit) == (Decimal(1), Unit.WORK_DAYS)
    assert garbage.registration_condition == "公共区域有暴露垃圾、积存垃圾"
    assert garbage.closing_condition == "垃圾清除，地面无残留"
    dirty_road = Category.objects.get(name="道路不洁")
    assert (dirty_road.deadline_amount, dirty_road.deadline_unit) == (Decimal(5), Unit.WORK_HOURS)
    muck = Category.objects.get(name="积存渣土")
    assert (muck.deadline_amount, muck.deadline_unit) == (Decimal(4), Unit.WORK_DAYS)
    illegal_building = Category.objects.get(name="违法搭建")
    assert (illegal_building.deadline_amount, illegal_building.deadline_unit) == (Decimal(15), Unit.WORK_DAYS)
    gas_leak = Category.objects.get(name="燃气泄漏")
    assert (gas_leak.deadline_amount, gas_leak.deadline_unit) == (Decimal("0.5"), Unit.HOURS)
    assert gas_leak.urgency == Urgency.VERY_URGENT
    land = Category.objects.get(code="E0903")
    assert (land.deadline_amount, land.deadline_unit) == (Decimal(180), Unit.CALENDAR_DAYS)
    assert Category.objects.get(code="P0101").duplicate_radius_m == 50  # a manhole cover
    assert Category.objects.get(code="E0702").duplicate_radius_m == 500  # noise carries
    assert Category.objects.get(code="P0402").duplicate_radius_m == 250


def test_small_neighbourhood_matters_are_the_committee_s_own():
    committee = set(
        Category.objects.filter(responsible_kind=ResponsibleKind.COMMITTEE).values_list("name", flat=True)
    )
    assert {"邻里纠纷调解", "楼道堆物（无物业）", "公共区域照明小修"} <= committee
    # The same matter in a compound with a property manager is the property company's.
    assert (
        Category.objects.get(name="楼道堆物（有物业）").responsible_kind == ResponsibleKind.PROPERTY_COMPANY
    )


def test_seeding_again_keeps_edits_and_restores_missing_codes():
    migration = importlib.import_module("shequ.cases.migrations.0002_seed_catalogue")
    Category.objects.filter(code="E0101").update(deadline_amount=2)  # an administrator's edit
    Category.objects.filter(code="E0805").delete()
    before = Category.objects.count()
    migration.seed(apps, None)
    assert Category.objects.count() == before + 1
    assert Category.objects.get(code="E0101").deadline_amount == 2
    assert Category.objects.get(code="E0805").name == "社区事务咨询"
    assert catalogue_seed() == 0


# --- The search -------------------------------------------------------------------------------------


def test_search_matches_code_name_keywords_and_major_name():
    assert codes(category_search(q="e0101"))[0] == "E0101"
    assert "E0101" in codes(category_search(q="暴露垃圾"))
    assert "P0106" in codes(category_search(q="不亮"))  # a keyword of 路灯
    assert set(codes(category_search(q="宣传广告"))) >= {"E0201", "E0202", "E0203"}  # the 大类 name


def test_search_puts_name_matches_before_keyword_matches():
    found = codes(category_search(q="垃圾"))
    names = ["E0101", "E0106", "E0108"]  # 暴露垃圾, 垃圾箱房满溢, 小区内暴露垃圾: in catalogue order
    keywords = ["E0103", "P0301"]  # 积存渣土 (建筑垃圾), 废物箱 (垃圾桶)
    assert found[:3] == names
    assert set(found[3:]) >= set(keywords)
    assert codes(category_search(q="路灯"))[0] == "P0106"


def test_every_word_must_match_somewhere():
    found = codes(category_search(q="楼道 无物业"))
    assert "E0604" in found
    assert "E0603" not in found  # 楼道堆物（有物业）


def test_emergency_categories_come_first_whenever_they_match():
    found = list(category_search(q="火"))
    assert found[0].code == "E0401"
    assert found[0].is_emergency
    assert "P0107" in codes(found)  # 消火栓 is still there, after the stop


def test_search_filters_by_kind_and_major_and_hides_internal_and_inactive():
    assert {c.kind for c in category_search(kind=CategoryKind.PART)} == {CategoryKind.PART}
    assert {c.major_code for c in category_search(kind=CategoryKind.EVENT, major="07")} == {"07"}
    assert "E0904" not in codes(category_search())
    assert "E0904" in codes(category_search(include_internal=True))
    Category.objects.filter(code="E0105").update(is_active=False)
    assert "E0105" not in codes(category_search(q="晾晒"))
    assert "E0105" in codes(category_search(q="晾晒", include_inactive=True))


def test_without_words_the_catalogue_comes_in_its_order():
    found = codes(category_search())
    assert found[0] == "P0101"  # parts (部件) before events (事件), as in the standard
    assert found == sorted(found, key=lambda code: (code[0] != "P", code))
    majors = category_majors()
    assert (majors[0]["kind"], majors[0]["major_code"]) == ("part", "01")


# --- Pages ------------------------------------------------------------------------------------------


def test_the_catalogue_page_is_public_and_searchable_with_htmx():
    client = Client()
    page = client.get("/cases/catalogue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "暴露垃圾" in html
    assert "垃圾清除，地面无残留" in html
    assert "网格巡查发现问题" not in html  # internal
    fragment = client.get("/cases/catalogue/", {"q": "井盖"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert "<html" not in body
    assert "上水井盖" in body
    assert "违法搭建" not in body


def test_the_picker_stops_on_an_emergency_and_offers_the_rest():
    body = Client().get("/cases/catalogue/picker/", {"q": "着火"}).content.decode()
    assert "119" in body
    assert 'value="E0401"' not in body  # cannot be chosen
    body = Client().get("/cases/catalogue/picker/", {"q": "垃圾", "selected": "E0101"}).content.decode()
    assert 'name="category" value="E0101" required checked' in body


def test_a_category_page_and_internal_categories_for_staff_only():
    assert Client().get("/cases/catalogue/E0101/").status_code == 200
    assert Client().get("/cases/catalogue/E0904/").status_code == 404
    assert Client().get("/cases/catalogue/X9999/").status_code == 404
    tree = small_tree()
    staff = client_for(user_for_role_in_tree(Role.STREET_DISPATCHER, tree))
    assert staff.get("/cases/catalogue/E0904/").status_code == 200
    assert "网格巡查发现问题" in staff.get("/cases/catalogue/").content.decode()


# --- API --------------------------------------------------------------------------------------------


def test_the_category_api_searches_and_pages():
    tree = small_tree()
    resident = client_for(user_for_role_in_tree(Role.RESIDENT, tree))
    body = resident.get(f"{API}/categories", {"q": "噪声"}).json()
    assert body["count"] >= 3
    assert {item["major_code"] for item in body["items"]} >= {"07"}
    paged = resident.get(f"{API}/categories", {"page_size": 5, "page": 2}).json()
    assert (paged["page"], paged["page_size"], len(paged["items"])) == (2, 5, 5)
    fire = resident.get(f"{API}/categories", {"q": "火灾"}).json()["items"][0]
    assert (fire["code"], fire["is_emergency"], fire["emergency_service"]) == ("E0401", True, "119")
    parts = resident.get(f"{API}/categories", {"kind": "part", "major": "04"}).json()
    assert {item["code"][:3] for item in parts["items"]} == {"P04"}
    assert resident.get(f"{API}/categories", {"kind": "both"}).status_code == 422


def test_one_category_over_the_api():
    tree = small_tree()
    resident = client_for(user_for_role_in_tree(Role.RESIDENT, tree))
    body = resident.get(f"{API}/categories/E0101").json()
    assert body["name"] == "暴露垃圾"
    assert Decimal(str(body["deadline_amount"])) == 1
    assert (body["deadline_unit"], body["responsible_kind"], body["responsible_sector"]) == (
        "work_days",
        "department_branch",
        "绿化市容",
    )
    assert resident.get(f"{API}/categories/E0904").status_code == 404
    assert resident.get(f"{API}/categories/nope").json()["code"] == "not_found"
    assert Client().get(f"{API}/categories").status_code == 401
