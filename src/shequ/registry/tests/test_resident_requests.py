"""Residents' correction and deletion requests: routed to the committee, one pending at a time, decided
by the committee head; an approved deletion archives the record at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import small_tree, user_with_role
from shequ.accounts.visibility import visible
from shequ.core.events import events_for_subject
from shequ.registry.models import CorrectionOrigin, CorrectionRequest, DeletionRequest, RequestStatus, Source
from shequ.registry.selectors_resident import active_persons
from shequ.registry.services_resident import (
    correction_request_from_resident,
    deletion_request_create,
    deletion_request_decide,
)

from .test_resident_pages import client_for, make_id, person_in, resident_of

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def tree():
    return small_tree()


@pytest.fixture
def person(tree):
    return person_in(
        tree.compound(1, 1, 1), name="张三丰", id_number=make_id("19400301", "002"), mobile="13800138000"
    )


@pytest.fixture
def resident(person):
    return resident_of(person)


@pytest.fixture
def worker(tree):
    return user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 1))


@pytest.fixture
def head(tree):
    return user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 1))


def test_a_residents_correction_lands_in_the_committees_queue(person, resident, worker, tree):
    correction = correction_request_from_resident(
        person=person, attribute="mobile", proposed_value="139-0013-9000", reason="换号了", actor=resident
    )
    assert correction.origin == CorrectionOrigin.RESIDENT
    assert correction.routed_to == Source.COMMITTEE
    assert correction.status == RequestStatus.PENDING
    assert correction.current_value == "13800138000"
    assert correction.proposed_value == "13900139000"
    queue = visible(
        CorrectionRequest.objects.filter(routed_to=Source.COMMITTEE, status=RequestStatus.PENDING), worker
    )
    assert list(queue) == [correction]
    other_worker = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, 2))
    assert not visible(CorrectionRequest.objects.all(), other_worker).exists()
    event = events_for_subject(correction).get()
    assert event.type == "CORRECTION_REQUESTED"
    assert "13900139000" not in str(event.data)


def test_a_second_pending_request_for_the_same_attribute_is_refused_clearly(person, resident):
    correction_request_from_resident(
        person=person, attribute="mobile", proposed_value="13900139000", reason="", actor=resident
    )
    with pytest.raises(ValidationError) as error:
        correction_request_from_resident(
            person=person, attribute="mobile", proposed_value="13700137000", reason="", actor=resident
        )
    assert "attribute" in error.value.message_dict
    # Another attribute is fine.
    correction_request_from_resident(
        person=person,
        attribute="registered_address",
        proposed_value="黄浦区福州路1号",
        reason="",
        actor=resident,
    )
    assert CorrectionRequest.objects.count() == 2


@pytest.mark.parametrize(
    ("attribute", "value"),
    [("mobile", "12345"), ("id_number", "WRONG_CHECKSUM"), ("birth_date", "1940-13-01"), ("status", "x")],
)
def test_bad_correction_values_are_refused(person, resident, attribute, value):
    if value == "WRONG_CHECKSUM":
        good = make_id("19600101", "003")
        value = good[:-1] + ("1" if good[-1] != "1" else "2")
    with pytest.raises(ValidationError):
        correction_request_from_resident(
            person=person, attribute=attribute, proposed_value=value, reason="", actor=resident
        )
    assert not CorrectionRequest.objects.exists()


def test_only_the_linked_resident_may_ask_for_a_correction(tree, person, worker):
    stranger = user_with_role(Role.RESIDENT, division=tree.committee(1, 1, 1))
    for actor in (stranger, worker):
        with pytest.raises(PermissionDenied):
            correction_request_from_resident(
                person=person, attribute="mobile", proposed_value="13900139000", reason="", actor=actor
            )


def test_correction_form_and_api(person, resident):
    client = client_for(resident)
    response = client.post(
        reverse("registry:me_correction_new"),
        {"attribute": "registered_address", "proposed_value": "黄浦区九江路2号", "reason": "户口簿已变更"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:me_requests")
    body = client.get(reverse("registry:me_requests")).content.decode()
    assert "黄浦区九江路2号" in body
    assert "待处理" in body
    api = client.post(
        "/api/v1/registry/me/corrections",
        {"attribute": "registered_address", "proposed_value": "黄浦区九江路3号"},
        content_type="application/json",
    )
    assert api.status_code == 422
    assert api.json()["field"] == "attribute"
    created = client.post(
        "/api/v1/registry/me/corrections",
        {"attribute": "mobile", "proposed_value": "13900139000"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["routed_to"] == "committee"


def test_deletion_request_approval_archives_the_record(person, resident, head, worker):
    request = deletion_request_create(
        person=person, ground="purpose_fulfilled", explanation="已搬离本市", actor=resident
    )
    assert request.status == RequestStatus.PENDING
    assert "已搬离本市" in request.reason
    with pytest.raises(PermissionDenied):
        deletion_request_decide(request=request, approve=True, note="", actor=worker)
    moment = datetime(2025, 3, 1, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        decided = deletion_request_decide(request=request, approve=True, note="核实无误", actor=head)
    assert decided.status == RequestStatus.ACCEPTED
    person.refresh_from_db()
    assert person.archived_at == moment
    assert not active_persons(visible(type(person).objects.all(), worker)).exists()
    types = [e.type for e in events_for_subject(person)]
    assert "PERSON_ARCHIVED" in types
    decision = events_for_subject(decided).get(type="DELETION_REQUEST_DECIDED")
    assert decision.data["approved"] is True
    assert datetime.fromisoformat(decision.data["purge_after"]) == moment + timedelta(days=30)
    # The resident still sees their archived record, with the purge date.
    body = client_for(resident).get(reverse("registry:me")).content.decode()
    assert "已归档" in body
    assert "2025-03-31" in body


def test_refusing_a_deletion_needs_a_reason_and_keeps_the_record(person, resident, head):
    request = deletion_request_create(
        person=person, ground="consent_withdrawn", explanation="", actor=resident
    )
    with pytest.raises(ValidationError):
        deletion_request_decide(request=request, approve=False, note="", actor=head)
    decided = deletion_request_decide(
        request=request, approve=False, note="属于法定登记事项，保存期限未届满", actor=head
    )
    assert decided.status == RequestStatus.REJECTED
    person.refresh_from_db()
    assert person.archived_at is None
    with pytest.raises(ValidationError):
        deletion_request_decide(request=decided, approve=True, note="", actor=head)


def test_one_pending_deletion_request_at_a_time(person, resident):
    deletion_request_create(person=person, ground="unlawful", explanation="", actor=resident)
    with pytest.raises(ValidationError):
        deletion_request_create(person=person, ground="unlawful", explanation="", actor=resident)
    assert DeletionRequest.objects.count() == 1


def test_deletion_request_through_the_api_and_the_committee_decides(person, resident, head, worker):
    client = client_for(resident)
    created = client.post(
        "/api/v1/registry/me/deletion-requests",
        {"ground": "purpose_fulfilled", "explanation": "已出国定居"},
        content_type="application/json",
    )
    assert created.status_code == 201
    request_id = created.json()["id"]
    listing = client_for(worker).get("/api/v1/registry/deletion-requests?status=pending").json()
    assert [item["id"] for item in listing["items"]] == [request_id]
    assert listing["items"][0]["person_name"] == "张**"
    refused = client_for(worker).post(
        f"/api/v1/registry/deletion-requests/{request_id}/decide",
        {"approve": True},
        content_type="application/json",
    )
    assert refused.status_code == 403
    decided = client_for(head).post(
        f"/api/v1/registry/deletion-requests/{request_id}/decide",
        {"approve": True, "note": "同意"},
        content_type="application/json",
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "accepted"


def test_committee_page_lists_and_decides_deletion_requests(person, resident, head, tree):
    deletion_request_create(person=person, ground="purpose_fulfilled", explanation="", actor=resident)
    client = client_for(head)
    page = client.get(reverse("registry:deletion_requests"))
    assert page.status_code == 200
    assert "张**" in page.content.decode()
    request = DeletionRequest.objects.get()
    response = client.post(reverse("registry:deletion_request_decide", args=[request.pk]), {"approve": "1"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED
    outsider = user_with_role(Role.COMMITTEE_HEAD, division=tree.committee(1, 1, 2))
    response = client_for(outsider).post(
        reverse("registry:deletion_request_decide", args=[request.pk]), {"approve": "0", "note": "x"}
    )
    assert response.status_code == 404
