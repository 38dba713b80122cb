"""The tag dictionary: the seeded definitions, their validation, who may maintain them (pages, API),
and the events every change writes."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.test import Client

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, small_tree, user_for_role_in_tree
from shequ.core.errors import ApiError
from shequ.core.models import Event
from shequ.registry.models import Person, TagAssignment, TagDefinition, TagRule
from shequ.registry.services_tags import (
    tag_definition_create,
    tag_definition_deactivate,
    tag_definition_update,
)

pytestmark = pytest.mark.django_db

SEEDED = {
    "oldest_old",
    "elderly",
    "living_alone_elderly",
    "empty_nest_elderly",
    "disability",
    "minimum_living_allowance",
    "entitled_group",
    "children_in_difficulty",
    "special_attention",
    "bereaved_only_child_family",
}


@pytest.fixture
def tree():
    return small_tree()


@pytest.fixture
def civil(tree):
    return user_for_role_in_tree(Role.CIVIL_AFFAIRS_OFFICER, tree)


@pytest.fixture
def worker(tree):
    return user_for_role_in_tree(Role.COMMITTEE_WORKER, tree)


def client_for(user) -> Client:
    client = Client()
    login(client, user)
    return client


def test_the_dictionary_is_seeded_with_the_central_tags():
    tags = {t.code: t for t in TagDefinition.objects.all()}
    assert set(tags) >= SEEDED
    assert tags["oldest_old"].name == "高龄老人"
    assert (tags["oldest_old"].rule, tags["oldest_old"].rule_value) == (TagRule.AGE_AT_LEAST, 80)
    assert not tags["oldest_old"].is_sensitive
    assert tags["living_alone_elderly"].evidence_required
    assert tags["living_alone_elderly"].review_months == 12
    assert set(tags["living_alone_elderly"].assignable_by) == {Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD}
    for code in ("disability", "minimum_living_allowance", "children_in_difficulty", "special_attention"):
        assert tags[code].is_sensitive
        assert tags[code].visible_to
    assert set(tags["minimum_living_allowance"].visible_to) == {
        Role.CIVIL_AFFAIRS_OFFICER,
        Role.COMMITTEE_HEAD,
    }
    assert "残疾人证" in tags["disability"].evidence_hint


def test_seeding_again_changes_nothing():
    migration = importlib.import_module("shequ.registry.migrations.0003_tags_seed_dictionary")
    TagDefinition.objects.filter(code="disability").update(review_months=24)  # an administrator's edit
    before = TagDefinition.objects.count()
    migration.seed(apps, None)
    assert TagDefinition.objects.count() == before
    assert TagDefinition.objects.get(code="disability").review_months == 24


def test_a_civil_affairs_officer_defines_changes_and_deactivates_a_tag_with_events(civil):
    tag = tag_definition_create(
        code="hearing_loss",
        name="听力障碍",
        is_sensitive=True,
        visible_to=[Role.COMMITTEE_HEAD],
        assignable_by=[Role.COMMITTEE_HEAD],
        evidence_required=True,
        evidence_hint="残疾人证",
        review_months=12,
        actor=civil,
    )
    tag_definition_update(tag=tag, actor=civil, review_months=24)
    tag_definition_deactivate(tag=tag, actor=civil)
    tag.refresh_from_db()
    assert (tag.review_months, tag.is_active) == (24, False)
    types = list(
        Event.objects.filter(subject_type="registry.tagdefinition", subject_id=str(tag.pk))
        .order_by("pk")
        .values_list("type", flat=True)
    )
    assert types == ["TAG_DEFINED", "TAG_DEFINITION_CHANGED", "TAG_DEACTIVATED"]
    assert Event.objects.get(type="TAG_DEFINITION_CHANGED").data == {"review_months": {"old": 12, "new": 24}}


def test_a_committee_worker_may_not_maintain_the_dictionary(worker):
    with pytest.raises(PermissionDenied):
        tag_definition_create(code="x", name="某标签", assignable_by=[Role.COMMITTEE_WORKER], actor=worker)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"is_sensitive": True, "assignable_by": [Role.COMMITTEE_HEAD]}, "visible_to"),
        (
            {"is_sensitive": True, "visible_to": [Role.RESIDENT], "assignable_by": [Role.COMMITTEE_HEAD]},
            "visible_to",
        ),
        ({"assignable_by": []}, "assignable_by"),
        ({"assignable_by": [Role.VOLUNTEER]}, "assignable_by"),
        ({"rule": TagRule.AGE_AT_LEAST}, "rule_value"),
        ({"assignable_by": [Role.COMMITTEE_HEAD], "evidence_required": True}, "evidence_hint"),
    ],
)
def test_invalid_definitions_name_the_field(civil, values, field):
    with pytest.raises(ApiError) as error:
        tag_definition_create(code="bad", name="有误", actor=civil, **values)
    assert error.value.field == field
    assert not TagDefinition.objects.filter(code="bad").exists()


def test_a_tag_in_use_cannot_switch_between_hand_and_computed(civil, tree):
    tag = TagDefinition.objects.get(code="empty_nest_elderly")
    compound = tree.compound(1, 1, 1)
    person = Person.objects.create(
        name="甲", street_code=compound.committee.code[:9] + "000", path=compound.path
    )
    TagAssignment.objects.create(
        person=person,
        tag=tag,
        assigned_at="2025-01-01T00:00:00Z",
        path=person.path,
        street_code=person.street_code,
    )
    with pytest.raises(ApiError) as error:
        tag_definition_update(tag=tag, actor=civil, rule=TagRule.AGE_AT_LEAST, rule_value=70)
    assert error.value.code == "in_use"


def test_the_administration_pages_are_for_dictionary_managers_only(civil, worker):
    assert client_for(worker).get("/registry/tags/").status_code == 403
    client = client_for(civil)
    page = client.get("/registry/tags/")
    assert page.status_code == 200
    assert "高龄老人" in page.content.decode()
    created = client.post(
        "/registry/tags/new/",
        {
            "code": "veteran_family",
            "name": "军属",
            "assignable_by": [Role.COMMITTEE_WORKER],
            "review_months": 12,
        },
    )
    assert created.status_code == 302
    tag = TagDefinition.objects.get(code="veteran_family")
    refused = client.post(
        f"/registry/tags/{tag.pk}/edit/",
        {"name": "军属", "is_sensitive": "on", "assignable_by": [Role.COMMITTEE_WORKER]},
    )
    assert refused.status_code == 422
    assert "敏感标签须指定可见角色" in refused.content.decode()
    assert client.post(f"/registry/tags/{tag.pk}/deactivate/").status_code == 302
    tag.refresh_from_db()
    assert not tag.is_active


def test_the_api_lets_staff_read_and_managers_write_the_dictionary(civil, worker, tree):
    listed = client_for(worker).get("/api/v1/registry/tags")
    assert listed.status_code == 200
    assert "oldest_old" in {t["code"] for t in listed.json()}
    payload = {"code": "api_tag", "name": "接口标签", "assignable_by": [Role.COMMITTEE_WORKER]}
    assert (
        client_for(worker).post("/api/v1/registry/tags", payload, content_type="application/json").status_code
        == 403
    )
    created = client_for(civil).post("/api/v1/registry/tags", payload, content_type="application/json")
    assert created.status_code == 201
    patched = client_for(civil).patch(
        f"/api/v1/registry/tags/{created.json()['id']}", {"review_months": 6}, content_type="application/json"
    )
    assert patched.json()["review_months"] == 6
    resident = user_for_role_in_tree(Role.RESIDENT, tree)
    assert client_for(resident).get("/api/v1/registry/tags").status_code == 403
