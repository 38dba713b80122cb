"""The questions a service definition asks (GeoReport v2 ``attributes``), answered on ``POST requests``
as ``attribute[CODE]=value``.

Every service asks where exactly (``LOCDESC``); services whose cases are checked on site also ask how
serious the matter is (``SEVERITY``), which helps the dispatcher order the queue. Answers are kept in
the case's description as labelled lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.cases.models import Category


@dataclass(frozen=True)
class Attribute:
    code: str
    # GeoReport v2 datatypes: string, number, datetime, text, singlevaluelist, multivaluelist.
    datatype: str
    required: bool
    order: int
    label: Promise  # the short label kept in the description
    description: Promise  # the question shown to the person reporting
    datatype_description: Promise | str = ""
    values: tuple[tuple[str, Promise], ...] = field(default=())
    max_length: int = 200
    variable: bool = True

    def value_keys(self) -> set[str]:
        return {key for key, _name in self.values}

    def value_name(self, key: str) -> str:
        return next((str(name) for value_key, name in self.values if value_key == key), key)


LOCDESC = Attribute(
    code="LOCDESC",
    datatype="text",
    required=False,
    order=1,
    label=_("位置补充说明"),
    description=_("位置补充说明（楼号、门牌、参照物）"),
    datatype_description=_("不超过 200 个字符"),
)

SEVERITY = Attribute(
    code="SEVERITY",
    datatype="singlevaluelist",
    required=False,
    order=2,
    label=_("严重程度"),
    description=_("问题的严重程度"),
    values=(("minor", _("轻微")), ("moderate", _("较重")), ("severe", _("严重"))),
)


def attributes_for(category: Category) -> list[Attribute]:
    """The attributes of ``category``'s service definition, in order."""
    found = [LOCDESC]
    if category.check_required:
        found.append(SEVERITY)
    return found
