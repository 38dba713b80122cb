"""The registry's persons go through the single reveal function: masked by default, unmasked only with a
purpose, and every unmasked read leaves an access record the person can see."""

import pytest
from django.test import RequestFactory

from shequ.accounts.models import User
from shequ.core.errors import ApiError
from shequ.core.models import AccessLog
from shequ.core.privacy import access_log_for_data_subject, masked_dict, masked_value, reveal
from shequ.registry.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    return Person.objects.create(
        name="张三丰",
        id_number="11010519491231002X",
        mobile="13800138000",
        street_code="310101002000",
        path="310000000000/310101000000/310101002000/310101002001/",
    )


@pytest.fixture
def worker():
    return User.objects.create_user(username="worker", password="a-long-password-123")


def test_personal_fields_are_masked_by_default(person):
    assert masked_dict(person) == {
        "name": "张**",
        "id_number": "110***********002X",
        "mobile": "138****8000",
        "registered_address": "",
    }
    assert masked_value(person, "status") == "living_here"  # not personal: shown as is


def test_reveal_returns_clear_values_and_writes_one_access_record(person, worker):
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    values = reveal(
        actor=worker, subject=person, fields=["mobile", "id_number"], purpose="高龄老人回访", request=request
    )
    assert values == {"mobile": "13800138000", "id_number": "11010519491231002X"}
    row = AccessLog.objects.get()
    assert row.actor == worker
    assert row.subject_type == "registry.person"
    assert row.subject_id == str(person.pk)
    assert row.fields == ["mobile", "id_number"]
    assert row.purpose == "高龄老人回访"
    assert row.ip_address == "10.1.2.3"
    assert list(access_log_for_data_subject(str(person.pk))) == [row]


@pytest.mark.parametrize("purpose", ["", " ", "x"])
def test_reveal_without_a_purpose_is_refused_and_logs_nothing(person, worker, purpose):
    with pytest.raises(ApiError) as error:
        reveal(actor=worker, subject=person, fields=["mobile"], purpose=purpose)
    assert error.value.field == "purpose"
    assert not AccessLog.objects.exists()


def test_reveal_of_an_undeclared_field_is_refused(person, worker):
    with pytest.raises(ApiError) as error:
        reveal(actor=worker, subject=person, fields=["status"], purpose="核对信息")
    assert error.value.field == "fields"
    assert not AccessLog.objects.exists()
