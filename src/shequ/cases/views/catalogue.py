"""Pages of the dispatch catalogue (派单目录): the catalogue itself with its search, one category, and
the category picker of the report form (an htmx fragment the form loads as the resident types).

The catalogue is public information (like Open311's service list): anyone may read it. Internal
categories (``is_public=False``) are shown to staff only. Emergency categories are listed with their
number; in the picker they cannot be chosen — the picker tells the resident to call instead.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from shequ.cases import selectors_catalogue
from shequ.cases.models import CategoryKind

PICKER_SIZE = 12
MAX_QUERY = 50


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def _filters(request: HttpRequest) -> dict[str, str]:
    kind = request.GET.get("kind", "")
    return {
        "q": request.GET.get("q", "").strip()[:MAX_QUERY],
        "kind": kind if kind in CategoryKind.values else "",
        "major": request.GET.get("major", "").strip()[:2],
    }


@require_GET
def catalogue_list(request: HttpRequest) -> HttpResponse:
    """The whole catalogue (or the matches of ``q``, ``kind``, ``major``) with every condition and
    time limit; htmx requests get the results table only."""
    filters = _filters(request)
    internal = selectors_catalogue.may_use_internal_categories(request.user)
    categories = list(
        selectors_catalogue.category_search(
            q=filters["q"], kind=filters["kind"], major=filters["major"], include_internal=internal
        )
    )
    context: dict[str, Any] = {
        "categories": categories,
        "filters": filters,
        "kinds": CategoryKind.choices,
        "majors": selectors_catalogue.category_majors(include_internal=internal),
        "internal": internal,
    }
    if _wants_fragment(request):
        response = render(request, "cases/catalogue/_results.html", context)
    else:
        response = render(request, "cases/catalogue/list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def catalogue_picker(request: HttpRequest) -> HttpResponse:
    """The category choices of the report form for what the resident typed (``q``): radio buttons
    named ``category`` (or ``name``), emergency matches first as a stop notice with the number."""
    filters = _filters(request)
    field = request.GET.get("name", "category")
    if not field.isidentifier():
        field = "category"
    internal = selectors_catalogue.may_use_internal_categories(request.user)
    matches = list(
        selectors_catalogue.category_search(
            q=filters["q"], kind=filters["kind"], major=filters["major"], include_internal=internal
        )[:PICKER_SIZE]
    )
    context = {
        "emergencies": [c for c in matches if c.is_emergency],
        "choices": [c for c in matches if not c.is_emergency],
        "filters": filters,
        "field": field,
        "selected": request.GET.get("selected", ""),
    }
    response = render(request, "cases/catalogue/_picker.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def catalogue_detail(request: HttpRequest, code: str) -> HttpResponse:
    category = selectors_catalogue.access_category_by_code(code=code, user=request.user)
    return render(request, "cases/catalogue/detail.html", {"category": category})


urlpatterns: list[URLPattern] = [
    path("catalogue/", catalogue_list, name="catalogue"),
    path("catalogue/picker/", catalogue_picker, name="catalogue_picker"),
    path("catalogue/<str:code>/", catalogue_detail, name="catalogue_detail"),
]
