from datetime import date

import pytest
from django.core.exceptions import ValidationError

from shequ.core.validators import (
    IdKind,
    check_id_number,
    id_check_char,
    normalise_mobile,
    validate_id_number,
    validate_mobile,
)


def make_id(first17: str) -> str:
    return first17 + id_check_char(first17)


def test_known_good_number_from_the_standard_passes():
    # The worked example of GB 11643-1999 Appendix: 11010519491231002X.
    result = check_id_number("11010519491231002X")
    assert result.ok
    assert result.birth_date == date(1949, 12, 31)
    assert result.kind == IdKind.RESIDENT
    assert result.sex == "F"
    assert result.warnings == []


def test_lowercase_x_and_spaces_are_normalised():
    assert check_id_number(" 11010519491231002x ").ok


def test_wrong_check_character_is_an_error():
    result = check_id_number("110105194912310021")
    assert not result.ok
    assert any("校验位" in e for e in result.errors)


def test_impossible_birth_date_is_an_error_even_with_a_correct_checksum():
    number = make_id("31010119900230123")  # 30 February
    result = check_id_number(number)
    assert not result.ok
    assert any("出生日期" in e for e in result.errors)


def test_birth_date_in_the_future_is_an_error():
    number = make_id("31010120990101123")
    assert not check_id_number(number, today=date(2026, 11, 29)).ok


@pytest.mark.parametrize(
    "bad", ["", "3101011990010112", "31010119900101123Y", "A10101199001011234", "1" * 19]
)
def test_malformed_shapes_are_errors(bad):
    assert not check_id_number(bad).ok


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("810000", IdKind.RESIDENCE_PERMIT),
        ("820000", IdKind.RESIDENCE_PERMIT),
        ("830000", IdKind.RESIDENCE_PERMIT),
    ],
)
def test_hong_kong_macau_taiwan_residence_permits_pass_without_error(prefix, kind):
    result = check_id_number(make_id(prefix + "19850612001"))
    assert result.ok
    assert result.kind == kind


def test_foreign_permanent_residence_number_starting_with_9_passes():
    # 2023 format: 9 + province of issue (31) + nationality code (156 placeholder) + birth date + seq.
    result = check_id_number(make_id("931840" + "19800101" + "123"))
    assert result.ok
    assert result.kind == IdKind.FOREIGN_PERMANENT


def test_unknown_place_code_is_only_a_warning():
    result = check_id_number(make_id("000000" + "19900101123"))  # place code 00: no such province
    assert result.ok
    assert result.kind == IdKind.UNKNOWN_PLACE
    assert result.warnings


def test_field_validator_raises_for_errors_only():
    validate_id_number("11010519491231002X")
    validate_id_number(make_id("00000019900101123"))  # unknown place: warning, not error
    with pytest.raises(ValidationError):
        validate_id_number("110105194912310021")


@pytest.mark.parametrize(
    "good", ["13800138000", "19912345678", "+86 138 0013 8000", "86-13800138000", "0086 15000000000"]
)
def test_valid_mobiles(good):
    validate_mobile(good)


@pytest.mark.parametrize(
    "bad", ["", "12800138000", "1380013800", "138001380001", "23800138000", "1380013800a"]
)
def test_invalid_mobiles(bad):
    with pytest.raises(ValidationError):
        validate_mobile(bad)


def test_normalise_mobile_strips_country_code():
    assert normalise_mobile("+86 138-0013-8000") == "13800138000"
