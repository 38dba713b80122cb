"""Tags on persons: who may assign, evidence, review dates, one open assignment per tag, ending and
reviewing; sensitive tags hidden from every role without the right, in the selector, the person-sheet
fragment and the API; residents never see sensitive tags; another committee's person is a 404."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.test import Client

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import login, user_for_role_in_tree
from shequ.core.errors import ApiError
from shequ.core.models import Event
from shequ.registry import selectors_tags
from shequ.registry.models import PersonStatus, ResidentLink, TagAssignment, TagDefinition
from shequ.registry.services_tags import tag_assign, tag_end, tag_review_confirm

from .test_people_world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


SHANGHAI = ZoneInfo("Asia/Shanghai")
DISABILITY_EVIDENCE = "残疾人证 31010119450615xxxx 肢体二级"


def at(day: date) -> time_machine.travel:
    return time_machine.travel(datetime(day.year, day.month, day.day, 10, tzinfo=SHANGHAI), tick=False)


def tag(code: str) -> TagDefinition:
    return TagDefinition.objects.get(code=code)


@pytest.fixture
def worker(world):
    return user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)


@pytest.fixture
def head(world):
    return user_for_role_in_tree(Role.COMMITTEE_HEAD, world.tree)


@pytest.fixture
def civil(world):
    return user_for_role_in_tree(Role.CIVIL_AFFAIRS_OFFICER, world.tree)


def client_for(user) -> Client:
    client = Client()
    login(client, user)
    return client


# --- Assigning ---------------------------------------------------------------------------------


def test_assign_sets_the_review_date_from_the_tag_and_writes_an_event(world, worker):
    with at(date(2025, 1, 31)):
        assignment = tag_assign(
            person=world.elder,
            tag=tag("living_alone_elderly"),
            evidence="2025-01-30 走访核实独居",
            actor=worker,
        )
    assert assignment.review_due == date(2026, 1, 31)  # 12 months
    assert assignment.assigned_by == worker
    assert assignment.path == world.elder.path
    event = Event.objects.get(type="TAG_ASSIGNED")
    assert event.subject_id == str(assignment.pk)
    assert event.data["tag"] == "living_alone_elderly"
    assert event.scope_path == world.elder.path


def test_a_tag_that_requires_evidence_is_refused_without_it(world, worker):
    with pytest.raises(ApiError) as error:
        tag_assign(person=world.elder, tag=tag("living_alone_elderly"), evidence="  ", actor=worker)
    assert error.value.code == "evidence_required"
    assert error.value.field == "evidence"
    assert not TagAssignment.objects.filter(tag__code="living_alone_elderly").exists()


def test_a_tag_without_evidence_rules_is_assigned_without_evidence(world, worker):
    assignment = tag_assign(person=world.elder, tag=tag("empty_nest_elderly"), evidence="", actor=worker)
    assert assignment.evidence == ""


def test_a_second_open_assignment_of_the_same_tag_is_a_clear_error(world, worker):
    tag_assign(person=world.elder, tag=tag("empty_nest_elderly"), evidence="", actor=worker)
    with pytest.raises(ApiError) as error:
        tag_assign(person=world.elder, tag=tag("empty_nest_elderly"), evidence="", actor=worker)
    assert error.value.code == "already_assigned"
    assert error.value.http_status == 409
    assert TagAssignment.objects.filter(person=world.elder, tag__code="empty_nest_elderly").count() == 1


def test_only_the_roles_the_tag_names_may_assign_it(world, worker, civil):
    # 低保 comes from civil affairs: a committee worker may not assign it, a civil-affairs officer may.
    with pytest.raises(PermissionDenied):
        tag_assign(
            person=world.elder,
            tag=tag("minimum_living_allowance"),
            evidence="沪民低保 2025-001",
            actor=worker,
        )
    assignment = tag_assign(
        person=world.elder, tag=tag("minimum_living_allowance"), evidence="沪民低保 2025-001", actor=civil
    )
    assert assignment.tag.code == "minimum_living_allowance"


def test_computed_tags_cannot_be_assigned_by_hand(world, head):
    with pytest.raises(ApiError) as error:
        tag_assign(person=world.head, tag=tag("oldest_old"), evidence="", actor=head)
    assert error.value.code == "computed"


def test_only_persons_living_here_are_tagged(world, worker):
    world.head.status = PersonStatus.MOVED_OUT
    world.head.save(update_fields=["status"])
    with pytest.raises(ApiError) as error:
        tag_assign(person=world.head, tag=tag("empty_nest_elderly"), evidence="", actor=worker)
    assert error.value.code == "not_living_here"


def test_ending_needs_a_reason_keeps_history_and_allows_a_new_assignment(world, worker):
    assignment = tag_assign(person=world.elder, tag=tag("empty_nest_elderly"), evidence="", actor=worker)
    with pytest.raises(ApiError):
        tag_end(assignment=assignment, reason=" ", actor=worker)
    ended = tag_end(assignment=assignment, reason="子女已搬回同住", actor=worker)
    assert ended.ended_at is not None
    assert Event.objects.filter(type="TAG_ENDED", subject_id=str(assignment.pk)).exists()
    with pytest.raises(ApiError) as error:
        tag_end(assignment=ended, reason="again", actor=worker)
    assert error.value.code == "already_ended"
    again = tag_assign(person=world.elder, tag=tag("empty_nest_elderly"), evidence="", actor=worker)
    assert again.pk != assignment.pk
    assert TagAssignment.objects.filter(person=world.elder, tag__code="empty_nest_elderly").count() == 2


def test_review_list_shows_tags_past_their_review_date_in_scope_and_review_moves_the_date(world, worker):
    with at(date(2024, 3, 1)):
        assignment = tag_assign(
            person=world.elder, tag=tag("living_alone_elderly"), evidence="走访核实", actor=worker
        )
    assert assignment.review_due == date(2025, 3, 1)
    assert list(selectors_tags.tag_reviews_due(user=worker, as_of=date(2025, 2, 28))) == []
    assert list(selectors_tags.tag_reviews_due(user=worker, as_of=date(2025, 3, 1))) == [assignment]
    other = user_for_role_in_tree(Role.COMMITTEE_WORKER, world.tree)
    other.memberships.update(division=world.tree.committee(2, 1, 1))
    assert list(selectors_tags.tag_reviews_due(user=other, as_of=date(2025, 3, 1))) == []
    with at(date(2025, 3, 5)):
        reviewed = tag_review_confirm(assignment=assignment, actor=worker)
        response = client_for(worker).get("/registry/tags/reviews/")
    assert reviewed.review_due == date(2026, 3, 5)
    assert response.status_code == 200
    assert "没有需要复核的标签" in response.content.decode()


def test_assign_and_end_through_the_fragment(world, worker):
    client = client_for(worker)
    url = f"/registry/persons/{world.head.pk}/tags/"
    living_alone = tag("living_alone_elderly")
    refused = client.post(url, {"tag": living_alone.pk, "evidence": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200  # htmx swaps the form with its error
    assert "须附依据" in refused.content.decode()
    assert not TagAssignment.objects.filter(person=world.head, tag=living_alone).exists()
    done = client.post(url, {"tag": living_alone.pk, "evidence": "走访核实"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    assignment = TagAssignment.objects.get(person=world.head, tag=living_alone)
    assert "独居老人" in done.content.decode()
    full_page = client.get(url)
    assert full_page.status_code == 200
    assert "<html" in full_page.content.decode()
    ended = client.post(
        f"/registry/tag-assignments/{assignment.pk}/end/", {"reason": "已与子女同住"}, HTTP_HX_REQUEST="true"
    )
    assert ended.status_code == 200
    assignment.refresh_from_db()
    assert assignment.end_reason == "已与子女同住"


def test_assign_and_list_through_the_api(world, worker):
    client = client_for(worker)
    created = client.post(
        f"/api/v1/registry/persons/{world.head.pk}/tags",
        {"tag": "empty_nest_elderly", "evidence": ""},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["tag"] == "empty_nest_elderly"
    missing_evidence = client.post(
        f"/api/v1/registry/persons/{world.head.pk}/tags",
        {"tag": "living_alone_elderly"},
        content_type="application/json",
    )
    assert missing_evidence.status_code == 422
    assert missing_evidence.json()["field"] == "evidence"
    listed = client.get(f"/api/v1/registry/persons/{world.head.pk}/tags").json()
    assert [row["tag"] for row in listed] == ["empty_nest_elderly"]
    ended = client.post(
        f"/api/v1/registry/tag-assignments/{created.json()['id']}/end",
        {"reason": "情况变化"},
        content_type="application/json",
    )
    assert ended.status_code == 200
    assert ended.json()["ended_at"] is not None


# --- Sensitive tags ------------------------------------------------------------------------------

# Who sees what on the elder of committee (1, 1, 1), who holds the seeded sensitive tag 残疾人
# (committee worker and head, civil-affairs officer) and the non-sensitive 空巢老人.
SEES_SENSITIVE = {Role.COMMITTEE_WORKER, Role.COMMITTEE_HEAD, Role.CIVIL_AFFAIRS_OFFICER}
SEES_REGISTRY = {
    Role.COMMITTEE_WORKER,
    Role.COMMITTEE_HEAD,
    Role.GRID_WORKER,
    Role.STREET_OFFICER,
    Role.DISTRICT_OFFICER,
    Role.CIVIL_AFFAIRS_OFFICER,
    Role.CITY_ADMIN,
}


@pytest.fixture
def tagged_elder(world, head):
    disability = tag_assign(
        person=world.elder, tag=tag("disability"), evidence=DISABILITY_EVIDENCE, actor=head
    )
    empty_nest = tag_assign(person=world.elder, tag=tag("empty_nest_elderly"), evidence="", actor=head)
    return disability, empty_nest


@pytest.mark.parametrize("role", list(Role))
def test_sensitive_tags_are_shown_only_to_the_roles_the_tag_names(world, tagged_elder, role):
    disability, _empty_nest = tagged_elder
    user = user_for_role_in_tree(role, world.tree)
    client = client_for(user)
    page = client.get(f"/registry/persons/{world.elder.pk}/tags/", HTTP_HX_REQUEST="true")
    api = client.get(f"/api/v1/registry/persons/{world.elder.pk}/tags")
    direct = client.post(
        f"/api/v1/registry/tag-assignments/{disability.pk}/review", {}, content_type="application/json"
    )
    if role not in SEES_REGISTRY:
        assert page.status_code == 404
        assert api.status_code == 404
        assert direct.status_code == 404
        return
    assert page.status_code == 200
    html = page.content.decode()
    codes = {row["tag"] for row in api.json()}
    selected = {a.tag.code for a in selectors_tags.person_tags(person=world.elder, user=user)}
    assert "空巢老人" in html
    assert "empty_nest_elderly" in codes
    if role in SEES_SENSITIVE:
        assert "残疾人" in html
        assert "disability" in codes
        assert "disability" in selected
    else:
        assert "残疾人" not in html
        assert DISABILITY_EVIDENCE not in html
        assert "disability" not in codes
        assert "disability" not in selected
        assert direct.status_code == 404  # an assignment of a tag you may not see does not exist


def test_residents_never_see_sensitive_tags(world, tagged_elder):
    resident = user_for_role_in_tree(Role.RESIDENT, world.tree)
    ResidentLink.objects.create(
        user=resident, person=world.elder, verified_at=datetime(2025, 1, 1, tzinfo=SHANGHAI)
    )
    # The resident-facing selector returns only non-sensitive tags, whoever asks.
    shown = list(selectors_tags.person_tags_for_resident(person=world.elder))
    assert "empty_nest_elderly" in {a.tag.code for a in shown}
    assert (
        TagAssignment.objects.filter(
            person=world.elder, tag__is_sensitive=True, ended_at__isnull=True
        ).count()
        == 2
    )
    assert not [a for a in shown if a.tag.is_sensitive]
    # The seeded sensitive tags name no role a resident (or volunteer) holds.
    for definition in TagDefinition.objects.filter(is_sensitive=True):
        assert Role.RESIDENT not in definition.visible_to
        assert Role.VOLUNTEER not in definition.visible_to
    # The staff pages and API are not theirs, even for their own record.
    client = client_for(resident)
    assert client.get(f"/registry/persons/{world.elder.pk}/tags/").status_code == 404
    assert client.get(f"/api/v1/registry/persons/{world.elder.pk}/tags").status_code == 404


def test_another_committees_person_is_not_found(world, worker):
    client = client_for(worker)
    assert client.get(f"/registry/persons/{world.other_district.pk}/tags/").status_code == 404
    assert client.get(f"/api/v1/registry/persons/{world.other_district.pk}/tags").status_code == 404
    response = client.post(
        f"/api/v1/registry/persons/{world.other_district.pk}/tags",
        {"tag": "empty_nest_elderly"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not TagAssignment.objects.filter(
        person=world.other_district, tag__code="empty_nest_elderly"
    ).exists()
