"""The committee worker's registry pages: search with a fixed query count, the person sheet with
per-field reveal (one access record each), the household file, the house view, edits that become
correction requests, and 404 for everything outside the user's scope or registry role."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, user_for_role_in_tree
from shequ.core.models import AccessLog
from shequ.registry.models import CorrectionRequest, Person, RequestStatus

from .test_people_world import World, build_world, make_id, person_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def client_for(world, role: str) -> Client:
    client = Client()
    login(client, user_for_role_in_tree(role, world.tree))
    return client


@pytest.fixture
def worker_client(world) -> Client:
    return client_for(world, Role.COMMITTEE_WORKER)


def test_search_lists_masked_people_of_the_committee_only(world, worker_client):
    response = worker_client.get("/registry/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "张**" in html
    assert "138****8000" in html
    assert world.elder.id_number[:3] + "***********" + world.elder.id_number[-4:] in html
    for clear in (world.elder.name, world.elder.mobile, world.elder.id_number):
        assert clear not in html
    assert f"/registry/persons/{world.other_street.pk}/" not in html
    assert f"/registry/persons/{world.elder.pk}/" in html


def test_search_fragment_for_htmx_and_filters_from_the_form(world, worker_client):
    response = worker_client.get("/registry/", {"tenure": "rented"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert f"/registry/persons/{world.head.pk}/" in html
    assert f"/registry/persons/{world.elder.pk}/" not in html


def test_search_with_a_tag_the_user_may_not_see_shows_the_field_error(world, worker_client):
    response = worker_client.get("/registry/", {"tags_all": "t-disabled"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "tags_all" in html
    assert f"/registry/persons/{world.elder.pk}/" not in html


def test_the_search_query_count_does_not_grow_with_the_page_size(world, worker_client):
    for i in range(30):
        person_in(
            world.rented,
            name=f"孙{i:02d}",
            id_number=make_id("310101", date(1990, 1, 1), f"{100 + i:03d}"),
            birth=date(1990, 1, 1),
            mobile=f"1390000{i:04d}",
        )
    counts = []
    for size in (5, 30):
        with CaptureQueriesContext(connection) as queries:
            response = worker_client.get("/registry/", {"page_size": size})
        assert response.status_code == 200
        assert len(re.findall(r'href="/registry/persons/\d+/"', response.content.decode())) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_committee_counts_fragment(world):
    client = client_for(world, Role.CITY_ADMIN)
    html = client.get("/registry/counts/", {"age_min": 80}).content.decode()
    assert world.tree.committee(1, 1, 1).name in html
    assert world.tree.committee(2, 1, 1).name in html


def test_person_sheet_is_masked_with_provenance(world, worker_client):
    response = worker_client.get(f"/registry/persons/{world.elder.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert world.elder.id_number not in html
    assert world.elder.mobile not in html
    assert "公安" in html
    assert "居村采集" in html
    assert f"/registry/households/{world.alone.pk}/" in html
    assert 'name="purpose"' in html


@pytest.mark.parametrize("url_path", ["persons/{elder}/", "households/{alone}/", "houses/{house}/"])
def test_another_committees_records_are_404(world, url_path):
    client = client_for(world, Role.COMMITTEE_WORKER)
    other_household = world.other_street  # a person of committee (1, 2, 1)
    url = "/registry/" + url_path.format(
        elder=other_household.pk,
        alone=_household_of(other_household),
        house=other_household.house_id,
    )
    assert client.get(url).status_code == 404


def _household_of(person: Person) -> int:
    from .test_people_world import household_of

    return household_of(person.house, (person, "head")).pk


@pytest.mark.parametrize(
    "role", [Role.PROPERTY_MANAGER, Role.DEPARTMENT_HANDLER, Role.RESIDENT, Role.STREET_DISPATCHER]
)
def test_roles_without_the_registry_see_nothing(world, role):
    client = client_for(world, role)
    listing = client.get("/registry/")
    assert f"/registry/persons/{world.elder.pk}/" not in listing.content.decode()
    assert client.get(f"/registry/persons/{world.elder.pk}/").status_code == 404
    assert client.get(f"/registry/households/{world.alone.pk}/").status_code == 404
    assert client.get(f"/registry/houses/{world.owned.pk}/").status_code == 404


def test_reveal_shows_one_field_and_writes_one_access_record(world, worker_client):
    url = f"/registry/persons/{world.elder.pk}/reveal/"
    response = worker_client.post(
        url, {"field": "mobile", "purpose": "高龄老人电话回访"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "13800138000" in response.content.decode()
    row = AccessLog.objects.get()
    assert (row.fields, row.purpose, row.subject_id) == (["mobile"], "高龄老人电话回访", str(world.elder.pk))


def test_reveal_without_a_purpose_is_refused_and_logs_nothing(world, worker_client):
    response = worker_client.post(f"/registry/persons/{world.elder.pk}/reveal/", {"field": "mobile"})
    assert response.status_code == 422
    assert "13800138000" not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_reveal_by_a_role_without_the_right_is_403_and_outside_scope_404(world):
    officer = client_for(world, Role.STREET_OFFICER)
    response = officer.post(
        f"/registry/persons/{world.elder.pk}/reveal/", {"field": "mobile", "purpose": "核对"}
    )
    assert response.status_code == 403
    worker = client_for(world, Role.COMMITTEE_WORKER)
    response = worker.post(
        f"/registry/persons/{world.other_street.pk}/reveal/", {"field": "mobile", "purpose": "核对"}
    )
    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_edit_form_applies_committee_fields_and_routes_police_fields(world, worker_client):
    url = f"/registry/persons/{world.elder.pk}/edit/"
    form = worker_client.get(url)
    assert form.status_code == 200
    assert world.elder.mobile not in form.content.decode()
    data = {
        "name": "张三峰",
        "document_type": "resident_id",
        "sex": "male",
        "population_kind": "registered",
        "status": "living_here",
        "mobile": "13900001234",
        "reason": "本人告知",
    }
    response = worker_client.post(url, data)
    assert response.status_code == 302
    world.elder.refresh_from_db()
    assert (world.elder.name, world.elder.mobile) == ("张三丰", "13900001234")
    assert CorrectionRequest.objects.get().proposed_value == "张三峰"


def test_edit_form_reports_a_bad_id_number_on_its_field(world, worker_client):
    data = {
        "document_type": "resident_id",
        "sex": "male",
        "population_kind": "registered",
        "status": "living_here",
        "id_number": "310101194506150011",
    }
    response = worker_client.post(f"/registry/persons/{world.elder.pk}/edit/", data)
    assert response.status_code == 200
    assert "校验位" in response.content.decode()


def test_household_file_and_house_view(world, worker_client):
    household = worker_client.get(f"/registry/households/{world.couple.pk}/").content.decode()
    assert "李**" in household
    assert "配偶" in household
    assert "出租" in household
    assert world.head.id_number not in household
    house = worker_client.get(f"/registry/houses/{world.rented.pk}/").content.decode()
    assert f"/registry/households/{world.couple.pk}/" in house
    assert "租户" in house
    assert world.spouse.name not in house


def test_household_head_change_through_the_page(world, worker_client):
    response = worker_client.post(
        f"/registry/households/{world.couple.pk}/members/",
        {"person": world.spouse.pk, "action": "head", "former_head_relation": "spouse"},
    )
    assert response.status_code == 302
    world.couple.refresh_from_db()
    assert world.couple.head == world.spouse


def test_correction_requests_list_and_decide(world, worker_client):
    worker_client.post(
        f"/registry/persons/{world.head.pk}/edit/",
        {
            "name": "李四河",
            "document_type": "resident_id",
            "sex": "male",
            "population_kind": "migrant",
            "status": "living_here",
        },
    )
    # 李四海's name has no provenance yet: the committee's edit applies at once.
    world.head.refresh_from_db()
    assert world.head.name == "李四河"
    worker_client.post(
        f"/registry/persons/{world.elder.pk}/edit/",
        {
            "name": "张三峰",
            "document_type": "resident_id",
            "sex": "male",
            "population_kind": "registered",
            "status": "living_here",
        },
    )
    request = CorrectionRequest.objects.get()
    listing = worker_client.get("/registry/corrections/").content.decode()
    assert "公安" in listing
    assert "张**" in listing
    assert f"/registry/corrections/{request.pk}/decide/" not in listing  # 公安 decides, not the committee
    head = client_for(world, Role.COMMITTEE_HEAD)
    assert head.post(f"/registry/corrections/{request.pk}/decide/", {"decision": "accept"}).status_code == 403
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
