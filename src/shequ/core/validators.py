"""Validators for personal identifiers (DOMAIN.md §4).

Resident ID numbers (GB 11643-1999): 18 characters, a valid birth date, and the ISO 7064 MOD 11-2 check
character. Checksum and birth date are errors; the leading place code is only a warning, because
Hong Kong/Macau/Taiwan residence permits (81/82/83…) and the 2023 foreign permanent-residence
identity cards (leading 9) are valid numbers outside the mainland division codes.

Mobile numbers: ``^1[3-9]\\d{9}$`` after removing spaces, hyphens and a +86 prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 11643-1999 §8.2: weights 2^(i-1) mod 11 for positions 18..2, check values for sum mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")

# Mainland province-level codes (GB/T 2260).
MAINLAND_PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    }
)  # fmt: skip
# Residence permits for Hong Kong (81), Macau (82) and Taiwan (83) residents.
RESIDENCE_PERMIT_CODES = frozenset({"81", "82", "83"})

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_MOBILE_NOISE = re.compile(r"[\s\-()]")


class IdKind:
    RESIDENT = "resident_id"
    RESIDENCE_PERMIT = "hk_macau_taiwan_residence_permit"
    FOREIGN_PERMANENT = "foreign_permanent_residence"
    UNKNOWN_PLACE = "unknown_place"


@dataclass(frozen=True)
class IdCheck:
    number: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = IdKind.RESIDENT
    birth_date: date | None = None
    sex: str = ""  # "M" / "F" from the sequence code's parity

    @property
    def ok(self) -> bool:
        return not self.errors


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def normalise_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def check_id_number(value: str, *, today: date | None = None) -> IdCheck:
    """Check a resident ID number; returns errors (invalid) and warnings (accepted)."""
    number = normalise_id_number(value)
    errors: list[str] = []
    warnings: list[str] = []
    if not _ID_SHAPE.match(number):
        errors.append(str(_("身份证号码应为 18 位：前 17 位数字，最后一位为数字或 X。")))
        return IdCheck(number=number, errors=errors)
    birth: date | None = None
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        errors.append(str(_("身份证号码中的出生日期无效。")))
    else:
        if birth.year < 1880 or birth > (today or date.today()):  # noqa: DTZ011 - a calendar date
            errors.append(str(_("身份证号码中的出生日期不在合理范围内。")))
    if id_check_char(number[:17]) != number[17]:
        errors.append(str(_("身份证号码校验位不正确。")))
    prefix = number[:2]
    if number[0] == "9":
        kind = IdKind.FOREIGN_PERMANENT
    elif prefix in RESIDENCE_PERMIT_CODES:
        kind = IdKind.RESIDENCE_PERMIT
    elif prefix in MAINLAND_PROVINCE_CODES:
        kind = IdKind.RESIDENT
    else:
        kind = IdKind.UNKNOWN_PLACE
        warnings.append(str(_("身份证号码的地址码不是已知的行政区划代码。")))
    sex = "M" if int(number[16]) % 2 else "F"
    return IdCheck(number=number, errors=errors, warnings=warnings, kind=kind, birth_date=birth, sex=sex)


def validate_id_number(value: str) -> None:
    """Django field validator: raises ``ValidationError`` for errors; warnings do not block."""
    result = check_id_number(value)
    if result.errors:
        raise ValidationError(result.errors, code="invalid_id_number")


def normalise_mobile(value: str) -> str:
    number = _MOBILE_NOISE.sub("", (value or "").strip())
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif len(number) == 13 and number.startswith("86"):
        number = number[2:]
    return number


def validate_mobile(value: str) -> None:
    if not _MOBILE.match(normalise_mobile(value)):
        raise ValidationError(_("手机号码应为 11 位，以 13–19 开头。"), code="invalid_mobile")
