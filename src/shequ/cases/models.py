"""The case loop (DOMAIN.md §5): category catalogue, routing rules, cases and what hangs off them.

State, outcome, resident feedback and external delivery are separate fields (DOMAIN.md §5, [practice]).
State changes go through ``shequ.cases.services_transitions`` only (one service per transition, each
writing an event row); the allowed transitions and who may make them are data in
``shequ.cases.machine``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shequ.core.models import SupervisionLevel, Unit

# --- catalogue -----------------------------------------------------------------------------------


class CategoryKind(models.TextChoices):
    """GB/T 30428: 部件 (city parts: facilities, roads …) and 事件 (events: conduct, order …)."""

    PART = "part", _("部件")
    EVENT = "event", _("事件")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    VERY_URGENT = "very_urgent", _("特急")


class ResponsibleKind(models.TextChoices):
    """Who handles a category by default. ``committee`` is only for small neighbourhood matters
    (小事快办): department work may not be pushed down to committees (2025 12345 opinion)."""

    DEPARTMENT_BRANCH = "department_branch", _("部门派出机构")
    STREET_OFFICE = "street_office", _("街镇")
    PROPERTY_COMPANY = "property_company", _("物业公司")
    UTILITY = "utility", _("公用事业单位")
    COMMITTEE = "committee", _("居村委")


class EmergencyService(models.TextChoices):
    POLICE = "110", _("110 报警")
    FIRE = "119", _("119 火警")
    AMBULANCE = "120", _("120 急救")
    TRAFFIC = "122", _("122 交通事故")


class Category(models.Model):
    """One 小类 of the dispatch catalogue (派单目录). ``code`` = kind letter + 2-digit 大类 + 2-digit 小类
    (``P0101`` a part, ``E0301`` an event), shaped like GB/T 30428."""

    code = models.CharField(_("编码"), max_length=8, unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=CategoryKind.choices)
    major_code = models.CharField(_("大类编码"), max_length=2)
    major_name = models.CharField(_("大类"), max_length=50)
    minor_code = models.CharField(_("小类编码"), max_length=2)
    name = models.CharField(_("小类"), max_length=100)
    # Words a resident might type ("垃圾 堆放 臭"), for the category search on the form.
    keywords = models.CharField(_("关键词"), max_length=300, blank=True, default="")
    registration_condition = models.CharField(_("立案条件"), max_length=500, blank=True, default="")
    closing_condition = models.CharField(_("结案条件"), max_length=500, blank=True, default="")
    deadline_amount = models.DecimalField(_("处置时限"), max_digits=8, decimal_places=2, default=5)
    deadline_unit = models.CharField(
        _("时限单位"), max_length=20, choices=Unit.choices, default=Unit.WORK_DAYS
    )
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    responsible_kind = models.CharField(
        _("默认责任单位类型"),
        max_length=24,
        choices=ResponsibleKind.choices,
        default=ResponsibleKind.STREET_OFFICE,
    )
    # Matches ``Organisation.sector`` of department branches and utilities ("城管", "绿化", "供水" …).
    responsible_sector = models.CharField(_("责任部门条线"), max_length=64, blank=True, default="")
    check_required = models.BooleanField(_("需现场核查"), default=True)
    duplicate_radius_m = models.PositiveIntegerField(_("重复判定半径(米)"), default=250)
    # Emergency matters are not cases: the form stops and shows the number (DOMAIN.md §5).
    emergency_service = models.CharField(
        _("紧急求助电话"), max_length=4, choices=EmergencyService.choices, blank=True, default=""
    )
    is_public = models.BooleanField(_("居民可选"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering: ClassVar = ["kind", "major_code", "minor_code"]
        verbose_name = _("案件类别")
        verbose_name_plural = _("案件类别")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind__in=CategoryKind.values), name="cases_category_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(urgency__in=Urgency.values), name="cases_category_urgency_valid"
            ),
            models.CheckConstraint(
                condition=Q(responsible_kind__in=ResponsibleKind.values),
                name="cases_category_responsible_valid",
            ),
            models.CheckConstraint(
                condition=Q(deadline_unit__in=Unit.values), name="cases_category_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(deadline_amount__gt=0), name="cases_category_deadline_positive"
            ),
            models.CheckConstraint(
                condition=Q(emergency_service="") | Q(emergency_service__in=EmergencyService.values),
                name="cases_category_emergency_valid",
            ),
            models.UniqueConstraint(
                fields=["kind", "major_code", "minor_code"], name="cases_category_code_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.major_name}/{self.name}"

    @property
    def is_emergency(self) -> bool:
        return bool(self.emergency_service)


class RoutingRule(models.Model):
    """Location + category → responsible unit, editable per district (DOMAIN.md §5).

    A rule applies within ``division`` (a district, or a street for a local exception; empty = the whole
    city) to ``category`` (empty = every category of ``major_code``/``kind`` when given, else all). The
    most specific matching rule wins (street over district over city; category over 大类 over all), then
    the lowest ``priority``. The target is either a named ``organisation`` or a kind (+ sector) resolved
    near the case's place. When no rule resolves, the street's dispatch centre owns the case (属地兜底).
    """

    division = models.ForeignKey(
        "places.Division",
        verbose_name=_("适用区域"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="case_routing_rules",
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
    )
    kind = models.CharField(_("类型"), max_length=8, choices=CategoryKind.choices, blank=True, default="")
    major_code = models.CharField(_("大类编码"), max_length=2, blank=True, default="")
    responsible_kind = models.CharField(_("责任单位类型"), max_length=24, choices=ResponsibleKind.choices)
    responsible_sector = models.CharField(_("责任部门条线"), max_length=64, blank=True, default="")
    organisation = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("指定责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    priority = models.PositiveSmallIntegerField(_("优先级"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("说明"), max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar = ["priority", "pk"]
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(responsible_kind__in=ResponsibleKind.values), name="cases_rule_responsible_valid"
            ),
        ]

    def __str__(self) -> str:
        target = self.category_id or self.major_code or "*"
        return f"{self.division_id or '*'}/{target} → {self.responsible_kind}"


# --- cases ---------------------------------------------------------------------------------------


class CaseState(models.TextChoices):
    REPORTED = "reported", _("已受理")
    VERIFYING = "verifying", _("核实中")
    REGISTERED = "registered", _("已立案")
    DISPATCHED = "dispatched", _("已派遣")
    RETURN_REQUESTED = "return_requested", _("退单申请中")
    HANDLING = "handling", _("处置中")
    EXTENSION_REQUESTED = "extension_requested", _("延期申请中")
    SUSPENDED = "suspended", _("挂账")
    HANDLED = "handled", _("已处置")
    CHECKING = "checking", _("核查中")
    CONFIRMING = "confirming", _("回访中")
    CLOSED = "closed", _("已结案")
    MERGED = "merged", _("已并单")
    REJECTED = "rejected", _("不予受理/已转办")


OPEN_STATES = frozenset(
    {
        CaseState.REPORTED,
        CaseState.VERIFYING,
        CaseState.REGISTERED,
        CaseState.DISPATCHED,
        CaseState.RETURN_REQUESTED,
        CaseState.HANDLING,
        CaseState.EXTENSION_REQUESTED,
        CaseState.SUSPENDED,
        CaseState.HANDLED,
        CaseState.CHECKING,
        CaseState.CONFIRMING,
    }
)
FINAL_STATES = frozenset({CaseState.CLOSED, CaseState.MERGED, CaseState.REJECTED})


class Outcome(models.TextChoices):
    NONE = "", _("未定")
    RESOLVED = "resolved", _("已解决")
    PARTLY = "partly", _("部分解决")
    EXPLAINED = "explained", _("已解释说明（无法解决）")
    NOT_RESPONSIBLE = "not_responsible", _("非本单位职责")
    DUPLICATE = "duplicate", _("重复诉求")
    INVALID = "invalid", _("无效诉求")


class Feedback(models.TextChoices):
    NONE = "", _("未评价")
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")
    NO_RESPONSE = "no_response", _("未回复")


class Channel(models.TextChoices):
    RESIDENT_WEB = "resident_web", _("居民网站")
    COUNTER = "counter", _("居委窗口/上门")
    GRID_PATROL = "grid_patrol", _("网格巡查")
    HOTLINE = "hotline_12345", _("12345 热线")
    SENSOR = "sensor", _("视频/感知")
    API = "api", _("接口")
    OPEN311 = "open311", _("Open311")
    ASSIGNED = "assigned", _("上级交办")


class Case(models.Model):
    # Tracking number shown to the reporter: "SQ" + yyyymmdd + 6-digit daily sequence.
    number = models.CharField(_("案件编号"), max_length=20, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices)
    # The source system's own reference (12345 ticket id, Open311 client's id …).
    source_ref = models.CharField(_("来源编号"), max_length=64, blank=True, default="")
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases"
    )
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(_("标题"), max_length=200, blank=True, default="")
    description = models.TextField(_("诉求内容"), max_length=4000)
    # Place: WGS-84 point (converted at the edge) and/or an address; the located nodes.
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True, default="")
    district = models.ForeignKey(
        "places.Division", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        "places.Division", verbose_name=_("街镇"), on_delete=models.PROTECT, related_name="+"
    )
    committee = models.ForeignKey(
        "places.Division",
        verbose_name=_("居村委"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    compound = models.ForeignKey(
        "places.Compound",
        verbose_name=_("小区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Deepest place path (committee or street), for scoping by prefix; street code for sharding.
    path = models.CharField(_("辖区路径"), max_length=160, db_index=True)
    street_code = models.CharField(_("街镇代码"), max_length=12, db_index=True)

    # Who reported. Contact details are personal data: masked by default, the handler sees them
    # (the form says so); ``anonymous_public`` hides the reporter from the public, not from handlers.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报告人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    reporter_person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("报告人（居民库）"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True, default="")
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True, default="")
    contact_email = models.CharField(_("电子邮箱"), max_length=254, blank=True, default="")
    anonymous_public = models.BooleanField(_("对公众匿名"), default=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    state = models.CharField(_("状态"), max_length=24, choices=CaseState.choices, default=CaseState.REPORTED)
    outcome = models.CharField(_("处置结果"), max_length=24, choices=Outcome.choices, blank=True, default="")
    feedback = models.CharField(
        _("居民评价"), max_length=16, choices=Feedback.choices, blank=True, default=""
    )
    # Resident's answer to "solved?": True / False / None (no answer yet or no response).
    resident_solved = models.BooleanField(_("居民确认解决"), null=True, blank=True)

    # The responsible unit: an organisation (department branch, street office, property company,
    # utility) or a division (the committee for small matters; the street's dispatch centre when no rule
    # applies — 属地兜底). Exactly one once dispatched.
    handler_org = models.ForeignKey(
        "accounts.Organisation",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    handler_division = models.ForeignKey(
        "places.Division",
        verbose_name=_("责任属地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The unit a return request (退单) was refused for becomes first responsible (首办).
    first_responsible = models.BooleanField(_("首办责任"), default=False)
    route_note = models.CharField(_("派单依据"), max_length=300, blank=True, default="")

    master = models.ForeignKey(
        "self",
        verbose_name=_("主案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    # A petition (信访) on the same matter: one matter is not handled twice.
    petition_ref = models.CharField(_("关联信访件"), max_length=64, blank=True, default="")
    supervision_level = models.CharField(
        _("督办级别"), max_length=16, choices=SupervisionLevel.choices, default=SupervisionLevel.NONE
    )

    result = models.TextField(_("处置情况"), blank=True, default="")
    # Rejected / redirected: the legal route the reporter is told (诉讼、仲裁、行政复议、信访、其他机关).
    redirect_route = models.CharField(_("告知途径"), max_length=300, blank=True, default="")
    suspend_review_on = models.DateField(_("挂账复查日期"), null=True, blank=True)

    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    redo_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("回退次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("重启次数"), default=0)

    reported_at = models.DateTimeField(_("受理时间"), db_index=True)
    registered_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("处置完成时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    # The handling deadline's due time (copied from the Deadline row: Open311 expected_datetime).
    due_at = models.DateTimeField(_("处置时限"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), db_index=True)
    # Optimistic lock: every transition bumps it (the version check on SQLite; PostgreSQL also locks the row).
    version = models.PositiveIntegerField(_("版本"), default=1)
    is_synthetic = models.BooleanField(default=False)

    # Field → mask kind (``shequ.core.masking.MASKS``): masked everywhere, clear only via ``privacy.reveal``.
    PERSONAL_FIELDS: ClassVar[dict[str, str]] = {
        "contact_name": "name",
        "contact_phone": "mobile",
        "contact_email": "email",
    }

    class Meta:
        ordering: ClassVar = ["-reported_at", "-pk"]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(state__in=CaseState.values), name="cases_case_state_valid"),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="cases_case_outcome_valid"),
            models.CheckConstraint(
                condition=Q(feedback__in=Feedback.values), name="cases_case_feedback_valid"
            ),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="cases_case_channel_valid"),
            models.CheckConstraint(condition=Q(urgency__in=Urgency.values), name="cases_case_urgency_valid"),
            models.CheckConstraint(
                condition=Q(supervision_level__in=SupervisionLevel.values),
                name="cases_case_supervision_valid",
            ),
            models.CheckConstraint(
                condition=~(Q(handler_org__isnull=False) & Q(handler_division__isnull=False)),
                name="cases_case_one_handler",
            ),
            models.CheckConstraint(
                condition=~Q(state=CaseState.MERGED) | Q(master__isnull=False),
                name="cases_case_merged_has_master",
            ),
            models.CheckConstraint(condition=~Q(master=F("pk")), name="cases_case_not_own_master"),
            # A source system's ticket becomes one case (12345 import and Open311 retries are idempotent).
            models.UniqueConstraint(
                fields=["channel", "source_ref"], condition=~Q(source_ref=""), name="cases_case_source_unique"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["street_code", "state", "category"], name="cases_case_street_state_idx"),
            models.Index(fields=["handler_org", "state"], name="cases_case_handler_org_idx"),
            models.Index(fields=["handler_division", "state"], name="cases_case_handler_div_idx"),
            models.Index(fields=["state", "due_at"], name="cases_case_state_due_idx"),
            models.Index(fields=["updated_at", "id"], name="cases_case_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AttachmentStage(models.TextChoices):
    REPORT = "report", _("上报")
    HANDLING = "handling", _("处置")
    CHECK = "check", _("核查")


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    stage = models.CharField(
        _("环节"), max_length=16, choices=AttachmentStage.choices, default=AttachmentStage.REPORT
    )
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/", blank=True)
    # Open311 clients send a media_url instead of a file.
    url = models.URLField(_("链接"), max_length=500, blank=True, default="")
    content_type = models.CharField(max_length=100, blank=True, default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(stage__in=AttachmentStage.values), name="cases_attachment_stage_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.stage}"


class CaseSubscription(models.Model):
    """Who follows a case and is told of its changes: the reporter, residents who chose "follow this
    one instead" of a duplicate, and every reporter of a case merged into it. ``token`` opens the
    "solved? satisfied?" link without an account."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="case_subscriptions",
    )
    phone = models.CharField(max_length=20, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    is_reporter = models.BooleanField(default=False)
    # The case this subscription came from (a merged duplicate), if any.
    via_case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    PERSONAL_FIELDS: ClassVar[dict[str, str]] = {"phone": "mobile", "email": "email"}

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["case", "user"],
                condition=Q(user__isnull=False),
                name="cases_subscription_one_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.user_id or 'contact'}"


class ExternalSystem(models.TextChoices):
    HOTLINE = "hotline_12345", _("12345 热线")
    CITY_OPERATIONS = "city_operations", _("城运平台")
    OPEN311 = "open311", _("Open311 客户端")


class ExternalDeliveryState(models.TextChoices):
    PENDING = "pending", _("待推送")
    SENT = "sent", _("已推送")
    ACKNOWLEDGED = "acknowledged", _("已确认")
    FAILED = "failed", _("推送失败")


class CaseDelivery(models.Model):
    """Delivery of a case's result to one external system (DOMAIN.md §5: kept apart from state)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deliveries")
    system = models.CharField(max_length=24, choices=ExternalSystem.choices)
    external_id = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(
        max_length=16, choices=ExternalDeliveryState.choices, default=ExternalDeliveryState.PENDING
    )
    updated_at = models.DateTimeField(auto_now=True)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["case", "system"], name="cases_delivery_one_per_system"),
            models.CheckConstraint(
                condition=Q(state__in=ExternalDeliveryState.values), name="cases_delivery_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(system__in=ExternalSystem.values), name="cases_delivery_system_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}→{self.system}:{self.state}"


class CaseUpdate(models.Model):
    """The public change feed (Open311 ``servicerequestupdates``): one row per state change visible to
    outside systems, written by the transition services beside the event row."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="updates")
    state = models.CharField(max_length=24, choices=CaseState.choices)
    status = models.CharField(max_length=8)  # "open" / "closed" (Open311)
    description = models.CharField(max_length=1000, blank=True, default="")
    media_url = models.URLField(max_length=500, blank=True, default="")
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering: ClassVar = ["updated_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.state}@{self.updated_at:%Y-%m-%d %H:%M}"


class CaseSequence(models.Model):
    """Daily counter behind the tracking numbers (one row per day, bumped under a row lock)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}:{self.last}"


class OpenApiClient(models.Model):
    """An Open311 client (api_key) allowed to POST requests; its reports are channel ``open311``."""

    name = models.CharField(_("名称"), max_length=100)
    key_prefix = models.CharField(max_length=12, db_index=True)
    key_digest = models.CharField(max_length=64, unique=True)
    jurisdiction_id = models.CharField(max_length=64, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ReportToken(models.Model):
    """Open311 ``tokens/{token}``: a POST answered before the request id exists returns a token."""

    token = models.CharField(max_length=64, unique=True)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.token


# --- metrics -------------------------------------------------------------------------------------


class MetricLevel(models.TextChoices):
    CITY = "city", _("全市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街镇")
    COMMITTEE = "committee", _("居村委")
    DEPARTMENT = "department", _("责任单位")


class MetricCounters(models.Model):
    """The counters of the outcome metrics for one (level, node, category) and one day or month; what
    each counts, and on which day, is defined in ``shequ.cases.metrics``. ``node`` is a division code
    or ``org:<id>``; ``category_code`` is empty for the all-categories row."""

    level = models.CharField(max_length=12, choices=MetricLevel.choices)
    node = models.CharField(max_length=24)
    category_code = models.CharField(max_length=8, blank=True, default="")
    # Report cohort (day reported).
    reported = models.IntegerField(default=0)
    merged = models.IntegerField(default=0)
    # Registration cohort (day registered).
    registered = models.IntegerField(default=0)
    extended = models.IntegerField(default=0)
    # Dispatch cohort (day of each dispatch, at the unit it went to).
    dispatched = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    signed = models.IntegerField(default=0)
    signed_in_time = models.IntegerField(default=0)
    # Handling submissions (day handled, at the unit that handled).
    handled = models.IntegerField(default=0)
    reworked = models.IntegerField(default=0)
    # Due cohort (day of the current handling deadline).
    due = models.IntegerField(default=0)
    due_handled = models.IntegerField(default=0)
    due_handled_on_time = models.IntegerField(default=0)
    due_closed = models.IntegerField(default=0)
    due_closed_on_time = models.IntegerField(default=0)
    due_redone = models.IntegerField(default=0)
    responded_in_time = models.IntegerField(default=0)
    solved = models.IntegerField(default=0)
    not_solved = models.IntegerField(default=0)
    no_response = models.IntegerField(default=0)
    explained = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basically = models.IntegerField(default=0)
    unsatisfied = models.IntegerField(default=0)

    class Meta:
        abstract = True


class CaseMetricDay(MetricCounters):
    """Daily counters, filled incrementally from the event rows by ``shequ.cases.metrics``. Dashboards
    read only this table and its monthly sums (``CaseMetricMonth``)."""

    day = models.DateField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["level", "node", "category_code", "day"], name="cases_metricday_unique"
            ),
            models.CheckConstraint(
                condition=Q(level__in=MetricLevel.values), name="cases_metricday_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level}:{self.node}:{self.category_code or '*'}@{self.day}"


class CaseMetricMonth(MetricCounters):
    """The daily counters summed per calendar month (``month`` is its first day), written by the same
    fill job in the same transaction: a period of whole months reads one row per node and month instead
    of one per day, so long periods cost the same however many cases a node has."""

    month = models.DateField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["level", "node", "category_code", "month"], name="cases_metricmonth_unique"
            ),
            models.CheckConstraint(
                condition=Q(level__in=MetricLevel.values), name="cases_metricmonth_level_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level}:{self.node}:{self.category_code or '*'}@{self.month:%Y-%m}"
