import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from shequ.accounts.models import User
from shequ.core.models import AccessLog, AppendOnlyError, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return Event.objects.create(
        occurred_at=timezone.now(), subject_type="places.division", subject_id="1", type="DIVISION_CREATED"
    )


@pytest.fixture
def access_row():
    user = User.objects.create_user(username="reader", password="x" * 16)
    return AccessLog.objects.create(
        accessed_at=timezone.now(),
        actor=user,
        subject_type="registry.person",
        subject_id="9",
        fields=["mobile"],
        purpose="回访",
    )


def test_event_cannot_be_changed_through_save(event):
    event.type = "SOMETHING_ELSE"
    with pytest.raises(AppendOnlyError):
        event.save()
    assert Event.objects.get(pk=event.pk).type == "DIVISION_CREATED"


def test_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.filter(pk=event.pk).exists()


def test_event_queryset_update_is_refused(event):
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(type="X")
    with pytest.raises(AppendOnlyError):
        Event.objects.bulk_update([event], ["type"])


def test_access_log_cannot_be_changed_or_deleted(access_row):
    access_row.purpose = "changed"
    with pytest.raises(AppendOnlyError):
        access_row.save()
    with pytest.raises(AppendOnlyError):
        access_row.delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().update(purpose="x")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.get(pk=access_row.pk).purpose == "回访"


def test_database_refuses_raw_update_beneath_the_orm(event):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_event SET type = 'X' WHERE id = %s", [event.pk])
    assert Event.objects.get(pk=event.pk).type == "DIVISION_CREATED"
