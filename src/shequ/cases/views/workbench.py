"""Staff pages of the case loop: the committee's quick registration, the street dispatch board, the
responsible unit's queue and the checker's tasks. Each list shows, per case, the buttons the user may
press now (``actions.action_views``), and is read in a fixed number of queries whatever its length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from shequ.accounts.models import Role
from shequ.cases import selectors, selectors_pages
from shequ.cases.forms import RegisterForm
from shequ.cases.machine import CASE_REPORTED
from shequ.cases.models import Case, CaseState, Channel
from shequ.cases.selectors_catalogue import categories_routable
from shequ.cases.services_intake import case_report
from shequ.core.errors import ApiError
from shequ.core.idempotency import idempotent
from shequ.core.texts import with_detail

from .actions import BOARD_ACTIONS, CHECK_ACTIONS, QUEUE_ACTIONS, ActionView, action_views
from .common import (
    BOARD_ROLES,
    CHECK_ROLES,
    PAGE_SIZE,
    QUEUE_ROLES,
    REGISTRARS,
    add_api_error,
    has_role,
    roles_of,
)

# --- Quick registration ----------------------------------------------------------------------


def _category_choices() -> list[tuple[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for category in categories_routable():
        key = f"{category.get_kind_display()} · {category.major_name}"
        groups.setdefault(key, []).append((category.code, with_detail(category.name, category.code)))
    return list(groups.items())


def _place_choices(user: Any) -> list[tuple[str, str]]:
    return [(p.value, with_detail(p.label, p.detail)) for p in selectors_pages.home_places(user)]


@login_required
@require_http_methods(["GET", "POST"])
@idempotent
def register(request: HttpRequest) -> HttpResponseBase:
    """登记诉求: a request made at the counter, at the door or on patrol becomes a tracked, registered
    case at once (channel ``counter``, or ``grid_patrol`` for grid workers)."""
    roles = roles_of(request.user)
    if not roles & REGISTRARS:
        raise PermissionDenied
    form = RegisterForm(
        request.POST or None,
        categories=_category_choices(),
        places=_place_choices(request.user),
        initial={"place": request.GET.get("place", "")},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        grid_only = Role.GRID_WORKER in roles and not roles & (REGISTRARS - {Role.GRID_WORKER})
        category = categories_routable().filter(code=data["category"]).first()
        place = selectors_pages.place_from_value(data["place"])
        try:
            if category is None or place is None:
                raise ApiError(
                    _("请重新选择。"), field="category" if category is None else "place", status=422
                )
            case = case_report(
                actor=request.user,
                channel=Channel.GRID_PATROL if grid_only else Channel.COUNTER,
                category=category,
                description=data["description"],
                place=place,
                address=data["address"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                register=True,
            )
        except ApiError as exc:
            add_api_error(form, exc, field_map={"location": "place"})
            status = exc.http_status
        else:
            messages.success(request, _("已登记，案件编号 %(n)s。") % {"n": case.number})
            return redirect(reverse("cases:register") + f"?done={case.number}&place={data['place']}")
    done = None
    if request.GET.get("done"):
        done = selectors.cases_visible(request.user).filter(number=request.GET["done"]).first()
    return render(request, "cases/pages/register.html", {"form": form, "done": done}, status=status)


# --- Lists of cases with their buttons -------------------------------------------------------


@dataclass
class Row:
    case: Case
    actions: list[ActionView]
    overdue: bool
    facts: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def _page(request: HttpRequest, queryset: QuerySet[Case]) -> Page[Case]:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _rows(
    user: Any,
    cases: Sequence[Case],
    names: Sequence[str],
    *,
    with_units: bool = False,
) -> list[Row]:
    now = timezone.now()
    units = selectors_pages.unit_choices(cases) if with_units else {}
    rows = []
    for case in cases:
        choices = [(u.value, u.label) for u in units.get(case.pk, [])]
        rows.append(
            Row(
                case=case,
                actions=action_views(user, case, names=names, units=choices),
                overdue=bool(case.due_at and case.due_at < now and case.is_open),
            )
        )
    return rows


# Requests waiting for the centre: what the unit or the resident asked, shown on the board.
_PENDING = {
    CaseState.RETURN_REQUESTED: ("CASE_RETURN_REQUESTED", "grounds", gettext_lazy("退单理由")),
    CaseState.EXTENSION_REQUESTED: ("CASE_EXTENSION_REQUESTED", "reason", gettext_lazy("延期理由")),
    CaseState.CONFIRMING: ("CASE_CONFIRMED", "comment", gettext_lazy("居民意见")),
}


def _board_facts(rows: list[Row]) -> None:
    """The intake's routing suggestion and possible duplicates, and pending requests (4 queries)."""
    cases = [row.case for row in rows]
    types = [CASE_REPORTED, *(event for event, _key, _label in _PENDING.values())]
    latest = selectors_pages.latest_event_data(cases, types)
    labels = selectors_pages.unit_labels(
        (latest[c.pk].get(CASE_REPORTED) or {}).get("suggested_handler") for c in cases
    )
    for row in rows:
        data = latest[row.case.pk]
        reported = data.get(CASE_REPORTED) or {}
        suggested = reported.get("suggested_handler")
        if suggested:
            row.facts.append((_("建议派往"), labels.get(suggested, suggested)))
        if reported.get("route_reason"):
            row.facts.append((_("派单依据"), reported["route_reason"]))
        row.duplicates = [n for n in reported.get("possible_duplicates") or [] if n != row.case.number]
        pending = _PENDING.get(CaseState(row.case.state))
        if pending is not None:
            event, key, label = pending
            value = (data.get(event) or {}).get(key)
            if row.case.state == CaseState.EXTENSION_REQUESTED and data.get(event):
                amount = data[event].get("amount", "")
                row.facts.append((_("申请延长"), f"{amount} {row.case.category.get_deadline_unit_display()}"))
            if row.case.state == CaseState.CONFIRMING and row.case.resident_solved is False:
                row.facts.append((_("居民回访"), _("反馈未解决，请复核：重办或结案")))
            if value:
                row.facts.append((str(label), str(value)))


@login_required
@require_GET
def dispatch_board(request: HttpRequest) -> HttpResponse:
    """调度台: the street's queue by deadline — register, verify, reject, merge, dispatch (the routing
    suggestion or a unit picked by hand), decide returns, extensions and "not solved" answers,
    suspend, supervise; filter by state and overdue."""
    if not has_role(request.user, BOARD_ROLES):
        raise PermissionDenied
    state = request.GET.get("state", "")
    overdue = request.GET.get("overdue") == "1"
    page = _page(request, selectors_pages.dispatch_board(request.user, state=state, overdue=overdue))
    rows = _rows(request.user, list(page.object_list), BOARD_ACTIONS, with_units=True)
    _board_facts(rows)
    context = {
        "page": page,
        "rows": rows,
        "state": state,
        "overdue": overdue,
        "states": [(s.value, s.label) for s in selectors_pages.BOARD_STATES],
        "next": request.get_full_path(),
        "page_query": urlencode(
            {k: v for k, v in (("state", state), ("overdue", "1" if overdue else "")) if v}
        ),
    }
    return render(request, "cases/pages/dispatch.html", context)


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """待办案件: the responsible unit's cases — sign, dispute with grounds, extend, handle with evidence."""
    if not has_role(request.user, QUEUE_ROLES):
        raise PermissionDenied
    page = _page(request, selectors.handler_queue(request.user))
    rows = _rows(request.user, list(page.object_list), QUEUE_ACTIONS)
    context = {"page": page, "rows": rows, "next": request.get_full_path()}
    return render(request, "cases/pages/queue.html", context)


@login_required
@require_GET
def checks(request: HttpRequest) -> HttpResponse:
    """核查任务: handled cases to check on site — pass, or fail with reason and photos (rework)."""
    if not has_role(request.user, CHECK_ROLES):
        raise PermissionDenied
    page = _page(request, selectors.checker_tasks(request.user))
    rows = _rows(request.user, list(page.object_list), CHECK_ACTIONS)
    context = {"page": page, "rows": rows, "next": request.get_full_path()}
    return render(request, "cases/pages/checks.html", context)


urlpatterns: list[URLPattern] = [
    path("register/", register, name="register"),
    path("dispatch/", dispatch_board, name="dispatch"),
    path("queue/", queue, name="queue"),
    path("checks/", checks, name="checks"),
]
