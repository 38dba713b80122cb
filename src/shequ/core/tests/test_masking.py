import pytest

from shequ.core.masking import mask, mask_id_number, mask_mobile, mask_name


def test_id_number_mask_keeps_first_three_and_last_four():
    assert mask_id_number("31010119900101123X") == "310***********123X"


def test_mobile_mask():
    assert mask_mobile("13800138000") == "138****8000"


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("张三丰", "张**"), ("欧阳修", "欧阳*"), ("王", "王*")]
)
def test_public_notices_show_surname_only(name, masked):
    assert mask_name(name) == masked


def test_mask_never_leaks_short_values():
    assert mask("id_number", "1234") == "****"
    assert mask("mobile", "138") == "***"
    assert mask("mobile", None) == ""
