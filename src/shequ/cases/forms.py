"""Forms of the case pages. They parse and check the shape of what was typed; the rules (which
category, which place, who may act, in which state) are the services' (``services_intake``,
``services_transitions``), whose ``ApiError`` the views put next to the field it names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from shequ.core.models import SupervisionLevel
from shequ.core.texts import site_text

from .models import Feedback, Outcome
from .services_intake import MAX_DESCRIPTION, MAX_PHOTOS

# --- Photos -------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input (at most ``max_files``); cleans to a list of uploaded files."""

    def __init__(self, *, max_files: int = MAX_PHOTOS, **kwargs: Any) -> None:
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        items = data if isinstance(data, list | tuple) else ([data] if data else [])
        files = [single(item, initial) for item in items if item]
        if len(files) > self.max_files:
            raise forms.ValidationError(_("最多上传 %(n)s 张照片。") % {"n": self.max_files}, code="too_many")
        return files


# --- The resident's report and the committee's quick registration ------------------------------


class ReportForm(forms.Form):
    """The resident's report. ``category`` and ``place`` are chosen from the live searches on the page
    (a category code; ``compound:<id>`` or ``division:<id>``); a map pin fills ``lon``/``lat``."""

    category = forms.CharField(
        label=_("问题类别"), max_length=8, error_messages={"required": _("请选择问题类别。")}
    )
    place = forms.CharField(label=_("小区或居村委"), max_length=40, required=False)
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    address = forms.CharField(
        label=_("详细位置"),
        max_length=300,
        required=False,
        help_text=_("例如：3号楼东侧、南门口。"),
    )
    description = forms.CharField(
        label=_("问题描述"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("说清楚是什么问题、在哪里、持续多久。"),
        error_messages={"required": _("请描述问题。")},
    )
    photos = PhotosField(label=_("照片"), help_text=_("可选，最多 9 张。"))
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(label=_("电子邮箱"), max_length=254, required=False)
    anonymous_public = forms.BooleanField(
        label=_("对公众匿名"),
        required=False,
        help_text=_(
            "勾选后，公开的案件信息中不显示您的姓名和联系方式。承办人员仍然可以看到您的联系方式，以便核实情况和回访。"
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_pin = data.get("lon") is not None and data.get("lat") is not None
        if not has_pin and not data.get("place"):
            self.add_error("place", _("请在地图上选点，或选择小区/居村委。"))
        return data


class RegisterForm(forms.Form):
    """A committee worker's (or grid worker's) quick registration of a request made at the counter,
    at the door or on patrol: a tracking number in seconds."""

    category = forms.ChoiceField(label=_("问题类别"))
    place = forms.ChoiceField(label=_("小区或居村委"))
    description = forms.CharField(
        label=_("诉求内容"), max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 3})
    )
    address = forms.CharField(label=_("详细位置"), max_length=300, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        required=False,
        help_text=_("留下手机号，居民可收到进展和回访短信。"),
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    def __init__(
        self,
        *args: Any,
        categories: Sequence[tuple[str, Any]] = (),
        places: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        category_field = self.fields["category"]
        place_field = self.fields["place"]
        assert isinstance(category_field, forms.ChoiceField)  # noqa: S101 - declared above
        assert isinstance(place_field, forms.ChoiceField)  # noqa: S101 - declared above
        category_field.choices = [("", _("请选择")), *categories]
        place_field.choices = list(places)


class FeedbackForm(forms.Form):
    """回访: "Solved? Satisfied?" — from the link in the message, without signing in."""

    solved = forms.TypedChoiceField(
        label=_("问题解决了吗？"),
        choices=[("yes", _("已解决")), ("no", _("没有解决"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    feedback = forms.ChoiceField(
        label=_("您对办理结果满意吗？"),
        choices=[
            (Feedback.SATISFIED, Feedback.SATISFIED.label),
            (Feedback.BASICALLY, Feedback.BASICALLY.label),
            (Feedback.UNSATISFIED, Feedback.UNSATISFIED.label),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("还有什么想说的"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- Transitions ---------------------------------------------------------------------------------


class ActionForm(forms.Form):
    """Base of the forms behind the buttons of a case (one per transition). ``fields_by_error`` maps
    the field an ``ApiError`` names onto the form's own field."""

    fields_by_error: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, units: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units

    def error_field(self, name: str) -> str | None:
        name = self.fields_by_error.get(name, name)
        return name if name in self.fields else None


class NoteForm(ActionForm):
    note = forms.CharField(label=_("备注"), max_length=500, required=False)


class ReasonForm(ActionForm):
    """A transition that needs a reason (rework, redo, reopen)."""

    reason = forms.CharField(label=_("理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class OptionalReasonForm(ActionForm):
    reason = forms.CharField(label=_("说明"), max_length=500, required=False)


LEGAL_ROUTES = [
    ("", _("无需告知")),
    ("litigation", _("向人民法院提起诉讼")),
    ("arbitration", _("申请仲裁")),
    ("review", _("申请行政复议")),
    ("petition", _("通过信访渠道反映")),
    ("other_body", _("向其他有权机关反映")),
]


class RejectForm(ActionForm):
    reason = forms.CharField(
        label=_("不予受理的理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.ChoiceField(
        label=_("认定"),
        choices=[
            (Outcome.INVALID, Outcome.INVALID.label),
            (Outcome.NOT_RESPONSIBLE, Outcome.NOT_RESPONSIBLE.label),
        ],
    )
    route = forms.ChoiceField(label=_("告知的法定途径"), choices=LEGAL_ROUTES, required=False)
    route_detail = forms.CharField(
        label=_("途径说明"),
        max_length=200,
        required=False,
        help_text=_("例如：向区人民政府申请行政复议；向区市场监管局反映。"),
    )

    def route_text(self) -> str:
        """The legal route told to the reporter, as kept on the case (in the site's language: the
        reporter reads it, not the dispatcher who chose it)."""
        route = dict(LEGAL_ROUTES)[self.cleaned_data["route"]] if self.cleaned_data.get("route") else ""
        detail = self.cleaned_data.get("route_detail", "").strip()
        if route and detail:
            return site_text(gettext_noop("%(label)s：%(value)s"), label=route, value=detail)
        return site_text(route) if route else detail


class MergeForm(ActionForm):
    fields_by_error: ClassVar[dict[str, str]] = {"state": "master"}

    master = forms.CharField(
        label=_("并入的主案件编号"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class UnitForm(ActionForm):
    """Dispatch (the routing suggestion, or a unit picked by hand), redispatch and reroute."""

    fields_by_error: ClassVar[dict[str, str]] = {"org": "unit", "division": "unit"}
    suggestion_allowed: ClassVar[bool] = False

    unit = forms.ChoiceField(label=_("责任单位"))
    note = forms.CharField(label=_("派单说明"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
        if self.suggestion_allowed:
            field.required = False
            field.choices = [("", _("按派单规则（建议）")), *self.units]
        else:
            field.choices = [("", _("请选择")), *self.units]


class DispatchForm(UnitForm):
    suggestion_allowed = True


class ReturnRequestForm(ActionForm):
    grounds = forms.CharField(
        label=_("退单理由"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("说明为何不属于本单位职责，以及应由哪个单位办理。"),
    )


class ExtensionRequestForm(ActionForm):
    amount = forms.DecimalField(label=_("延长时长"), min_value=0, max_digits=6, decimal_places=1)
    reason = forms.CharField(
        label=_("延期理由"),
        max_length=500,
        help_text=_("延期理由会告知反映人。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SuspendForm(ActionForm):
    reason = forms.CharField(
        label=_("挂账理由"),
        max_length=500,
        help_text=_("挂账事项会公开列出。"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    review_on = forms.DateField(label=_("复查日期"), widget=forms.DateInput(attrs={"type": "date"}))


class HandleForm(ActionForm):
    result = forms.CharField(label=_("处置情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(
        label=_("处置结果"),
        choices=[
            (Outcome.RESOLVED, Outcome.RESOLVED.label),
            (Outcome.PARTLY, Outcome.PARTLY.label),
            (Outcome.EXPLAINED, Outcome.EXPLAINED.label),
            (Outcome.NOT_RESPONSIBLE, Outcome.NOT_RESPONSIBLE.label),
        ],
        help_text=_("“已解释说明”不计为已解决。"),
    )
    evidence = PhotosField(label=_("现场照片"), help_text=_("处置后的照片，最多 9 张。"))


class CheckFailForm(ActionForm):
    reason = forms.CharField(
        label=_("不通过的原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence = PhotosField(label=_("核查照片"))


class ConfirmForm(ActionForm):
    """The resident's answer recorded on the case page (by the resident, or by staff from a call)."""

    solved = FeedbackForm.base_fields["solved"]
    feedback = FeedbackForm.base_fields["feedback"]
    comment = forms.CharField(label=_("意见"), max_length=500, required=False)


class SuperviseForm(ActionForm):
    level = forms.ChoiceField(
        label=_("督办级别"),
        choices=[
            (SupervisionLevel.ORDINARY, SupervisionLevel.ORDINARY.label),
            (SupervisionLevel.YELLOW, SupervisionLevel.YELLOW.label),
            (SupervisionLevel.RED, SupervisionLevel.RED.label),
        ],
    )
    reason = forms.CharField(label=_("督办事由"), max_length=500)


class PetitionLinkForm(ActionForm):
    petition_ref = forms.CharField(
        label=_("信访件编号"),
        max_length=64,
        help_text=_("同一事项的信访件：案件将被标记，避免一事两办。"),
    )


class RevealForm(forms.Form):
    purpose = forms.CharField(label=_("查看用途"), min_length=2, max_length=255)
