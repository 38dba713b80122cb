"""The resident registry (居村数据库, DOMAIN.md §4): persons, households (户) and their members.

"一户一档、一人一表": a household file and a person sheet. Houses live in ``places``.

The large tables (persons, households, members) each carry the 12-digit street code of the place
they belong to (the distribution key when the database is sharded by street) and, where records are
scoped, the place path of their compound (``committee.path + compound.code + "/"``), so that
"everything under this node" is one indexed prefix match.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.places.models import Division, House


class DocumentType(models.TextChoices):
    """Identity documents accepted for registration."""

    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAU_RESIDENCE_PERMIT = "hk_macau_residence_permit", _("港澳居民居住证")
    TAIWAN_RESIDENCE_PERMIT = "taiwan_residence_permit", _("台湾居民居住证")
    HK_MACAU_TRAVEL_PERMIT = "hk_macau_travel_permit", _("港澳居民来往内地通行证")
    TAIWAN_TRAVEL_PERMIT = "taiwan_travel_permit", _("台湾居民来往大陆通行证")
    FOREIGN_PERMANENT_RESIDENCE = "foreign_permanent_residence", _("外国人永久居留身份证")
    OTHER = "other", _("其他证件")


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")
    UNKNOWN = "unknown", _("未知")


class PersonStatus(models.TextChoices):
    LIVING_HERE = "living_here", _("在住")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已故")


class PopulationKind(models.TextChoices):
    """Registered residents (户籍人口) and the other actual residents (实有人口)."""

    REGISTERED = "registered", _("户籍人口")
    MIGRANT = "migrant", _("来沪人员")
    OVERSEAS = "overseas", _("境外人员")


class Person(models.Model):
    """一人一表: one person known to the registry."""

    # Personal fields, shown masked unless revealed through shequ.core.privacy.reveal (kind of mask).
    PERSONAL_FIELDS: ClassVar[dict[str, str]] = {
        "name": "name",
        "id_number": "id_number",
        "mobile": "mobile",
        "registered_address": "text",
    }

    name = models.CharField(_("姓名"), max_length=64)
    document_type = models.CharField(
        _("证件类型"), max_length=32, choices=DocumentType.choices, default=DocumentType.RESIDENT_ID
    )
    id_number = models.CharField(_("证件号码"), max_length=32, blank=True, default="")
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True, default="")
    population_kind = models.CharField(
        _("人口类别"), max_length=16, choices=PopulationKind.choices, default=PopulationKind.REGISTERED
    )
    # 户籍地址: free text as written in the household register, and the division when it is known.
    registered_address = models.CharField(_("户籍地址"), max_length=255, blank=True, default="")
    registered_division = models.ForeignKey(
        Division,
        verbose_name=_("户籍所在区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registered_persons",
    )
    # 实际居住: the house the person actually lives in (empty once moved out or deceased).
    house = models.ForeignKey(
        House,
        verbose_name=_("实际居住房屋"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=PersonStatus.choices, default=PersonStatus.LIVING_HERE
    )
    street_code = models.CharField(_("街镇代码"), max_length=12)
    path = models.CharField(_("地点路径"), max_length=160)
    is_synthetic = models.BooleanField(_("合成数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the status last changed (moved out / deceased start the retention clock), and when the
    # record was archived by the retention job (archived records leave every working list).
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status__in=PersonStatus.values), name="registry_person_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(document_type__in=DocumentType.values), name="registry_person_document_type_valid"
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="registry_person_sex_valid"),
            models.CheckConstraint(
                condition=Q(population_kind__in=PopulationKind.values),
                name="registry_person_population_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(street_code__regex=r"^[0-9]{12}$"), name="registry_person_street_code_12_digits"
            ),
            models.UniqueConstraint(
                fields=["document_type", "id_number"],
                condition=~Q(id_number=""),
                name="registry_person_unique_document",
            ),
        ]
        indexes: ClassVar = [
            # varchar_pattern_ops serves LIKE 'prefix%' on PostgreSQL whatever the collation; other
            # backends ignore the operator class.
            models.Index(fields=["path"], name="registry_person_path_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["street_code"], name="registry_person_street_idx"),
            models.Index(fields=["name"], name="registry_person_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def personal_data_subject_id(self) -> str:
        return str(self.pk)


class HouseholdKind(models.TextChoices):
    FAMILY = "family", _("家庭户")
    COLLECTIVE = "collective", _("集体户")


class Household(models.Model):
    """一户一档: a household (户) living in one house."""

    house = models.ForeignKey(
        House, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="households"
    )
    head = models.ForeignKey(
        Person,
        verbose_name=_("户主"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_households",
    )
    kind = models.CharField(
        _("户类型"), max_length=16, choices=HouseholdKind.choices, default=HouseholdKind.FAMILY
    )
    street_code = models.CharField(_("街镇代码"), max_length=12)
    path = models.CharField(_("地点路径"), max_length=160)
    is_synthetic = models.BooleanField(_("合成数据"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind__in=HouseholdKind.values), name="registry_household_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(street_code__regex=r"^[0-9]{12}$"),
                name="registry_household_street_code_12_digits",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["path"], name="registry_household_path_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["street_code"], name="registry_household_street_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.house} ({self.pk})"


class Relation(models.TextChoices):
    """Relation to the head of household (after GB/T 4761 家庭关系代码, grouped)."""

    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    CHILD_IN_LAW = "child_in_law", _("儿媳/女婿")
    GRANDCHILD = "grandchild", _("孙子女/外孙子女")
    PARENT = "parent", _("父母")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class HouseholdMember(models.Model):
    household = models.ForeignKey(
        Household, verbose_name=_("户"), on_delete=models.CASCADE, related_name="members"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="household_memberships"
    )
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices)
    street_code = models.CharField(_("街镇代码"), max_length=12)
    is_synthetic = models.BooleanField(_("合成数据"), default=False)

    class Meta:
        verbose_name = _("户成员")
        verbose_name_plural = _("户成员")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(relation__in=Relation.values), name="registry_member_relation_valid"
            ),
            models.UniqueConstraint(fields=["household", "person"], name="registry_member_unique_person"),
            models.UniqueConstraint(
                fields=["household"], condition=Q(relation="head"), name="registry_member_one_head"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["street_code"], name="registry_member_street_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.get_relation_display()}"


# --- Provenance (DOMAIN.md §4) ------------------------------------------------------------------


class Source(models.TextChoices):
    """Where a shared attribute comes from. The first four own their attributes: a committee's edit of
    one of them becomes a correction request to the source, never an overwrite."""

    PUBLIC_SECURITY = "public_security", _("公安")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    HUMAN_RESOURCES = "human_resources", _("人社")
    HEALTH = "health", _("卫健")
    COMMITTEE = "committee", _("居村采集")
    SELF_REPORT = "self_report", _("本人申报")


SOURCE_OWNED = frozenset(
    {Source.PUBLIC_SECURITY, Source.CIVIL_AFFAIRS, Source.HUMAN_RESOURCES, Source.HEALTH}
)


class AttributeProvenance(models.Model):
    """The source of one attribute of one person, and when it was last confirmed."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="provenance")
    attribute = models.CharField(_("属性"), max_length=64)
    source = models.CharField(_("来源"), max_length=32, choices=Source.choices)
    confirmed_at = models.DateTimeField(_("最近确认"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["person", "attribute"], name="registry_provenance_unique_attribute"
            ),
            models.CheckConstraint(
                condition=Q(source__in=Source.values), name="registry_provenance_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}.{self.attribute} ← {self.source}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    ACCEPTED = "accepted", _("已采纳")
    REJECTED = "rejected", _("未采纳")
    WITHDRAWN = "withdrawn", _("已撤回")


class CorrectionOrigin(models.TextChoices):
    COMMITTEE_EDIT = "committee_edit", _("居村修改")
    RESIDENT = "resident", _("居民申请")


class CorrectionRequest(models.Model):
    """A request to correct one attribute, routed to the attribute's owner: the source department for a
    source-owned attribute, the committee for everything else (and for residents' requests)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="correction_requests")
    attribute = models.CharField(_("属性"), max_length=64)
    current_value = models.CharField(_("当前值"), max_length=255, blank=True, default="")
    proposed_value = models.CharField(_("申请改为"), max_length=255, blank=True, default="")
    reason = models.TextField(_("理由"), blank=True, default="")
    origin = models.CharField(_("发起方式"), max_length=32, choices=CorrectionOrigin.choices)
    routed_to = models.CharField(_("处理方"), max_length=32, choices=Source.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")
    path = models.CharField(max_length=160)
    street_code = models.CharField(max_length=12)

    class Meta:
        verbose_name = _("更正申请")
        verbose_name_plural = _("更正申请")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="registry_correction_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(origin__in=CorrectionOrigin.values), name="registry_correction_origin_valid"
            ),
            models.UniqueConstraint(
                fields=["person", "attribute"],
                condition=Q(status="pending"),
                name="registry_correction_one_pending_per_attribute",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["path"], name="registry_correction_path_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}.{self.attribute}: {self.status}"


# --- Tags (标签字典) ------------------------------------------------------------------------------


class TagRule(models.TextChoices):
    """How a computed tag is derived (kept current by the scheduled job)."""

    NONE = "", _("人工标注")
    AGE_AT_LEAST = "age_at_least", _("年龄不低于")
    AGE_BELOW = "age_below", _("年龄低于")


class TagDefinition(models.Model):
    """One central tag definition: who may assign it, what evidence it needs, when it is reviewed, and
    whether it is sensitive (PIPL Art. 28: health, disability, minors …)."""

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=64, unique=True)
    description = models.TextField(_("说明"), blank=True, default="")
    is_sensitive = models.BooleanField(_("敏感"), default=False)
    # Roles (accounts.Role values) that may assign the tag by hand; empty for computed tags.
    assignable_by = models.JSONField(_("可标注角色"), default=list, blank=True)
    # Roles that may see a sensitive tag (ignored for non-sensitive tags, which every staff role in
    # scope sees). Never shown on resident-facing or public pages.
    visible_to = models.JSONField(_("可见角色"), default=list, blank=True)
    evidence_required = models.BooleanField(_("须附依据"), default=False)
    evidence_hint = models.CharField(_("依据说明"), max_length=255, blank=True, default="")
    review_months = models.PositiveSmallIntegerField(_("复核周期（月）"), null=True, blank=True)
    rule = models.CharField(_("计算规则"), max_length=32, choices=TagRule.choices, blank=True, default="")
    rule_value = models.PositiveSmallIntegerField(_("规则参数"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签字典")
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(rule__in=TagRule.values), name="registry_tag_rule_valid"),
            models.CheckConstraint(
                condition=Q(rule="") | Q(rule_value__isnull=False), name="registry_tag_rule_needs_value"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_computed(self) -> bool:
        return bool(self.rule)


class TagAssignment(models.Model):
    """A tag on a person. Ended assignments stay (history); at most one open assignment per tag."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="tag_assignments")
    tag = models.ForeignKey(TagDefinition, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField()
    evidence = models.TextField(_("依据"), blank=True, default="")
    review_due = models.DateField(_("复核日期"), null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=255, blank=True, default="")
    path = models.CharField(max_length=160)
    street_code = models.CharField(max_length=12)

    class Meta:
        verbose_name = _("标签标注")
        verbose_name_plural = _("标签标注")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["person", "tag"], condition=Q(ended_at__isnull=True), name="registry_tag_one_open"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["tag", "ended_at"], name="registry_tagassign_tag_idx"),
            models.Index(
                fields=["path"], name="registry_tagassign_path_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} #{self.tag_id}"


# --- Visits (走访) ---------------------------------------------------------------------------------


class Visit(models.Model):
    """One visit to a household (the "四百" visits): who, when, what they found, what follows."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="visits")
    visited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField(_("走访日期"))
    findings = models.TextField(_("走访情况"))
    needs = models.TextField(_("诉求与困难"), blank=True, default="")
    follow_up = models.TextField(_("后续事项"), blank=True, default="")
    follow_up_due = models.DateField(_("跟进期限"), null=True, blank=True)
    follow_up_done_at = models.DateTimeField(_("跟进完成"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    path = models.CharField(max_length=160)
    street_code = models.CharField(max_length=12)

    class Meta:
        verbose_name = _("走访")
        verbose_name_plural = _("走访")
        ordering: ClassVar = ["-visited_on", "-pk"]
        indexes: ClassVar = [
            models.Index(fields=["household", "visited_on"], name="registry_visit_household_idx"),
            models.Index(fields=["path"], name="registry_visit_path_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} @ {self.visited_on}"


# --- Population filters (政策找人) -----------------------------------------------------------------


class SavedFilter(models.Model):
    """A saved query over the registry producing a live target list (criteria validated by the
    registry's filter schema)."""

    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True, default="")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="saved_filters")
    criteria = models.JSONField(_("条件"), default=dict)
    is_shared = models.BooleanField(_("共享给本辖区"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    path = models.CharField(max_length=160)

    class Meta:
        verbose_name = _("人群筛选")
        verbose_name_plural = _("人群筛选")
        ordering: ClassVar = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Import jobs ---------------------------------------------------------------------------------


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    VALIDATING = "validating", _("校验中")
    INVALID = "invalid", _("有错误")
    VALIDATED = "validated", _("待确认")
    IMPORTING = "importing", _("导入中")
    IMPORTED = "imported", _("已导入")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class ImportJob(models.Model):
    """One ledger file uploaded by a committee: validated in full, previewed, then loaded all at once
    (never half-loaded). Large files run as a background task with progress."""

    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="registry_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to="registry/imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # {"new": n, "changed": n, "unchanged": n, "error": n}
    counts = models.JSONField(default=dict, blank=True)
    error_report = models.FileField(upload_to="registry/imports/%Y/%m/", null=True, blank=True)
    message = models.TextField(blank=True, default="")
    path = models.CharField(max_length=160)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering: ClassVar = ["-created_at"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values), name="registry_import_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"


class RowAction(models.TextChoices):
    NEW = "new", _("新增")
    CHANGED = "changed", _("变更")
    UNCHANGED = "unchanged", _("无变化")
    ERROR = "error", _("错误")


class ImportRow(models.Model):
    """The preview of one row of an import: what it will do, and why it cannot when it cannot."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=RowAction.choices)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    errors = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["job", "row_number"], name="registry_importrow_unique"),
            models.CheckConstraint(
                condition=Q(action__in=RowAction.values), name="registry_importrow_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.row_number} {self.action}"


# --- Residents' own access (PIPL Art. 44–47) ------------------------------------------------------


class ResidentLink(models.Model):
    """Binds a resident's sign-in account to their registry record, once verified by the committee."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resident_link"
    )
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="resident_link")
    verified_at = models.DateTimeField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.user_id} ↔ {self.person_id}"


class DeletionRequest(models.Model):
    """A resident's request to delete their data (PIPL Art. 47), decided by the committee."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="deletion_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(_("理由"))
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")
    path = models.CharField(max_length=160)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="registry_deletion_status_valid"
            ),
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="pending"), name="registry_deletion_one_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.status}"


# --- Data back-flow (数据回流) --------------------------------------------------------------------


class DatasetStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    PURGED = "purged", _("已清除")


class BackflowDataset(models.Model):
    """A dataset a department publishes to committees, with a purpose and an expiry; purged at expiry."""

    publisher = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=200)
    purpose = models.CharField(_("用途"), max_length=255)
    published_at = models.DateTimeField()
    expires_at = models.DateTimeField(_("到期"))
    status = models.CharField(max_length=16, choices=DatasetStatus.choices, default=DatasetStatus.ACTIVE)
    purged_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status__in=DatasetStatus.values), name="registry_dataset_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("published_at")), name="registry_dataset_expires_after"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BackflowRow(models.Model):
    """One row of a back-flow dataset, placed in the committee it concerns."""

    dataset = models.ForeignKey(BackflowDataset, on_delete=models.CASCADE, related_name="rows")
    committee = models.ForeignKey(Division, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    path = models.CharField(max_length=160)
    id_number = models.CharField(max_length=32, blank=True, default="")
    name = models.CharField(max_length=64, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    PERSONAL_FIELDS: ClassVar[dict[str, str]] = {"name": "name", "id_number": "id_number"}

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["dataset", "path"], name="registry_backflow_path_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}: {self.name}"
