"""GeoReport v2 documents and their two spellings, XML and JSON.

A document is built once as plain dicts and lists whose keys are the specification's element names,
then written either way: a list becomes ``<root><item>…</item>…</root>`` in XML and an array in JSON;
a dict becomes ``<root>…</root>`` and an object. Lists inside a document are named by ``ITEM_NAMES``
(``attributes`` → ``attribute``, ``values`` → ``value`` …). Times are ISO 8601 with the local offset
(``2025-06-02T09:00:00+08:00``); ``None`` is an empty element in XML and ``null`` in JSON.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from shequ.cases.models import FINAL_STATES, Case, CaseState, CaseUpdate, Category, ReportToken
from shequ.core.masking import mask_email, mask_id_number, mask_mobile
from shequ.core.models import Unit
from shequ.core.texts import labelled

from .attributes import attributes_for

CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this implementation of the specification last changed (discovery ``changeset``).
CHANGESET = "2026-11-29T00:00:00+08:00"
ITEM_NAMES = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9Xx])\d{17}[0-9Xx](?![0-9Xx])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


# --- writers ---------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value) or ""
    return _XML_INVALID.sub("", str(value))


def _xml_add(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, child in value.items():
            _xml_add(element, key, child)
    elif isinstance(value, list | tuple):
        item = ITEM_NAMES.get(name, "item")
        for child in value:
            _xml_add(element, item, child)
    else:
        element.text = _text(value)


def to_xml(document: Any, *, root: str, item: str | None = None) -> bytes:
    element = ET.Element(root)
    if isinstance(document, list):
        for entry in document:
            _xml_add(element, item or "item", entry)
    else:
        for key, value in document.items():
            _xml_add(element, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        element, encoding="utf-8", xml_declaration=False
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def to_json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, default=_json_default).encode()


def render(fmt: str, document: Any, *, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    body = to_xml(document, root=root, item=item) if fmt == "xml" else to_json(document)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, status: int, description: str) -> HttpResponse:
    """``<errors><error><code>400</code><description>…</description></error></errors>`` or
    ``[{"code": 400, "description": "…"}]``, with the same HTTP status."""
    document = [{"code": status, "description": description}]
    return render(
        fmt if fmt in CONTENT_TYPES else "xml", document, root="errors", item="error", status=status
    )


# --- values --------------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value is not None else None


def public_text(value: str) -> str:
    """Free text shown to anyone: mobile, identity numbers and e-mail addresses typed into it masked."""
    value = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), value or "")
    value = _MOBILE.sub(lambda m: mask_mobile(m.group(0)), value)
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), value)


def open_or_closed(state: str) -> str:
    """GeoReport v2 knows two statuses: merged and rejected cases count as closed."""
    return "closed" if state in FINAL_STATES else "open"


def service_notice(category: Category) -> str:
    amount = format(category.deadline_amount.normalize(), "f")
    return _("处置时限：%(amount)s %(unit)s") % {"amount": amount, "unit": Unit(category.deadline_unit).label}


# --- documents -------------------------------------------------------------------------------------


def discovery_doc(*, url: str, contact: str, key_service: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service_doc(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.registration_condition or category.name,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(category.keywords.split()),
        "group": category.major_name,
    }


def service_definition_doc(category: Category) -> dict[str, Any]:
    attributes = []
    for attribute in attributes_for(category):
        entry: dict[str, Any] = {
            "variable": attribute.variable,
            "code": attribute.code,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "datatype_description": str(attribute.datatype_description) or None,
            "order": attribute.order,
            "description": str(attribute.description),
        }
        if attribute.values:
            entry["values"] = [{"key": key, "name": str(name)} for key, name in attribute.values]
        attributes.append(entry)
    return {"service_code": category.code, "attributes": attributes}


def created_doc(*, case: Case, token: ReportToken, account_id: str) -> dict[str, Any]:
    return {
        "service_request_id": case.number,
        "token": token.token,
        "service_notice": service_notice(case.category),
        "account_id": account_id or None,
    }


def token_doc(token: ReportToken) -> dict[str, Any]:
    return {"service_request_id": token.case.number if token.case is not None else None, "token": token.token}


def _status_notes(case: Case) -> str:
    label = str(CaseState(case.state).label)
    note = public_text(getattr(case, "last_note", "") or "").strip()
    return labelled(label, note) if note and note != label else label


def _agency(case: Case) -> str:
    # A null foreign key reads as None without a query; set ones come with the list's joins.
    if case.handler_org is not None:
        return case.handler_org.name
    if case.handler_division is not None:
        return case.handler_division.name
    return ""


def _extended(case: Case) -> dict[str, Any]:
    committee, master = case.committee, case.master
    return {
        "state": case.state,
        "state_name": str(CaseState(case.state).label),
        "outcome": case.outcome,
        "feedback": case.feedback,
        "category_kind": case.category.kind,
        "urgency": case.urgency,
        "district": case.district.code,
        "district_name": case.district.name,
        "street": case.street.code,
        "street_name": case.street.name,
        "committee": committee.code if committee is not None else None,
        "committee_name": committee.name if committee is not None else None,
        "channel": case.channel,
        "supervision_level": case.supervision_level,
        "rework_count": case.rework_count,
        "redo_count": case.redo_count,
        "extension_count": case.extension_count,
        "return_count": case.return_count,
        "reopen_count": case.reopen_count,
        "master_request_id": master.number if master is not None else None,
        "registered_datetime": case.registered_at,
        "handled_datetime": case.handled_at,
        "closed_datetime": case.closed_at,
    }


def request_doc(case: Case, *, extensions: bool, file_url: Callable[[str], str]) -> dict[str, Any]:
    """One ``request`` of ``GET requests`` (a case from ``selectors.requests_find``). No personal data:
    no contact fields, masked numbers in free text."""
    media = getattr(case, "first_media_url", "") or ""
    media_file = getattr(case, "first_media_file", "") or ""
    if not media and media_file:
        media = file_url(media_file)
    document: dict[str, Any] = {
        "service_request_id": case.number,
        "status": open_or_closed(case.state),
        "status_notes": _status_notes(case),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": public_text(case.description),
        "agency_responsible": _agency(case),
        "service_notice": service_notice(case.category),
        "requested_datetime": case.reported_at,
        "updated_datetime": case.updated_at,
        "expected_datetime": case.due_at,
        "address": public_text(case.address),
        "address_id": case.compound.code if case.compound is not None else None,
        "zipcode": None,
        "lat": case.lat,
        "long": case.lon,
        "media_url": media or None,
    }
    if extensions:
        document["extended_attributes"] = _extended(case)
    return document


def update_doc(update: CaseUpdate) -> dict[str, Any]:
    return {
        "update_id": update.pk,
        "service_request_id": update.case.number,
        "status": update.status,
        "updated_datetime": update.updated_at,
        "description": public_text(update.description),
        "media_url": update.media_url or None,
        "external_status_code": update.state,
    }
