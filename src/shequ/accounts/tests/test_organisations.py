"""Organisations: the services validate and log; the registry page and the API list only what the
user may see and answer 404 for the rest (DOMAIN.md §1–§2)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from shequ.accounts import services
from shequ.accounts.models import CompoundServiceKind, OrganisationKind, Role
from shequ.accounts.selectors import access_organisation_by_id, access_user_by_id
from shequ.core.events import events_for_subject

from .factories import UserFactory, login, organisation_create, user_with_role

pytestmark = pytest.mark.django_db


# --- Services ------------------------------------------------------------------------------------


def test_create_writes_an_event_with_the_values(tree):
    officer = user_with_role(Role.STREET_OFFICER, division=tree.street(1, 1))

    company = services.organisation_create(
        name="外滩物业",
        kind=OrganisationKind.PROPERTY_COMPANY,
        code="WY-1",
        division=tree.street(1, 1),
        actor=officer,
    )

    event = events_for_subject(company).get()
    assert event.type == "ORGANISATION_CREATED"
    assert event.actor == officer
    assert event.data["name"] == "外滩物业"
    assert event.scope_path == tree.street(1, 1).path


def test_create_refuses_a_taken_code_and_a_missing_area(tree):
    organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1), code="DUP")

    with pytest.raises(ValidationError) as excinfo:
        services.organisation_create(
            name="重复", kind=OrganisationKind.DEPARTMENT, code="DUP", division=None, actor=None
        )

    assert set(excinfo.value.message_dict) == {"code", "division"}


def test_a_branch_needs_a_department_parent_and_an_area_inside_it(tree):
    bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1))

    with pytest.raises(ValidationError) as excinfo:
        services.organisation_create(
            name="中队",
            kind=OrganisationKind.DEPARTMENT_BRANCH,
            code="B1",
            division=tree.street(1, 1),
            actor=None,
        )
    assert "parent" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.organisation_create(
            name="中队",
            kind=OrganisationKind.DEPARTMENT_BRANCH,
            code="B1",
            division=tree.street(2, 1),
            parent=bureau,
            actor=None,
        )
    assert "division" in excinfo.value.message_dict

    branch = services.organisation_create(
        name="中队",
        kind=OrganisationKind.DEPARTMENT_BRANCH,
        code="B1",
        division=tree.street(1, 1),
        parent=bureau,
        actor=None,
    )
    assert branch.parent == bureau


def test_an_owners_committee_sits_at_a_committee(tree):
    with pytest.raises(ValidationError) as excinfo:
        services.organisation_create(
            name="业委会",
            kind=OrganisationKind.OWNERS_COMMITTEE,
            code="Y1",
            division=tree.street(1, 1),
            actor=None,
        )
    assert "division" in excinfo.value.message_dict


def test_update_logs_only_what_changed(tree):
    officer = user_with_role(Role.DISTRICT_OFFICER, division=tree.district(1))
    bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1), name="旧名")

    services.organisation_update(organisation=bureau, actor=officer, name="新名", sector="城管")

    bureau.refresh_from_db()
    assert (bureau.name, bureau.sector) == ("新名", "城管")
    event = events_for_subject(bureau).get()
    assert event.type == "ORGANISATION_UPDATED"
    assert event.data == {"name": {"old": "旧名", "new": "新名"}, "sector": {"old": "", "new": "城管"}}


def test_update_outside_ones_power_is_refused(tree):
    officer = user_with_role(Role.DISTRICT_OFFICER, division=tree.district(2))
    bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1), name="旧名")

    with pytest.raises(PermissionDenied):
        services.organisation_update(organisation=bureau, actor=officer, name="新名")
    bureau.refresh_from_db()
    assert bureau.name == "旧名"


def test_compound_links_need_the_right_kind_of_organisation(tree):
    owners = organisation_create(kind=OrganisationKind.OWNERS_COMMITTEE, division=tree.committee(1, 1, 1))

    with pytest.raises(ValidationError):
        services.compound_service_link(
            compound=tree.compound(1, 1, 1),
            organisation=owners,
            kind=CompoundServiceKind.PROPERTY_MANAGEMENT,
            actor=None,
        )
    link = services.compound_service_link(
        compound=tree.compound(1, 1, 1),
        organisation=owners,
        kind=CompoundServiceKind.OWNERS_COMMITTEE,
        actor=None,
    )
    assert events_for_subject(link).get().type == "COMPOUND_SERVICE_LINKED"


# --- Access functions --------------------------------------------------------------------------


def test_access_organisation_by_id_hides_out_of_scope_as_missing(tree):
    from django.http import Http404

    worker = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))
    own_street = organisation_create(kind=OrganisationKind.STREET_OFFICE, division=tree.street(1, 1))
    district_bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1))
    city_bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.city)
    elsewhere = organisation_create(kind=OrganisationKind.STREET_OFFICE, division=tree.street(1, 2))

    for visible in (own_street, district_bureau, city_bureau):
        assert access_organisation_by_id(organisation_id=visible.pk, user=worker) == visible
    for hidden in (elsewhere.pk, 999_999, "nonsense"):
        with pytest.raises(Http404):
            access_organisation_by_id(organisation_id=hidden, user=worker)


def test_access_user_by_id_sees_people_in_scope_only(tree):
    from django.http import Http404

    head = user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 1))
    colleague = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))
    gridder = user_with_role(Role.GRID_WORKER, grid=tree.grid)
    stranger = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 2))
    nobody = UserFactory()

    assert access_user_by_id(user_id=head.pk, actor=head) == head
    assert access_user_by_id(user_id=colleague.pk, actor=head) == colleague
    assert access_user_by_id(user_id=gridder.pk, actor=head) == gridder
    for hidden in (stranger, nobody):
        with pytest.raises(Http404):
            access_user_by_id(user_id=hidden.pk, actor=head)


def test_department_members_see_their_department_and_branches_only(tree):
    from django.http import Http404

    bureau = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(1))
    branch = organisation_create(
        kind=OrganisationKind.DEPARTMENT_BRANCH, division=tree.street(1, 1), parent=bureau
    )
    other_district = organisation_create(kind=OrganisationKind.DEPARTMENT, division=tree.district(2))
    handler = user_with_role(Role.DEPARTMENT_HANDLER, organisation=bureau)

    assert access_organisation_by_id(organisation_id=branch.pk, user=handler) == branch
    with pytest.raises(Http404):
        access_organisation_by_id(organisation_id=other_district.pk, user=handler)


# --- Registry page and API ---------------------------------------------------------------------


@pytest.fixture
def registry(tree):
    return {
        "mine": organisation_create(
            kind=OrganisationKind.STREET_OFFICE, division=tree.street(1, 1), name="南京东路街道办"
        ),
        "above": organisation_create(
            kind=OrganisationKind.DEPARTMENT, division=tree.district(1), name="区城管局"
        ),
        "below": organisation_create(
            kind=OrganisationKind.OWNERS_COMMITTEE, division=tree.committee(1, 1, 2), name="某小区业委会"
        ),
        "foreign": organisation_create(
            kind=OrganisationKind.DEPARTMENT, division=tree.district(2), name="徐汇城管局"
        ),
    }


@pytest.fixture
def officer_client(tree):
    client = Client()
    login(client, user_with_role(Role.STREET_OFFICER, division=tree.street(1, 1)))
    return client


def test_registry_page_lists_only_visible_organisations(officer_client, registry):
    response = officer_client.get("/accounts/organisations/")

    assert response.status_code == 200
    names = [o.name for o in response.context["page"].object_list]
    assert sorted(names) == sorted(["南京东路街道办", "区城管局", "某小区业委会"])


def test_registry_page_filters_by_kind_and_text(officer_client, registry):
    response = officer_client.get("/accounts/organisations/", {"kind": OrganisationKind.DEPARTMENT})
    assert [o.name for o in response.context["page"].object_list] == ["区城管局"]

    response = officer_client.get("/accounts/organisations/", {"q": "业委会"})
    assert [o.name for o in response.context["page"].object_list] == ["某小区业委会"]


def test_registry_htmx_request_gets_the_fragment(officer_client, registry):
    response = officer_client.get("/accounts/organisations/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.templates[0].name == "accounts/_organisation_rows.html"
    assert "<html" not in response.content.decode()


def test_registry_detail_is_404_out_of_scope(officer_client, registry):
    assert officer_client.get(f"/accounts/organisations/{registry['below'].pk}/").status_code == 200
    foreign = officer_client.get(f"/accounts/organisations/{registry['foreign'].pk}/")
    missing = officer_client.get("/accounts/organisations/999999/")
    assert foreign.status_code == missing.status_code == 404


def test_registry_page_query_count_does_not_grow_with_rows(officer_client, tree):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert officer_client.get("/accounts/organisations/").status_code == 200
        return len(queries)

    organisation_create(kind=OrganisationKind.PROPERTY_COMPANY, division=tree.street(1, 1))
    few = count()
    for _ in range(10):
        organisation_create(kind=OrganisationKind.PROPERTY_COMPANY, division=tree.street(1, 1))
    assert count() == few


def test_api_lists_only_visible_organisations(officer_client, registry):
    body = officer_client.get("/api/v1/accounts/organisations").json()

    assert body["count"] == 3
    assert {o["name"] for o in body["results"]} == {"南京东路街道办", "区城管局", "某小区业委会"}
    assert officer_client.get("/api/v1/accounts/organisations", {"limit": 1}).json()["count"] == 3
    assert len(officer_client.get("/api/v1/accounts/organisations", {"limit": 1}).json()["results"]) == 1


def test_api_detail_answers_404_alike_for_foreign_and_missing(officer_client, registry):
    own = officer_client.get(f"/api/v1/accounts/organisations/{registry['above'].pk}")
    assert own.status_code == 200
    assert own.json()["division_code"] == registry["above"].division.code

    foreign = officer_client.get(f"/api/v1/accounts/organisations/{registry['foreign'].pk}")
    missing = officer_client.get("/api/v1/accounts/organisations/999999")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_api_needs_authentication(registry):
    response = Client().get("/api/v1/accounts/organisations")

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
