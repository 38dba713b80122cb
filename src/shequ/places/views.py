"""The place browser: the jurisdiction tree as the signed-in user may see it.

Every record is fetched through ``shequ.places.selectors``, which go through the visibility module:
a division or compound outside the user's scope is a 404, exactly like a missing one. htmx requests
for a child list get only the ``_children.html`` fragment.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from shequ.accounts.visibility import scope_of

from . import selectors
from .models import DivisionLevel

PAGE_SIZE = 50
SEARCH_MAX_LENGTH = 50


def _wants_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def _search(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]


def _page(request: HttpRequest, queryset: QuerySet[Any]) -> Page[Any]:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _render_list(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Full page, or only the child list when htmx asks for it."""
    if _wants_fragment(request):
        template = "places/_children.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_GET
def division_browse(request: HttpRequest) -> HttpResponse:
    """The top of the user's visible tree. With a single top node (the usual case: the city, reached
    through the ancestors of the user's own node) the browser opens that node."""
    search = _search(request)
    roots = list(selectors.division_roots(user=request.user)[:PAGE_SIZE])
    if len(roots) == 1 and not scope_of(request.user).organisation_ids:
        return redirect("places:division", code=roots[0].code)
    context = {
        "division": None,
        "roots": roots,
        "page": _page(request, selectors.compound_list(user=request.user, search=search)),
        "lists_compounds": True,
        "search": search,
    }
    return _render_list(request, "places/index.html", context)


@login_required
@require_GET
def division_detail(request: HttpRequest, code: str) -> HttpResponse:
    division = selectors.access_division_by_code(user=request.user, code=code)
    search = _search(request)
    is_committee = division.level == DivisionLevel.COMMITTEE
    if is_committee:
        page = _page(request, selectors.compound_list(user=request.user, committee=division, search=search))
    else:
        page = _page(
            request, selectors.division_children(user=request.user, division=division, search=search)
        )
    context: dict[str, Any] = {
        "division": division,
        "page": page,
        "lists_compounds": is_committee,
        "search": search,
    }
    if not _wants_fragment(request):
        context["ancestors"] = selectors.division_ancestors(user=request.user, division=division)
        context["has_map"] = selectors.division_has_boundaries(user=request.user, division=division)
    return _render_list(request, "places/division.html", context)


@login_required
@require_GET
def compound_detail(request: HttpRequest, code: str) -> HttpResponse:
    compound = selectors.access_compound_by_code(user=request.user, code=code)
    context = {
        "compound": compound,
        "ancestors": selectors.compound_trail(user=request.user, compound=compound),
        "buildings": selectors.building_list(user=request.user, compound=compound),
    }
    return render(request, "places/compound.html", context)
