"""Users, roles, memberships, organisations and API tokens (DOMAIN.md §2)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shequ.places.models import Compound, Division, Grid


class User(AbstractUser):
    """A person who signs in. Roles come only from memberships, never from flags on the user."""

    display_name = models.CharField(_("显示名称"), max_length=100, blank=True, default="")
    mobile = models.CharField(_("手机号"), max_length=11, blank=True, default="")

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    COMMITTEE_WORKER = "committee_worker", _("居村工作人员")
    COMMITTEE_HEAD = "committee_head", _("居村书记/主任")
    GRID_WORKER = "grid_worker", _("网格员")
    STREET_OFFICER = "street_officer", _("街镇干部")
    STREET_DISPATCHER = "street_dispatcher", _("街镇城运中心调度员")
    DISTRICT_OFFICER = "district_officer", _("区级干部")
    CIVIL_AFFAIRS_OFFICER = "civil_affairs_officer", _("民政干部")
    DEPARTMENT_HANDLER = "department_handler", _("部门处置人员")
    DEPARTMENT_HEAD = "department_head", _("部门负责人")
    PROPERTY_MANAGER = "property_manager", _("物业经理")
    OWNERS_COMMITTEE_MEMBER = "owners_committee_member", _("业委会委员")
    VOLUNTEER = "volunteer", _("志愿者")
    PETITION_OFFICER = "petition_officer", _("信访干部")
    CITY_ADMIN = "city_admin", _("市级管理员")


class OrganisationKind(models.TextChoices):
    DEPARTMENT = "department", _("职能部门")
    DEPARTMENT_BRANCH = "department_branch", _("部门派出机构")
    STREET_OFFICE = "street_office", _("街镇办事处")
    UTILITY = "utility", _("公用事业单位")
    PROPERTY_COMPANY = "property_company", _("物业公司")
    OWNERS_COMMITTEE = "owners_committee", _("业主委员会")
    SOCIAL_ORGANISATION = "social_organisation", _("社会组织")
    RESIDENT_UNIT = "resident_unit", _("驻区单位")


class Organisation(models.Model):
    """A department, its local branch, a utility, a property company, an owners' committee, a social
    organisation or a unit based in the area. ``division`` is the area it serves or belongs to."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=OrganisationKind.choices)
    code = models.CharField(max_length=32, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="branches"
    )
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="organisations"
    )
    # Department type ("城管", "房管", "公安" …) used by routing rules later.
    sector = models.CharField(max_length=64, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar = ["name"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganisationKind.values), name="accounts_org_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CompoundServiceKind(models.TextChoices):
    PROPERTY_MANAGEMENT = "property_management", _("物业服务")
    OWNERS_COMMITTEE = "owners_committee", _("业主委员会")


class CompoundService(models.Model):
    """A compound's link to its property company or owners' committee, with contract/term dates."""

    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="service_links")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="compound_links")
    kind = models.CharField(max_length=32, choices=CompoundServiceKind.choices)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind__in=CompoundServiceKind.values), name="accounts_compound_service_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} → {self.compound} ({self.kind})"


class Membership(models.Model):
    """A user holds a role at exactly one node: a division, a grid, or an organisation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    division = models.ForeignKey(
        Division, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    is_active = models.BooleanField(default=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="accounts_membership_role_valid"),
            models.CheckConstraint(
                condition=(
                    Q(division__isnull=False, grid__isnull=True, organisation__isnull=True)
                    | Q(division__isnull=True, grid__isnull=False, organisation__isnull=True)
                    | Q(division__isnull=True, grid__isnull=True, organisation__isnull=False)
                ),
                name="accounts_membership_exactly_one_node",
            ),
        ]

    def __str__(self) -> str:
        node = self.division or self.grid or self.organisation
        return f"{self.user} — {self.get_role_display()} @ {node}"


class ApiToken(models.Model):
    """A personal API token for a machine client. Only a SHA-256 digest is stored; the token acts
    with exactly its owner's scope and is revocable."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
