"""A resident sees their own record and who viewed it — nobody else's, and never a sensitive tag."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, small_tree, user_with_role
from shequ.core.models import AccessLog
from shequ.core.privacy import reveal
from shequ.core.validators import id_check_char
from shequ.places.models import Compound, House
from shequ.registry.models import (
    Household,
    HouseholdMember,
    Person,
    Relation,
    ResidentLink,
    TagAssignment,
    TagDefinition,
)

pytestmark = pytest.mark.django_db


# --- Helpers shared by the resident, back-flow and retention tests ---------------------------------


def make_id(birth: str = "19800101", seq: str = "001", place: str = "310101") -> str:
    first17 = f"{place}{birth}{seq}"
    return first17 + id_check_char(first17)


def person_in(compound: Compound, *, name: str, id_number: str = "", room: str = "", **extra) -> Person:
    committee = compound.committee
    house = None
    if room:
        house = House.objects.create(building=compound.buildings.first(), room=room)
    return Person.objects.create(
        name=name,
        id_number=id_number,
        street_code=committee.code[:9] + "000",
        path=compound.path,
        house=house,
        **extra,
    )


def resident_of(person: Person, **user_fields) -> object:
    """A resident account at the person's committee, linked to the person."""
    compound = Compound.objects.get(path=person.path)
    user = user_with_role(Role.RESIDENT, division=compound.committee, **user_fields)
    ResidentLink.objects.create(user=user, person=person, verified_at="2024-01-01T00:00:00+08:00")
    return user


def client_for(user) -> Client:
    client = Client()
    login(client, user)
    return client


# --- Fixtures -------------------------------------------------------------------------------------------


@pytest.fixture
def tree():
    return small_tree()


@pytest.fixture
def person(tree):
    return person_in(
        tree.compound(1, 1, 1),
        name="张三丰",
        id_number=make_id("19400301", "002"),
        room="101",
        mobile="13800138000",
        registered_address="黄浦区南京东路100号",
    )


@pytest.fixture
def resident(person):
    return resident_of(person, display_name="张三丰")


@pytest.fixture
def worker(tree):
    return user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1), display_name="王小明")


# --- Tests ------------------------------------------------------------------------------------------


def test_resident_sees_own_record_unmasked_without_an_access_record(person, resident):
    response = client_for(resident).get(reverse("registry:me"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "张三丰" in body
    assert person.id_number in body
    assert "13800138000" in body
    assert "no-store" in response["Cache-Control"]
    assert not AccessLog.objects.exists()


def test_household_shows_other_members_masked(tree, person, resident):
    spouse = person_in(tree.compound(1, 1, 1), name="李四娘", id_number=make_id("19420101", "004"))
    household = Household.objects.create(
        house=person.house, head=person, street_code=person.street_code, path=person.path
    )
    HouseholdMember.objects.create(
        household=household, person=person, relation=Relation.HEAD, street_code=person.street_code
    )
    HouseholdMember.objects.create(
        household=household, person=spouse, relation=Relation.SPOUSE, street_code=person.street_code
    )
    body = client_for(resident).get(reverse("registry:me")).content.decode()
    assert "李**" in body
    assert "李四娘" not in body


def test_a_staff_reveal_appears_on_the_residents_access_log_with_purpose(person, resident, worker):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9")
    reveal(actor=worker, subject=person, fields=["mobile"], purpose="高龄老人电话回访", request=request)
    response = client_for(resident).get(reverse("registry:me_access_log"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "高龄老人电话回访" in body
    assert "手机号" in body
    assert "居村工作人员" in body
    assert "黄浦区第1街道第1居委会" in body
    # The viewer appears by surname and role only.
    assert "王**" in body
    assert "王小明" not in body


def test_access_log_api_lists_each_reveal(person, resident, worker):
    reveal(actor=worker, subject=person, fields=["id_number"], purpose="核对身份信息")
    reveal(actor=worker, subject=person, fields=["mobile", "name"], purpose="通知领取补贴")
    response = client_for(resident).get("/api/v1/registry/me/access-log")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert [item["purpose"] for item in data["items"]] == ["通知领取补贴", "核对身份信息"]
    assert data["items"][0]["fields"] == ["手机号", "姓名"]
    assert data["items"][0]["viewer"] == "王**"
    assert data["items"][0]["role"] == "居村工作人员"


def test_access_log_query_count_does_not_grow_with_entries(
    person, resident, worker, django_assert_max_num_queries
):
    other = user_with_role(Role.COMMITTEE_HEAD, division=person_in_committee(person), display_name="赵书记")
    for n in range(6):
        reveal(actor=worker if n % 2 else other, subject=person, fields=["mobile"], purpose=f"回访第{n}次")
    client = client_for(resident)
    client.get(reverse("registry:me_access_log"))  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("registry:me_access_log"))
    for n in range(20):
        reveal(actor=worker, subject=person, fields=["mobile"], purpose=f"再次回访第{n}次")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("registry:me_access_log"))


def person_in_committee(person: Person):
    return Compound.objects.get(path=person.path).committee


@pytest.mark.parametrize("url_name", ["registry:me", "registry:me_access_log", "registry:me_requests"])
def test_users_without_a_linked_record_get_404(tree, person, worker, url_name):
    unlinked = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1))
    assert client_for(unlinked).get(reverse(url_name)).status_code == 404
    assert client_for(worker).get(reverse(url_name)).status_code == 404


def test_api_me_answers_404_without_a_link(tree):
    unlinked = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1))
    response = client_for(unlinked).get("/api/v1/registry/me")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_resident_cannot_reach_another_persons_record(tree, person, resident):
    neighbour = person_in(tree.compound(1, 1, 1), name="钱七", id_number=make_id("19500101", "006"))
    client = client_for(resident)
    data = client.get("/api/v1/registry/me").json()
    assert data["id"] == person.pk
    assert data["name"] == "张三丰"
    assert client.get(reverse("registry:person_link_resident", args=[neighbour.pk])).status_code == 404
    assert client.get(reverse("registry:person_link_resident", args=[person.pk])).status_code == 404


def test_residents_never_see_sensitive_tags(person, resident):
    family = TagDefinition.objects.create(code="civilised_family", name="文明家庭")
    disabled = TagDefinition.objects.create(
        code="severe_mental_disorder",
        name="严重精神障碍患者",
        is_sensitive=True,
        visible_to=[Role.COMMITTEE_HEAD],
    )
    watch = TagDefinition.objects.create(
        code="community_correction",
        name="社区矫正对象",
        is_sensitive=True,
        visible_to=[Role.COMMITTEE_WORKER],
    )
    for tag in (family, disabled, watch):
        TagAssignment.objects.create(
            person=person,
            tag=tag,
            assigned_at="2024-01-01T00:00:00+08:00",
            path=person.path,
            street_code=person.street_code,
        )
    client = client_for(resident)
    body = client.get(reverse("registry:me")).content.decode()
    assert "文明家庭" in body
    assert "严重精神障碍患者" not in body
    assert "社区矫正对象" not in body
    data = client.get("/api/v1/registry/me").json()
    assert [t["name"] for t in data["tags"]] == ["文明家庭"]


def test_api_me_returns_the_own_record_unmasked(person, resident):
    response = client_for(resident).get("/api/v1/registry/me")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["id_number"] == person.id_number
    assert data["mobile"] == "13800138000"
    assert data["registered_address"] == "黄浦区南京东路100号"
    assert not AccessLog.objects.exists()
