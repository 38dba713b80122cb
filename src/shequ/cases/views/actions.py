"""The buttons of a case: one per transition of ``machine.TRANSITIONS``, each with its form and the
service it calls. Every button posts to ``/cases/<number>/do/<name>/`` (``views.case.case_do``), with
the version of the case the user saw; the service refuses a stale version (409).

``action_views`` builds the buttons a user may press on a case now (``permissions.can_transition``),
limited to the names a page offers (the board, the handler's queue, the checker's tasks), with the
case's unit choices when a form needs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from shequ.cases import forms as f
from shequ.cases import selectors
from shequ.cases import services_transitions as st
from shequ.cases.models import Case
from shequ.cases.permissions import can_transition
from shequ.cases.selectors_pages import unit_from_value
from shequ.core.errors import ApiError

Run = Callable[[Case, Any, Any, int | None], Case]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: str | Promise
    form: type[f.ActionForm]
    run: Run
    done: str | Promise  # the message after it went through
    needs_units: bool = False
    primary: bool = False  # the usual next step: shown first and stands out


def _unit(form: f.ActionForm) -> dict[str, Any]:
    org, division = unit_from_value(form.cleaned_data.get("unit", ""))
    return {"org": org, "division": division}


def _merge(case: Case, actor: Any, form: Any, version: int | None) -> Case:
    number = form.cleaned_data["master"].strip().upper()
    try:
        master = selectors.access_case_by_number(actor, number)
    except Http404:
        raise ApiError(
            _("找不到编号为 %(n)s 的案件。") % {"n": number}, code="not_found", field="master", status=422
        ) from None
    return st.case_merge(case=case, master=master, actor=actor, expected_version=version)


def _dispatch(case: Case, actor: Any, form: Any, version: int | None) -> Case:
    unit = _unit(form) if form.cleaned_data.get("unit") else {}
    return st.case_dispatch(
        case=case, actor=actor, note=form.cleaned_data["note"], expected_version=version, **unit
    )


def _confirm(case: Case, actor: Any, form: Any, version: int | None) -> Case:
    data = form.cleaned_data
    return st.case_confirm(
        case=case,
        actor=actor,
        solved=data["solved"],
        feedback=data["feedback"],
        comment=data["comment"],
        expected_version=version,
    )


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in [
        ActionSpec(
            "verify",
            _("现场核实"),
            f.NoteForm,
            lambda c, a, fm, v: st.case_verify(
                case=c, actor=a, note=fm.cleaned_data["note"], expected_version=v
            ),
            _("已转入现场核实。"),
        ),
        ActionSpec(
            "register",
            _("立案"),
            f.ActionForm,
            lambda c, a, fm, v: st.case_register(case=c, actor=a, expected_version=v),
            _("已立案。"),
            primary=True,
        ),
        ActionSpec(
            "reject",
            _("不予受理"),
            f.RejectForm,
            lambda c, a, fm, v: st.case_reject(
                case=c,
                actor=a,
                reason=fm.cleaned_data["reason"],
                route=fm.route_text(),
                outcome=fm.cleaned_data["outcome"],
                expected_version=v,
            ),
            _("已不予受理，并告知反映人。"),
        ),
        ActionSpec("merge", _("并单"), f.MergeForm, _merge, _("已并入主案件。")),
        ActionSpec(
            "dispatch", _("派遣"), f.DispatchForm, _dispatch, _("已派遣。"), needs_units=True, primary=True
        ),
        ActionSpec(
            "self_handle",
            _("居委自办"),
            f.ActionForm,
            lambda c, a, fm, v: st.case_self_handle(case=c, actor=a, expected_version=v),
            _("已由居村委自行处置。"),
            primary=True,
        ),
        ActionSpec(
            "accept",
            _("签收"),
            f.ActionForm,
            lambda c, a, fm, v: st.case_accept(case=c, actor=a, expected_version=v),
            _("已签收。"),
            primary=True,
        ),
        ActionSpec(
            "return_request",
            _("申请退单"),
            f.ReturnRequestForm,
            lambda c, a, fm, v: st.case_return_request(
                case=c, actor=a, grounds=fm.cleaned_data["grounds"], expected_version=v
            ),
            _("退单申请已提交，等待调度中心决定。"),
        ),
        ActionSpec(
            "redispatch",
            _("同意退单并改派"),
            f.UnitForm,
            lambda c, a, fm, v: st.case_redispatch(
                case=c, actor=a, note=fm.cleaned_data["note"], expected_version=v, **_unit(fm)
            ),
            _("已改派。"),
            needs_units=True,
            primary=True,
        ),
        ActionSpec(
            "return_refuse",
            _("不同意退单"),
            f.OptionalReasonForm,
            lambda c, a, fm, v: st.case_return_refuse(
                case=c, actor=a, reason=fm.cleaned_data["reason"], expected_version=v
            ),
            _("已驳回退单，原单位首办负责。"),
        ),
        ActionSpec(
            "extension_request",
            _("申请延期"),
            f.ExtensionRequestForm,
            lambda c, a, fm, v: st.case_extension_request(
                case=c,
                actor=a,
                amount=fm.cleaned_data["amount"],
                reason=fm.cleaned_data["reason"],
                expected_version=v,
            ),
            _("延期申请已提交。"),
        ),
        ActionSpec(
            "extension_grant",
            _("同意延期"),
            f.ActionForm,
            lambda c, a, fm, v: st.case_extension_grant(case=c, actor=a, expected_version=v),
            _("已同意延期。"),
            primary=True,
        ),
        ActionSpec(
            "extension_refuse",
            _("不同意延期"),
            f.OptionalReasonForm,
            lambda c, a, fm, v: st.case_extension_refuse(
                case=c, actor=a, reason=fm.cleaned_data["reason"], expected_version=v
            ),
            _("已不同意延期。"),
        ),
        ActionSpec(
            "suspend",
            _("挂账"),
            f.SuspendForm,
            lambda c, a, fm, v: st.case_suspend(
                case=c,
                actor=a,
                reason=fm.cleaned_data["reason"],
                review_on=fm.cleaned_data["review_on"],
                expected_version=v,
            ),
            _("已挂账，处置时限暂停计时。"),
        ),
        ActionSpec(
            "resume",
            _("恢复办理"),
            f.ActionForm,
            lambda c, a, fm, v: st.case_resume(case=c, actor=a, expected_version=v),
            _("已恢复办理。"),
            primary=True,
        ),
        ActionSpec(
            "handle",
            _("提交处置结果"),
            f.HandleForm,
            lambda c, a, fm, v: st.case_handle(
                case=c,
                actor=a,
                result=fm.cleaned_data["result"],
                outcome=fm.cleaned_data["outcome"],
                evidence=fm.cleaned_data["evidence"],
                expected_version=v,
            ),
            _("处置结果已提交。"),
            primary=True,
        ),
        ActionSpec(
            "check_start",
            _("开始核查"),
            f.ActionForm,
            lambda c, a, fm, v: st.case_check_start(case=c, actor=a, expected_version=v),
            _("已开始核查。"),
            primary=True,
        ),
        ActionSpec(
            "check_pass",
            _("核查通过"),
            f.NoteForm,
            lambda c, a, fm, v: st.case_check_pass(
                case=c, actor=a, note=fm.cleaned_data["note"], expected_version=v
            ),
            _("核查通过。"),
            primary=True,
        ),
        ActionSpec(
            "check_fail",
            _("核查不通过（返工）"),
            f.CheckFailForm,
            lambda c, a, fm, v: st.case_check_fail(
                case=c,
                actor=a,
                reason=fm.cleaned_data["reason"],
                evidence=fm.cleaned_data["evidence"],
                expected_version=v,
            ),
            _("已退回返工。"),
        ),
        ActionSpec("confirm", _("回访评价"), f.ConfirmForm, _confirm, _("评价已记录。"), primary=True),
        ActionSpec(
            "redo",
            _("重办"),
            f.ReasonForm,
            lambda c, a, fm, v: st.case_redo(
                case=c, actor=a, reason=fm.cleaned_data["reason"], expected_version=v
            ),
            _("已退回重办。"),
        ),
        ActionSpec(
            "close",
            _("结案"),
            f.NoteForm,
            lambda c, a, fm, v: st.case_close(
                case=c, actor=a, note=fm.cleaned_data["note"], expected_version=v
            ),
            _("已结案。"),
        ),
        ActionSpec(
            "reopen",
            _("重新办理"),
            f.ReasonForm,
            lambda c, a, fm, v: st.case_reopen(
                case=c, actor=a, reason=fm.cleaned_data["reason"], expected_version=v
            ),
            _("已重新办理。"),
        ),
        ActionSpec(
            "supervise",
            _("督办"),
            f.SuperviseForm,
            lambda c, a, fm, v: st.case_supervise(
                case=c,
                actor=a,
                level=fm.cleaned_data["level"],
                reason=fm.cleaned_data["reason"],
                expected_version=v,
            ),
            _("已督办。"),
        ),
        ActionSpec(
            "reroute",
            _("改派"),
            f.UnitForm,
            lambda c, a, fm, v: st.case_reroute(
                case=c, actor=a, note=fm.cleaned_data["note"], expected_version=v, **_unit(fm)
            ),
            _("已改派。"),
            needs_units=True,
        ),
        ActionSpec(
            "link_petition",
            _("关联信访件"),
            f.PetitionLinkForm,
            lambda c, a, fm, v: st.case_petition_link(
                case=c, actor=a, petition_ref=fm.cleaned_data["petition_ref"], expected_version=v
            ),
            _("已关联信访件。"),
        ),
    ]
}

# What each work page offers (the case page offers every transition the user may make).
BOARD_ACTIONS = (
    "register",
    "dispatch",
    "redispatch",
    "return_refuse",
    "extension_grant",
    "extension_refuse",
    "resume",
    "close",
    "redo",
    "verify",
    "reject",
    "merge",
    "suspend",
    "reroute",
    "supervise",
    "link_petition",
)
QUEUE_ACTIONS = ("accept", "handle", "resume", "return_request", "extension_request")
CHECK_ACTIONS = ("check_start", "check_pass", "check_fail")


@dataclass
class ActionView:
    """One button (and its form) of one case on a page."""

    spec: ActionSpec
    case: Case
    form: f.ActionForm
    url: str
    open: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str | Promise:
        return self.spec.label

    @property
    def has_fields(self) -> bool:
        return bool(self.form.fields)

    @property
    def multipart(self) -> bool:
        return self.form.is_multipart()


def action_form(
    spec: ActionSpec,
    case: Case,
    *,
    units: Sequence[tuple[str, str]] = (),
    data: Any = None,
    files: Any = None,
) -> f.ActionForm:
    """The form of ``spec`` for ``case``: field names prefixed by the action, ids by the case (a page
    holds the forms of many cases)."""
    return spec.form(data, files, prefix=spec.name, auto_id=f"id_{case.pk}_%s", units=units)


def action_views(
    user: Any,
    case: Case,
    *,
    names: Iterable[str] | None = None,
    units: Sequence[tuple[str, str]] = (),
    failed: tuple[str, f.ActionForm] | None = None,
) -> list[ActionView]:
    """The buttons ``user`` may press on ``case`` now, among ``names`` (all transitions when None),
    the usual next steps first. ``failed`` is a submitted form to show again with its errors."""
    offered = list(ACTIONS) if names is None else list(names)
    views = []
    for name in offered:
        spec = ACTIONS[name]
        if not can_transition(user, case, name):
            continue
        if failed is not None and failed[0] == name:
            form, is_open = failed[1], True
        else:
            form, is_open = action_form(spec, case, units=units if spec.needs_units else ()), False
        url = reverse("cases:do", kwargs={"number": case.number, "name": name})
        views.append(ActionView(spec=spec, case=case, form=form, url=url, open=is_open))
    views.sort(key=lambda view: not view.spec.primary)
    return views
