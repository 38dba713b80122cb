"""The resident's pages: the report form (category search, emergency stop, map pin or place, photos,
possible duplicates to follow instead), the tracking number, "my cases" with their timelines, and the
"solved? satisfied?" page opened from the link in a message without signing in."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shequ.cases import selectors, selectors_pages
from shequ.cases.duplicates import DuplicateCandidate
from shequ.cases.forms import FeedbackForm, ReportForm
from shequ.cases.models import Case, CaseState, Category, Channel
from shequ.cases.selectors_catalogue import access_category_by_code, category_search
from shequ.cases.services_intake import case_follow, case_report
from shequ.cases.services_transitions import case_confirm
from shequ.core.errors import ApiError
from shequ.core.idempotency import idempotent
from shequ.places.models import Compound, Division

from .common import PAGE_SIZE, add_api_error, is_staff
from .timeline import timeline_entries

CATEGORY_RESULTS = 12
REPORT_FIELDS = {"location": "place", "lon": "place", "lat": "place", "channel": None}


def _category_of(code: str, user: Any) -> Category | None:
    if not code:
        return None
    try:
        return access_category_by_code(code=code, user=user)
    except Http404:
        return None


def _places_for(request: HttpRequest, chosen: str) -> list[selectors_pages.PlaceChoice]:
    places = selectors_pages.home_places(request.user)
    if chosen and chosen not in {p.value for p in places}:
        node = selectors_pages.place_from_value(chosen)
        if node is not None:
            places.insert(0, selectors_pages.place_choice(node))
    return places


def _report_context(
    request: HttpRequest,
    form: ReportForm,
    *,
    duplicates: list[DuplicateCandidate] | None = None,
    emergency: Category | None = None,
) -> dict[str, Any]:
    data = form.data if form.is_bound else form.initial
    category_q = request.GET.get("category_q", "") or data.get("category_q", "")
    chosen_code = str(data.get("category", "") or "")
    chosen = _category_of(chosen_code, request.user)
    results = list(category_search(q=category_q)[:CATEGORY_RESULTS]) if category_q else []
    if chosen is not None and chosen not in results:
        results.insert(0, chosen)
    place_q = request.GET.get("place_q", "") or data.get("place_q", "")
    chosen_place = str(data.get("place", "") or "")
    places = selectors_pages.place_search(place_q) if place_q else _places_for(request, chosen_place)
    root = selectors_pages.map_root()
    return {
        "form": form,
        "category_q": category_q,
        "categories": results,
        "chosen_category": chosen_code,
        "place_q": place_q,
        "places": places,
        "chosen_place": chosen_place,
        "duplicates": duplicates or [],
        "emergency": emergency,
        "map_code": root.code if root is not None else "",
    }


def _draft(form: ReportForm, category: Category) -> list[DuplicateCandidate]:
    data = form.cleaned_data
    return selectors_pages.draft_duplicates(
        category=category,
        text=data.get("description", ""),
        place=selectors_pages.place_from_value(data.get("place", "")),
        lon=data.get("lon"),
        lat=data.get("lat"),
    )


REPORT_PAGE = "cases/pages/report.html"


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@idempotent
def report(request: HttpRequest) -> HttpResponseBase:
    """The resident's report form (``case_report`` with channel ``resident_web``)."""
    if request.method == "POST":
        return _report_post(request, ReportForm(request.POST, request.FILES))
    initial = {key: value for key, value in request.GET.items() if key in ReportForm.base_fields}
    initial.setdefault("contact_phone", getattr(request.user, "mobile", ""))
    initial.setdefault("contact_name", getattr(request.user, "display_name", ""))
    return render(request, REPORT_PAGE, _report_context(request, ReportForm(initial=initial)))


def _report_post(request: HttpRequest, form: ReportForm) -> HttpResponseBase:
    """Emergency → the number; errors → the form again; a chosen duplicate → follow it; possible
    duplicates not yet seen → show them; else take the report in."""
    category, place = _report_choices(request, form)
    if category is not None and category.is_emergency:
        return render(request, "cases/pages/emergency.html", {"category": category})
    if category is None or not form.is_valid():
        return render(request, REPORT_PAGE, _report_context(request, form))
    follow = request.POST.get("follow", "")
    if follow or not request.POST.get("report_anyway"):
        candidates = _draft(form, category)
        if follow:
            return _follow(request, form, candidates, follow)
        if candidates:
            messages.info(request, _("附近已有相似的反映。您可以关注已有案件，或仍然提交新的反映。"))
            return render(request, REPORT_PAGE, _report_context(request, form, duplicates=candidates))
    return _submit(request, form, category, place)


def _report_choices(
    request: HttpRequest, form: ReportForm
) -> tuple[Category | None, Compound | Division | None]:
    """The category and the place the form names (errors added to the form when they are unknown)."""
    if not form.is_valid():
        return None, None
    data = form.cleaned_data
    category = _category_of(data["category"], request.user)
    if category is None:
        form.add_error("category", _("请从搜索结果中选择问题类别。"))
        return None, None
    place = selectors_pages.place_from_value(data["place"]) if data.get("place") else None
    if data.get("place") and place is None:
        form.add_error("place", _("请从列表中选择小区或居村委。"))
    return category, place


def _submit(
    request: HttpRequest, form: ReportForm, category: Category, place: Compound | Division | None
) -> HttpResponseBase:
    data = form.cleaned_data
    try:
        case = case_report(
            actor=request.user,
            channel=Channel.RESIDENT_WEB,
            category=category,
            description=data["description"],
            lon=data.get("lon"),
            lat=data.get("lat"),
            place=place,
            address=data.get("address", ""),
            contact_name=data.get("contact_name", ""),
            contact_phone=data.get("contact_phone", ""),
            contact_email=data.get("contact_email", ""),
            anonymous_public=data.get("anonymous_public", False),
            photos=data.get("photos", []),
        )
    except ApiError as exc:
        if exc.code == "emergency":
            return render(request, "cases/pages/emergency.html", {"category": category})
        add_api_error(form, exc, field_map={"location": "place", "lon": "place", "lat": "place"})
        return render(request, REPORT_PAGE, _report_context(request, form), status=exc.http_status)
    return redirect("cases:report_done", number=case.number)


def _follow(
    request: HttpRequest, form: ReportForm, candidates: list[DuplicateCandidate], number: str
) -> HttpResponseBase:
    """Follow one of the suggested cases instead of reporting (only a case the suggestion offered)."""
    chosen = next((c.case for c in candidates if c.case.number == number), None)
    if chosen is None:
        messages.error(request, _("该案件已不在相似案件中，请重新选择。"))
        return render(request, REPORT_PAGE, _report_context(request, form, duplicates=candidates))
    try:
        case_follow(case=chosen, actor=request.user, phone=form.cleaned_data.get("contact_phone", ""))
    except ApiError as exc:
        add_api_error(form, exc)
        return render(
            request,
            REPORT_PAGE,
            _report_context(request, form, duplicates=candidates),
            status=exc.http_status,
        )
    messages.success(
        request, _("您已关注案件 %(n)s，办理进展会通知您，无需重复反映。") % {"n": chosen.number}
    )
    return redirect("cases:mine")


@login_required
@require_GET
def report_categories(request: HttpRequest) -> HttpResponse:
    """htmx: the category search results (radio buttons; emergency categories first)."""
    q = request.GET.get("category_q", "")
    chosen_code = request.GET.get("category", "")
    results = list(category_search(q=q)[:CATEGORY_RESULTS]) if q.strip() else []
    chosen = _category_of(chosen_code, request.user)
    if chosen is not None and chosen not in results:
        results.insert(0, chosen)  # a new search keeps the category already chosen
    return render(
        request,
        "cases/pages/_category_results.html",
        {"categories": results, "category_q": q, "chosen_category": chosen_code},
    )


@login_required
@require_GET
def report_places(request: HttpRequest) -> HttpResponse:
    """htmx: compounds and committees by name (or the user's own area when the search is empty)."""
    q = request.GET.get("place_q", "")
    chosen = request.GET.get("place", "")
    places = selectors_pages.place_search(q) if q.strip() else selectors_pages.home_places(request.user)
    node = selectors_pages.place_from_value(chosen) if chosen else None
    if node is not None and chosen not in {p.value for p in places}:
        places.insert(0, selectors_pages.place_choice(node))  # a new search keeps the place already chosen
    return render(
        request,
        "cases/pages/_place_results.html",
        {"places": places, "place_q": q, "chosen_place": chosen},
    )


@login_required
@require_POST
def report_check(request: HttpRequest) -> HttpResponse:
    """htmx, while the resident writes: stop on an emergency category, or show possible duplicates."""
    category = _category_of(request.POST.get("category", ""), request.user)
    context: dict[str, Any] = {"duplicates": [], "emergency": None}
    if category is not None and category.is_emergency:
        context["emergency"] = category
    elif category is not None:
        lon, lat = _float(request.POST.get("lon")), _float(request.POST.get("lat"))
        context["duplicates"] = selectors_pages.draft_duplicates(
            category=category,
            text=request.POST.get("description", ""),
            place=selectors_pages.place_from_value(request.POST.get("place", "")),
            lon=lon if lat is not None else None,
            lat=lat if lon is not None else None,
        )
    return render(request, "cases/pages/_report_check.html", context)


def _float(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


@login_required
@require_GET
def report_done(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.access_case_by_number(request.user, number)
    return render(request, "cases/pages/report_done.html", {"case": case})


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The cases the user reported or follows, newest first, each with its timeline."""
    page = Paginator(selectors.my_cases(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    cases = list(page.object_list)
    timelines = selectors_pages.case_timelines(cases)
    staff = is_staff(request.user)
    rows = [
        (case, timeline_entries(timelines[case.pk], staff=staff, viewer_id=request.user.pk)) for case in cases
    ]
    return render(request, "cases/pages/mine.html", {"page": page, "rows": rows})


# --- The feedback link -----------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest, token: str) -> HttpResponseBase:
    """回访 from the link in a message: no sign-in; the token is the subscription's."""
    case: Case = selectors_pages.access_subscription_by_token(token).case
    answerable = case.state == CaseState.CONFIRMING and case.resident_solved is None
    form = FeedbackForm(request.POST or None)
    status = 200
    if request.method == "POST" and answerable and form.is_valid():
        try:
            case = case_confirm(
                case=case,
                actor=request.user if request.user.is_authenticated else None,
                solved=form.cleaned_data["solved"],
                feedback=form.cleaned_data["feedback"],
                comment=form.cleaned_data["comment"],
                token=token,
            )
        except ApiError as exc:
            add_api_error(form, exc)
            status = exc.http_status
        else:
            return redirect(reverse("cases:feedback", kwargs={"token": token}) + "?done=1")
    context = {
        "case": case,
        "form": form,
        "answerable": answerable,
        "done": request.GET.get("done") == "1",
    }
    return render(request, "cases/pages/feedback.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("report/", report, name="report"),
    path("report/categories/", report_categories, name="report_categories"),
    path("report/places/", report_places, name="report_places"),
    path("report/check/", report_check, name="report_check"),
    path("report/done/<str:number>/", report_done, name="report_done"),
    path("mine/", mine, name="mine"),
    path("feedback/<str:token>/", feedback, name="feedback"),
]
