"""The resident registry (居村数据库, DOMAIN.md §4): persons, households (户) and their members.

"一户一档、一人一表": a household file and a person sheet. Houses live in ``places``.

The large tables (persons, households, members) each carry the 12-digit street code of the place
they belong to (the distribution key when the database is sharded by street) and, where records are
scoped, the place path of their compound (``committee.path + compound.code + "/"``), so that
"everything under this node" is one indexed prefix match.
"""

from __future__ import annotations

from typing import ClassVar

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
