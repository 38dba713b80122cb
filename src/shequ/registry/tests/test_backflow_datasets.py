"""Data back-flow: a department publishes a dataset; each committee sees only its own rows while the
dataset is live; at expiry the rows are purged and the purge is logged."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from shequ.accounts.models import OrganisationKind, Role
from shequ.accounts.tests.factories import organisation_create, small_tree, user_with_role
from shequ.core.events import events_for_subject
from shequ.registry.models import BackflowDataset, BackflowRow, DatasetStatus
from shequ.registry.selectors_backflow import backflow_datasets_for
from shequ.registry.services_backflow import backflow_publish, backflow_purge_expired
from shequ.registry.tasks_backflow import backflow_purge_expired_task

from .test_resident_pages import client_for, make_id, person_in

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLISHED = datetime(2025, 5, 1, 9, 0, tzinfo=SHANGHAI)
EXPIRES = datetime(2025, 6, 30, 23, 59, tzinfo=SHANGHAI)


@pytest.fixture
def tree():
    return small_tree()


@pytest.fixture
def civil_affairs(tree):
    return organisation_create(
        kind=OrganisationKind.DEPARTMENT, division=tree.district(1), name="黄浦区民政局", sector="民政"
    )


@pytest.fixture
def handler(civil_affairs):
    return user_with_role(Role.DEPARTMENT_HANDLER, organisation=civil_affairs)


@pytest.fixture
def matched(tree):
    return person_in(tree.compound(1, 1, 1), name="周老伯", id_number=make_id("19380505", "011"))


@pytest.fixture
def workers(tree):
    return {c: user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(1, 1, c)) for c in (1, 2)}


def bad_id() -> str:
    good = make_id("19410101", "015")
    return good[:-1] + ("1" if good[-1] != "1" else "2")


def _rows(tree):
    return [
        # Matched by ID: placed at the person's compound in committee (1, 1, 1).
        {"id_number": make_id("19380505", "011"), "name": "周老伯", "居住情况": "独居"},
        # Unmatched, placed by committee code.
        {
            "id_number": make_id("19400707", "013"),
            "name": "吴阿婆",
            "committee": tree.committee(1, 1, 2).code,
        },
        # Bad checksum: rejected.
        {"id_number": bad_id(), "name": "郑某"},
        # Unknown committee code: rejected.
        {"id_number": make_id("19420202", "017"), "name": "王某", "committee": "310101999999"},
        # Neither matched nor coded: rejected.
        {"id_number": make_id("19430303", "019"), "name": "冯某"},
    ]


@pytest.fixture
def dataset(tree, civil_affairs, handler, matched):
    with time_machine.travel(PUBLISHED, tick=False):
        return backflow_publish(
            publisher=civil_affairs,
            name="独居老人名单",
            purpose="独居老人走访关爱",
            expires_at=EXPIRES,
            rows=_rows(tree),
            actor=handler,
        )


def test_publish_places_rows_matches_persons_and_reports_rejects(dataset, matched, tree):
    ds = dataset.dataset
    assert ds.row_count == 2
    assert ds.matched_count == 1
    assert [r.number for r in dataset.rejected] == [3, 4, 5]
    first = BackflowRow.objects.get(person=matched)
    assert first.path == matched.path
    assert first.committee == tree.committee(1, 1, 1)
    assert first.data == {"居住情况": "独居"}
    second = BackflowRow.objects.get(person__isnull=True)
    assert second.committee == tree.committee(1, 1, 2)
    event = events_for_subject(ds).get()
    assert event.type == "DATASET_PUBLISHED"
    assert event.data["rejected"] == 3


def test_publish_needs_purpose_future_expiry_and_the_right(tree, civil_affairs, handler, workers):
    rows = [{"id_number": make_id("19400707", "013"), "committee": tree.committee(1, 1, 2).code}]
    with time_machine.travel(PUBLISHED, tick=False):
        with pytest.raises(ValidationError):
            backflow_publish(
                publisher=civil_affairs, name="x", purpose="", expires_at=EXPIRES, rows=rows, actor=handler
            )
        with pytest.raises(ValidationError):
            backflow_publish(
                publisher=civil_affairs,
                name="x",
                purpose="走访关爱老人",
                expires_at=PUBLISHED - timedelta(days=1),
                rows=rows,
                actor=handler,
            )
        with pytest.raises(PermissionDenied):
            backflow_publish(
                publisher=civil_affairs,
                name="x",
                purpose="走访关爱老人",
                expires_at=EXPIRES,
                rows=rows,
                actor=workers[1],
            )
    assert not BackflowDataset.objects.exists()


def test_each_committee_sees_only_its_own_rows(dataset, workers, matched):
    ds = dataset.dataset
    with time_machine.travel(PUBLISHED + timedelta(days=1), tick=False):
        one = client_for(workers[1]).get(f"/api/v1/registry/backflow/{ds.pk}").json()
        two = client_for(workers[2]).get(f"/api/v1/registry/backflow/{ds.pk}").json()
    assert [item["person_id"] for item in one["items"]] == [matched.pk]
    assert one["items"][0]["name"] == "周**"
    assert "*" in one["items"][0]["id_number"]
    assert one["dataset"]["area_rows"] == 1
    assert one["dataset"]["row_count"] is None  # the totals are the publisher's
    assert [item["name"] for item in two["items"]] == ["吴**"]


def test_a_committee_without_rows_sees_nothing(dataset, tree):
    outsider = user_with_role(Role.COMMITTEE_WORKER, division=tree.committee(2, 1, 1))
    with time_machine.travel(PUBLISHED + timedelta(days=1), tick=False):
        client = client_for(outsider)
        assert client.get("/api/v1/registry/backflow").json() == []
        assert client.get(f"/api/v1/registry/backflow/{dataset.dataset.pk}").status_code == 404


def test_publisher_sees_counts_but_no_rows(dataset, handler):
    with time_machine.travel(PUBLISHED + timedelta(days=1), tick=False):
        client = client_for(handler)
        listing = client.get("/api/v1/registry/backflow").json()
        detail = client.get(f"/api/v1/registry/backflow/{dataset.dataset.pk}").json()
    assert listing[0]["row_count"] == 2
    assert listing[0]["matched_count"] == 1
    assert detail["items"] == []


def test_an_expired_dataset_is_invisible_at_once_and_purged_by_the_job(dataset, workers, handler):
    ds = dataset.dataset
    after = EXPIRES + timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        # Before the purge has run: already gone for the committee.
        assert backflow_datasets_for(user=workers[1], now=after) == []
        assert client_for(workers[1]).get(f"/api/v1/registry/backflow/{ds.pk}").status_code == 404
        purged = backflow_purge_expired(now=after)
    assert [d.pk for d in purged] == [ds.pk]
    ds.refresh_from_db()
    assert ds.status == DatasetStatus.PURGED
    assert ds.purged_at == after
    assert not BackflowRow.objects.exists()
    event = events_for_subject(ds).get(type="DATASET_PURGED")
    assert event.data["rows_deleted"] == 2
    # Idempotent.
    assert backflow_purge_expired(now=after + timedelta(days=1)) == []
    assert events_for_subject(ds).filter(type="DATASET_PURGED").count() == 1
    # The publisher keeps the record of the dataset, without rows.
    with time_machine.travel(after, tick=False):
        listing = client_for(handler).get("/api/v1/registry/backflow").json()
    assert listing[0]["status"] == "purged"


def test_a_live_dataset_is_left_alone_by_the_purge(dataset):
    assert backflow_purge_expired(now=EXPIRES - timedelta(seconds=1)) == []
    assert BackflowRow.objects.count() == 2


def test_purge_command_and_task(dataset):
    with time_machine.travel(EXPIRES + timedelta(hours=1), tick=False):
        call_command("registry_backflow_purge")
    assert not BackflowRow.objects.exists()
    assert backflow_purge_expired_task.enqueue().return_value == []


def test_csv_upload_page_publishes(tree, civil_affairs, handler, matched):
    content = (
        "身份证号,姓名,居村代码,联系人\n"
        f"{matched.id_number},周老伯,,儿子\n"
        f"{make_id('19400707', '013')},吴阿婆,{tree.committee(1, 1, 2).code},\n"
    ).encode("gb18030")
    client = client_for(handler)
    with time_machine.travel(PUBLISHED, tick=False):
        assert client.get(reverse("registry:backflow_publish")).status_code == 200
        response = client.post(
            reverse("registry:backflow_publish"),
            {
                "publisher": civil_affairs.pk,
                "name": "独居老人名单",
                "purpose": "独居老人走访关爱",
                "expires_on": "2025-06-30",
                "file": SimpleUploadedFile("list.csv", content, content_type="text/csv"),
            },
        )
    assert response.status_code == 200
    ds = BackflowDataset.objects.get()
    assert (ds.row_count, ds.matched_count) == (2, 1)
    assert BackflowRow.objects.get(person=matched).data == {"联系人": "儿子"}


def test_committee_pages(dataset, workers):
    with time_machine.travel(PUBLISHED + timedelta(days=1), tick=False):
        client = client_for(workers[2])
        listing = client.get(reverse("registry:backflow_list"))
        detail = client.get(reverse("registry:backflow_detail", args=[dataset.dataset.pk]))
        publish = client.get(reverse("registry:backflow_publish"))
    assert "独居老人名单" in listing.content.decode()
    body = detail.content.decode()
    assert "吴**" in body
    assert "吴阿婆" not in body
    assert "独居老人走访关爱" in body
    assert publish.status_code == 404
