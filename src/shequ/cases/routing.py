"""Routing (DOMAIN.md §5): where a case happens + its category → the responsible unit.

``route_case`` finds the routing rules that apply at the case's place, most specific first:

1. where: a rule of the committee's or the street's own > of the district > city-wide;
2. what: a rule for the category > for its 大类 (kind + major code) > for its kind > for everything;
3. then the lowest ``priority``, then the oldest rule.

Each rule names a unit (``organisation``) or a kind of unit (+ sector) found near the place:

- department branch / utility: the active organisation of that kind and sector serving the street,
  else the district, else the city (the nearest ancestor on the case's path);
- property company: the compound's current property-management contract (dates valid today);
- street office: the street's office if one is registered, else the street itself;
- committee: the case's committee — only for categories the committee handles itself (小事快办).
  Department work may not be pushed down to committees (2025 12345 opinion): a rule that would do so
  is never applied, and ``can_route_to`` refuses such a manual dispatch.

A rule whose unit cannot be found (no contract, no branch of that sector here, an organisation
since deactivated) gives way to the next rule, then to the category's default unit. When nothing
resolves, the street's dispatch centre owns the case (属地兜底) and the reason says why.

Cost: no query once the process holds the routing data (``reference``: the rules, the organisations
on the path and each compound's property contracts, reloaded after a change) — whatever the number of
categories a ``RoutePlanner`` routes (the district's effective-route table routes the whole catalogue).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from shequ.accounts.models import Organisation, OrganisationKind
from shequ.core.errors import ApiError
from shequ.core.revisions import revisions_pinned
from shequ.core.texts import labelled, with_detail
from shequ.places.models import Compound, Division, DivisionLevel

from .models import Category, ResponsibleKind, RoutingRule
from .reference import RoutingData, property_company, routing_data

# Organisations a case may be dispatched to (owners' committees, social organisations and units
# based in the area are partners of the community, not responsible units of the case loop).
ROUTABLE_ORG_KINDS = frozenset(
    {
        OrganisationKind.DEPARTMENT,
        OrganisationKind.DEPARTMENT_BRANCH,
        OrganisationKind.STREET_OFFICE,
        OrganisationKind.UTILITY,
        OrganisationKind.PROPERTY_COMPANY,
    }
)
# Which organisation kinds may stand for a responsible kind when a rule names the unit itself.
ORG_KINDS_FOR: dict[str, frozenset[str]] = {
    ResponsibleKind.DEPARTMENT_BRANCH: frozenset(
        {OrganisationKind.DEPARTMENT_BRANCH, OrganisationKind.DEPARTMENT}
    ),
    ResponsibleKind.UTILITY: frozenset({OrganisationKind.UTILITY}),
    ResponsibleKind.PROPERTY_COMPANY: frozenset({OrganisationKind.PROPERTY_COMPANY}),
    ResponsibleKind.STREET_OFFICE: frozenset({OrganisationKind.STREET_OFFICE}),
    ResponsibleKind.COMMITTEE: frozenset(),
}
# Kinds resolved by sector among the organisations on the case's path.
_BY_SECTOR = frozenset({ResponsibleKind.DEPARTMENT_BRANCH, ResponsibleKind.UTILITY})


# What a resolver answers: (organisation, division, why not) — one of the first two, or the reason.
Resolved = tuple[Organisation | None, Division | None, str]


@dataclass(frozen=True)
class RouteDecision:
    """The unit a case goes to: an organisation or a division (the committee for small matters, the
    street for 属地兜底), the rule that decided it (None for the category's default or the
    fallback) and a reason in words, kept on the case as ``route_note``."""

    org: Organisation | None
    division: Division | None
    rule: RoutingRule | None
    reason: str
    fallback: bool = False

    @property
    def handler(self) -> str:
        """The handler as written in event snapshots: ``org:<id>`` or a division code."""
        if self.org is not None:
            return f"org:{self.org.pk}"
        return self.division.code if self.division is not None else ""

    @property
    def unit_name(self) -> str:
        if self.org is not None:
            return self.org.name
        return self.division.name if self.division is not None else ""


@dataclass(frozen=True)
class Target:
    """What a rule (or the category's default) asks for."""

    rule: RoutingRule | None
    responsible_kind: str
    sector: str
    organisation: Organisation | None

    def describe(self) -> str:
        if self.organisation is not None:
            return self.organisation.name
        label = str(ResponsibleKind(self.responsible_kind).label)
        return with_detail(label, self.sector)


def committee_refused() -> ApiError:
    return ApiError(
        _("部门职责事项不得派给居村委：只有由居村委自行处置的小事类别才能派给居村委。"),
        code="committee_refused",
        field="division",
        status=422,
    )


def can_route_to(
    category: Category, org: Organisation | None = None, division: Division | None = None
) -> None:
    """Check a manual choice of unit (dispatch or re-dispatch with an override); raises ``ApiError``.

    Exactly one of ``org``/``division``. An organisation must be active and a responsible unit; a
    division must be an active street (属地) or committee, and a committee only for the categories
    committees handle themselves.
    """
    if (org is None) == (division is None):
        raise ApiError(_("请指定一个责任单位或属地。"), code="invalid", field="org", status=422)
    if org is not None:
        if not org.is_active:
            raise ApiError(_("该单位已停用，不能派单。"), code="inactive", field="org", status=422)
        if org.kind not in ROUTABLE_ORG_KINDS:
            raise ApiError(
                _("“%(name)s”不是案件的责任单位。") % {"name": org.name},
                code="not_routable",
                field="org",
                status=422,
            )
        return
    assert division is not None  # noqa: S101 - narrowed by the check above
    if not division.is_active:
        raise ApiError(_("该区划已撤销，不能派单。"), code="inactive", field="division", status=422)
    if division.level == DivisionLevel.COMMITTEE:
        if category.responsible_kind != ResponsibleKind.COMMITTEE:
            raise committee_refused()
        return
    if division.level != DivisionLevel.STREET:
        raise ApiError(
            _("案件只能派给责任单位、街镇或居村委。"), code="not_routable", field="division", status=422
        )


def _where_rank(rule: RoutingRule, ranks: dict[int, int]) -> int | None:
    """How local the rule is at this place (None: it does not apply here)."""
    if rule.division_id is None:
        return 0
    return ranks.get(rule.division_id)


def _what_rank(rule: RoutingRule, category: Category) -> int | None:
    """How closely the rule names the category (None: it does not apply to it)."""
    if rule.category_id is not None:
        return 3 if rule.category_id == category.pk else None
    if rule.kind and rule.kind != category.kind:
        return None
    if rule.major_code:
        return 2 if rule.kind and rule.major_code == category.major_code else None
    return 1 if rule.kind else 0


class RoutePlanner:
    """Routes categories at one place (district, street, optional committee and compound) with a
    fixed number of queries. Build one per place and request; ``route`` each category."""

    def __init__(
        self,
        *,
        district: Division,
        street: Division,
        committee: Division | None = None,
        compound: Compound | None = None,
        today: date | None = None,
        rules: list[RoutingRule] | None = None,
    ) -> None:
        self.district = district
        self.street = street
        self.committee = committee
        self.compound = compound
        self.today = today or timezone.localdate()
        # Location rank of each division on the path (the city, if known, ranks as city-wide).
        self._ranks: dict[int, int] = {district.pk: 1, street.pk: 2}
        if committee is not None:
            self._ranks[committee.pk] = 3
        self._city_id = district.parent_id
        if self._city_id is not None:
            self._ranks[self._city_id] = 0
        self._rules = rules
        self._orgs: list[Organisation] | None = None
        self._data: RoutingData | None = None
        self._property_link: tuple[Organisation | None] | None = None

    # --- data, loaded once ------------------------------------------------------------------------

    def _load(self) -> RoutingData:
        """The process's routing data and the compound's property company, with one token read."""
        if self._data is None:
            with revisions_pinned():
                self._data = routing_data()
                company = None
                if self.compound is not None:
                    company = property_company(self.compound.pk, on=self.today)
                self._property_link = (company,)
        return self._data

    @property
    def rules(self) -> list[RoutingRule]:
        if self._rules is None:
            ranks = self._ranks
            self._rules = [
                rule for rule in self._load().rules if rule.division_id is None or rule.division_id in ranks
            ]
        return self._rules

    def _path_orgs(self) -> list[Organisation]:
        if self._orgs is None:
            by_division = self._load().orgs_by_division
            ids = [None, *(pk for pk in (self._city_id, self.district.pk, self.street.pk) if pk is not None)]
            found = {org.pk: org for key in ids for org in by_division.get(key, ())}
            self._orgs = [found[pk] for pk in sorted(found)]
        return self._orgs

    def _property_company(self) -> Organisation | None:
        self._load()
        return self._property_link[0] if self._property_link is not None else None

    # --- choosing -----------------------------------------------------------------------------------

    def targets(self, category: Category) -> list[Target]:
        """What is asked for this category here, in the order tried: the applicable rules (most
        specific first), then the category's default."""
        ranked: list[tuple[int, int, int, int, RoutingRule]] = []
        for rule in self.rules:
            where = _where_rank(rule, self._ranks)
            what = _what_rank(rule, category)
            if where is None or what is None:
                continue
            ranked.append((-where, -what, rule.priority, rule.pk, rule))
        ranked.sort(key=lambda row: row[:4])
        found = [Target(r, r.responsible_kind, r.responsible_sector, r.organisation) for *_k, r in ranked]
        found.append(Target(None, category.responsible_kind, category.responsible_sector, None))
        return found

    def _resolve(self, target: Target, category: Category) -> Resolved:
        """The unit of one target, or (None, None, why not)."""
        if target.organisation is not None:
            if target.organisation.is_active:
                return target.organisation, None, ""
            return None, None, _("指定的单位已停用")
        resolvers: dict[str, Callable[[Target, Category], Resolved]] = {
            ResponsibleKind.COMMITTEE: self._committee,
            ResponsibleKind.PROPERTY_COMPANY: self._property,
            ResponsibleKind.STREET_OFFICE: self._street_office,
            ResponsibleKind.DEPARTMENT_BRANCH: self._by_sector,
            ResponsibleKind.UTILITY: self._by_sector,
        }
        resolver = resolvers.get(target.responsible_kind)
        if resolver is None:  # pragma: no cover - the kinds are a database constraint
            return None, None, _("未知的责任单位类型")
        return resolver(target, category)

    def _committee(self, target: Target, category: Category) -> Resolved:
        if category.responsible_kind != ResponsibleKind.COMMITTEE:
            return None, None, _("部门职责事项不得派给居村委")
        if self.committee is None:
            return None, None, _("未定位到居村委")
        return None, self.committee, ""

    def _property(self, target: Target, category: Category) -> Resolved:
        if self.compound is None:
            return None, None, _("未定位到小区，无法确定物业公司")
        company = self._property_company()
        if company is None:
            return None, None, _("小区无有效的物业服务合同")
        return company, None, ""

    def _street_office(self, target: Target, category: Category) -> Resolved:
        for org in self._path_orgs():
            if org.kind == OrganisationKind.STREET_OFFICE and org.division_id == self.street.pk:
                return org, None, ""
        return None, self.street, ""

    def _by_sector(self, target: Target, category: Category) -> Resolved:
        """The organisation of the kind and sector nearest on the path: street, district, city."""
        if not target.sector:
            return None, None, _("未指定责任部门条线")
        ranks = {self.street.pk: 2, self.district.pk: 1}
        best: Organisation | None = None
        best_rank = -1
        for org in self._path_orgs():
            if org.kind != target.responsible_kind or org.sector != target.sector:
                continue
            rank = ranks.get(org.division_id or 0, 0)
            if rank > best_rank:  # organisations come by pk: the oldest wins a tie
                best, best_rank = org, rank
        if best is None:
            return None, None, _("本区域没有“%(sector)s”条线的单位") % {"sector": target.sector}
        return best, None, ""

    def route(self, category: Category) -> RouteDecision:
        notes: list[str] = []
        for target in self.targets(category):
            org, division, why = self._resolve(target, category)
            if org is None and division is None:
                source = _rule_label(target.rule) if target.rule else _("类别默认")
                notes.append(labelled(with_detail(source, target.describe()), why))
                continue
            unit = org.name if org is not None else division.name  # type: ignore[union-attr]
            if target.rule is not None:
                reason = _("按%(rule)s派给%(unit)s") % {"rule": _rule_label(target.rule), "unit": unit}
            else:
                reason = _("按类别默认责任单位（%(target)s）派给%(unit)s") % {
                    "target": target.describe(),
                    "unit": unit,
                }
            if notes:
                reason = _notes_joined([reason, *notes])
            return RouteDecision(org=org, division=division, rule=target.rule, reason=reason)
        reason = _("属地兜底：未找到可派的责任单位，由%(street)s城运中心处置") % {"street": self.street.name}
        if notes:
            reason = _notes_joined([reason, *notes])
        return RouteDecision(org=None, division=self.street, rule=None, reason=reason, fallback=True)


def _notes_joined(parts: list[str]) -> str:
    """The decision, then why the targets tried before it did not resolve."""
    return pgettext("routing notes separator", "；").join(parts)


def _rule_label(rule: RoutingRule) -> str:
    where = rule.division.name if rule.division is not None else _("全市")
    return _("派单规则#%(id)s（%(where)s）") % {"id": rule.pk, "where": where}


def route_case(
    *,
    category: Category,
    district: Division,
    street: Division,
    committee: Division | None = None,
    compound: Compound | None = None,
    planner: RoutePlanner | None = None,
) -> RouteDecision:
    """The responsible unit for a case of ``category`` at this place (see the module's docstring).

    Pass a ``planner`` built for the same place to route several cases with the rules loaded once.
    """
    if planner is None:
        planner = RoutePlanner(district=district, street=street, committee=committee, compound=compound)
    return planner.route(category)


def place_of(
    *, street: Division | None = None, committee: Division | None = None, compound: Compound | None = None
) -> dict[str, Any]:
    """The ``route_case`` place arguments from the deepest node known (compound → committee → street),
    the street and district fetched in one query."""
    if compound is not None:
        committee = compound.committee
    street_id: int | None
    if committee is not None:
        street_id = committee.parent_id
    elif street is not None:
        street_id = street.pk
    else:
        raise ApiError(_("请指定街镇、居村委或小区。"), code="invalid", field="street", status=422)
    if street_id is None:
        raise ApiError(_("无法确定所在的街镇和区。"), code="invalid", field="street", status=422)
    found = Division.objects.select_related("parent").filter(pk=street_id, level=DivisionLevel.STREET).first()
    if found is None or found.parent is None:
        raise ApiError(_("无法确定所在的街镇和区。"), code="invalid", field="street", status=422)
    return {"district": found.parent, "street": found, "committee": committee, "compound": compound}
