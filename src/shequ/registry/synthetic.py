"""A synthetic population for demonstrations, tests and load measurements.

Everything here is invented: names are drawn from common surname and given-name characters, resident
ID numbers are built to be *formally* valid (GB 11643: a Shanghai district area code, the birth date,
a sequence whose parity gives the sex, and the ISO 7064 MOD 11-2 check character), and mobile numbers
come from the 198/199 prefixes only, which the project reserves for synthetic data: a real registry
import never produces a 198/199 number flagged ``is_synthetic``. Every row this module builds has
``is_synthetic=True``.

Generation is per committee: ``committee_population`` builds the compounds, buildings, houses,
households and residents of one committee as unsaved model instances, and
``iter_committee_populations`` yields them one committee at a time, so that memory stays bounded by the
largest committee whatever the size of the run. The same ``seed`` and committee always give the same
population.

Distributions (approximate, Shanghai-like; see DOMAIN.md §4):
- households per committee: residents' committees 1,000–3,000 (mode 1,200), village committees
  200–900 (mode 400): about 9 million households for the city's 6,509 committees;
- compounds per committee: 1–4 (urban, mean 2.3), 1–3 (villages, mean 1.65): about 14,000;
- household size 1–6, mean about 2.6; three-generation households are a minority;
- age: built from household structure (elderly couples and elderly people living alone are common),
  about a quarter of the population aged 60 or over; sex ratio about 1;
- tenure: owner-occupied ~65%, rented ~25%, vacant ~5%, public rental and resettlement ~5%;
- population kind: registered residents (户籍) mostly, migrants (来沪) concentrated in rented houses,
  a few overseas residents with HK/Macau/Taiwan residence permits or foreign permanent-residence IDs;
- about 3% moved-out and 1.2% deceased records alongside the living.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shequ.places.models import Building, Compound, DivisionKind, House, HousingType, Tenure

from .models import (
    DocumentType,
    Household,
    HouseholdMember,
    Person,
    PersonStatus,
    PopulationKind,
    Relation,
    Sex,
)

# --- Identity numbers (GB 11643-1999) ----------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def gb11643_check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-character resident ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("expected 17 digits")
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_number_build(*, prefix: str, birth_date: date, sequence: int) -> str:
    """``prefix`` (6 digits) + birth date + 3-digit sequence + check character.

    The layout is shared by resident IDs (prefix: area code), HK/Macau/Taiwan residence permits
    (810000/820000/830000) and the 2023 foreign permanent-residence ID (9 + province + nationality).
    """
    body = f"{prefix}{birth_date:%Y%m%d}{sequence:03d}"
    return body + gb11643_check_character(body)


# --- Reference tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictInfo:
    name: str
    lon: float  # approximate centroid of the district's land area, WGS-84
    lat: float
    radius_km: float  # radius of the fallback disc around the centroid
    central: bool  # one of the seven central-urban districts


# Approximate WGS-84 centroids of Shanghai's 16 districts (used only when no boundary is loaded).
DISTRICTS: dict[str, DistrictInfo] = {
    "310101": DistrictInfo("黄浦区", 121.484, 31.222, 2.0, True),
    "310104": DistrictInfo("徐汇区", 121.437, 31.169, 3.5, True),
    "310105": DistrictInfo("长宁区", 121.386, 31.214, 3.5, True),
    "310106": DistrictInfo("静安区", 121.453, 31.257, 3.0, True),
    "310107": DistrictInfo("普陀区", 121.403, 31.254, 3.5, True),
    "310109": DistrictInfo("虹口区", 121.490, 31.274, 2.5, True),
    "310110": DistrictInfo("杨浦区", 121.527, 31.287, 3.5, True),
    "310112": DistrictInfo("闵行区", 121.420, 31.090, 8.0, False),
    "310113": DistrictInfo("宝山区", 121.410, 31.380, 8.0, False),
    "310114": DistrictInfo("嘉定区", 121.250, 31.350, 9.0, False),
    "310115": DistrictInfo("浦东新区", 121.650, 31.150, 15.0, False),
    "310116": DistrictInfo("金山区", 121.250, 30.820, 10.0, False),
    "310117": DistrictInfo("松江区", 121.220, 31.030, 10.0, False),
    "310118": DistrictInfo("青浦区", 121.090, 31.130, 11.0, False),
    "310120": DistrictInfo("奉贤区", 121.550, 30.910, 11.0, False),
    "310151": DistrictInfo("崇明区", 121.550, 31.620, 14.0, False),
}
DISTRICT_AREA_CODES = tuple(DISTRICTS)

SYNTHETIC_MOBILE_PREFIXES = ("198", "199")

# Surnames weighted roughly by frequency, with the names common in Shanghai (沈 顾 陆 钱 …) raised.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = tuple(max(1.0, 60.0 - i * 0.6) for i in range(len(_SURNAMES)))
_SHANGHAI_SURNAMES = "沈顾陆钱张王陈徐朱周"

# Given-name characters by generation and sex: (born before 1960, 1960–1989, 1990 and later).
_GIVEN: dict[tuple[int, str], str] = {
    (0, Sex.MALE): "国建华明德福根宝林荣生金海祥富庆忠志财发兴昌宏伟文富",
    (0, Sex.FEMALE): "秀英兰珍桂芳凤玉妹娣琴翠梅华素美宝莲菊娟芬月萍",
    (1, Sex.MALE): "伟强磊军勇杰涛斌超刚平辉鹏俊峰波亮明华东晨浩健毅",
    (1, Sex.FEMALE): "敏静丽艳娟霞燕红洁琳婷雯倩慧颖莉佳蕾薇晶瑾珏",
    (2, Sex.MALE): "轩浩宇辰睿泽博涵铭皓俊逸航晨昊杰煜恒哲瑞嘉翔",
    (2, Sex.FEMALE): "欣怡涵诗雨梓萱琪悦彤瑶妍嘉婧雯晴可馨安然蕊",
}

_FOREIGN_NAMES = (
    "约翰·史密斯",
    "玛丽亚·加西亚",
    "大卫·约翰逊",
    "田中一郎",
    "佐藤花子",
    "金敏俊",
    "朴智恩",
    "皮埃尔·马丁",
    "安娜·穆勒",
    "詹姆斯·布朗",
    "苏菲·勒菲弗",
    "林俊杰·陈",
    "迈克尔·威尔逊",
)
# ISO 3166 numeric codes used in foreign permanent-residence IDs (9 + 31 + nationality).
_NATIONALITY_CODES = ("840", "392", "410", "250", "276", "826", "036", "124", "702")

_ORIGINS = (
    "安徽省阜阳市",
    "安徽省六安市",
    "江苏省盐城市",
    "江苏省南通市",
    "河南省信阳市",
    "河南省周口市",
    "江西省上饶市",
    "四川省南充市",
    "浙江省温州市",
    "湖北省黄冈市",
    "山东省临沂市",
    "湖南省邵阳市",
    "福建省莆田市",
    "重庆市万州区",
    "贵州省遵义市",
    "甘肃省天水市",
    "黑龙江省哈尔滨市",
    "河北省邯郸市",
)
_OVERSEAS_ORIGINS = {
    "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
    "830000": "台湾地区",
}

_PLACE_WORDS = "康乐安华新兴福瑞锦绣明珠春阳光静和平美丽金玉松柏梅兰竹菊翠湖江海云霞景泰嘉禾文汇天都虹桥"
_ROAD_WORDS = ("中山", "建国", "复兴", "淮海", "长寿", "宜山", "凯旋", "漕溪", "长阳", "共和", "曹杨", "四平")
_COMPOUND_SUFFIXES: dict[str, tuple[str, ...]] = {
    HousingType.OLD: ("新村", "里", "坊", "小区"),
    HousingType.SOLD_PUBLIC: ("新村", "小区", "公寓"),
    HousingType.COMMERCIAL: ("花园", "苑", "公寓", "家园", "名邸", "华庭"),
    HousingType.MIXED: ("小区", "新苑", "家园"),
}
_GATES = ("南门", "北门", "东门", "西门", "2号门")

# Household size 1–6, mean ≈ 2.61.
_HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
_HOUSEHOLD_SIZE_WEIGHTS = (0.22, 0.31, 0.25, 0.12, 0.06, 0.04)


@dataclass(frozen=True)
class _Shape:
    """One kind of household of a given size: the head's age (low, high, mode) and who lives along."""

    weight: float
    head_age: tuple[float, float, float]
    spouse: bool = True
    children: int = 0
    parents: int = 0
    grandchildren: int = 0  # > 0: a married child and their children live here too


# Calibrated so that about a quarter of the living population is 60 or over (elderly couples and
# elderly people living alone are frequent in Shanghai).
_HOUSEHOLD_SHAPES: dict[int, tuple[_Shape, ...]] = {
    1: (_Shape(0.45, (62, 95, 72), spouse=False), _Shape(0.55, (20, 60, 30), spouse=False)),
    2: (
        _Shape(0.275, (60, 90, 68)),
        _Shape(0.275, (22, 60, 32)),
        _Shape(0.25, (45, 88, 58), spouse=False, children=1),
        _Shape(0.20, (22, 50, 32), spouse=False, parents=1),
    ),
    3: (_Shape(0.75, (27, 62, 40), children=1), _Shape(0.25, (27, 62, 40), parents=1)),
    4: (_Shape(0.45, (29, 58, 40), children=2), _Shape(0.55, (29, 58, 40), children=1, parents=1)),
    5: (_Shape(0.5, (30, 52, 38), children=1, parents=2), _Shape(0.5, (50, 75, 60), grandchildren=1)),
    6: (_Shape(0.6, (52, 78, 62), grandchildren=2), _Shape(0.4, (32, 52, 40), children=2, parents=2)),
}

_URBAN_TENURE = (
    (Tenure.OWNER_OCCUPIED, 0.65),
    (Tenure.RENTED, 0.25),
    (Tenure.PUBLIC_RENTAL, 0.02),
    (Tenure.RESETTLEMENT, 0.03),
)
_RURAL_TENURE = ((Tenure.OWNER_OCCUPIED, 0.78), (Tenure.RENTED, 0.19), (Tenure.RESETTLEMENT, 0.03))
VACANCY_SHARE = 0.05
MOVED_OUT_SHARE = 0.03
DECEASED_SHARE = 0.012

_CENTRAL_HOUSING = (
    (HousingType.OLD, 0.30),
    (HousingType.SOLD_PUBLIC, 0.30),
    (HousingType.COMMERCIAL, 0.30),
    (HousingType.MIXED, 0.10),
)
_SUBURBAN_HOUSING = (
    (HousingType.COMMERCIAL, 0.60),
    (HousingType.SOLD_PUBLIC, 0.15),
    (HousingType.OLD, 0.10),
    (HousingType.MIXED, 0.15),
)

KM_LAT = 1 / 111.0
KM_LON = 1 / (111.0 * math.cos(math.radians(31.2)))


def _pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


# --- Where things are --------------------------------------------------------------------------


class Locator:
    """Places committees and compounds inside their district.

    With a district boundary (GeoJSON, WGS-84) points are drawn inside the polygon; without one,
    around the district's approximate centroid. Street and committee centres are derived from the
    seed and their own code, so a place lands at the same point whatever else is generated.
    """

    def __init__(self, *, seed: int, boundaries: dict[str, dict[str, Any] | None] | None = None) -> None:
        self.seed = seed
        self._geometries: dict[str, Any] = {}
        for area_code, geojson in (boundaries or {}).items():
            if geojson:
                from shapely import prepare
                from shapely.geometry import shape

                geometry = shape(geojson)
                if not geometry.is_empty:
                    prepare(geometry)
                    self._geometries[area_code] = geometry
        self._street_centres: dict[str, tuple[float, float]] = {}

    def _inside(self, area_code: str, lon: float, lat: float) -> bool:
        geometry = self._geometries.get(area_code)
        if geometry is None:
            return True
        from shapely import contains_xy

        return bool(contains_xy(geometry, lon, lat))

    def _random_point(self, rng: random.Random, area_code: str) -> tuple[float, float]:
        geometry = self._geometries.get(area_code)
        if geometry is not None:
            min_lon, min_lat, max_lon, max_lat = geometry.bounds
            for _attempt in range(500):
                lon, lat = rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)
                if self._inside(area_code, lon, lat):
                    return lon, lat
            point = geometry.representative_point()
            return point.x, point.y
        info = DISTRICTS.get(area_code)
        if info is None:  # outside Shanghai's table: the city centre
            info = DISTRICTS["310101"]
        distance = info.radius_km * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        return info.lon + distance * math.cos(angle) * KM_LON, info.lat + distance * math.sin(angle) * KM_LAT

    def _jitter(
        self, rng: random.Random, area_code: str, centre: tuple[float, float], sigma_km: float
    ) -> tuple[float, float]:
        for _attempt in range(30):
            lon = centre[0] + rng.gauss(0, sigma_km) * KM_LON
            lat = centre[1] + rng.gauss(0, sigma_km) * KM_LAT
            if self._inside(area_code, lon, lat):
                return lon, lat
        return centre

    def street_centre(self, street_code: str) -> tuple[float, float]:
        if street_code not in self._street_centres:
            rng = random.Random(f"shequ-synthetic:{self.seed}:{street_code}:centre")  # noqa: S311 - invented data
            self._street_centres[street_code] = self._random_point(rng, street_code[:6])
        return self._street_centres[street_code]

    def committee_centre(
        self, rng: random.Random, committee_code: str, *, central: bool
    ) -> tuple[float, float]:
        street_code = committee_code[:9] + "000"
        return self._jitter(rng, committee_code[:6], self.street_centre(street_code), 0.7 if central else 2.0)

    def compound_point(
        self, rng: random.Random, committee_code: str, centre: tuple[float, float], *, rural: bool
    ) -> tuple[float, float]:
        lon, lat = self._jitter(rng, committee_code[:6], centre, 0.6 if rural else 0.25)
        return round(lon, 6), round(lat, 6)


# --- One committee -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitteeContext:
    """What the generator needs to know about a committee (no database access while generating)."""

    committee_id: int
    code: str
    name: str
    path: str
    kind: str
    street_name: str
    district_name: str
    # Division ids of the 16 districts, for registered addresses elsewhere in the city.
    district_ids: dict[str, int] = field(default_factory=dict)

    @property
    def street_code(self) -> str:
        return self.code[:9] + "000"

    @property
    def area_code(self) -> str:
        return self.code[:6]

    @property
    def is_village(self) -> bool:
        return self.kind == DivisionKind.VILLAGE_COMMITTEE

    @property
    def is_central(self) -> bool:
        info = DISTRICTS.get(self.area_code)
        return bool(info and info.central)


@dataclass
class CommitteePopulation:
    """The unsaved rows of one committee, in insertion order."""

    committee: CommitteeContext
    compounds: list[Compound] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    houses: list[House] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    members: list[HouseholdMember] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "compounds": len(self.compounds),
            "buildings": len(self.buildings),
            "houses": len(self.houses),
            "households": len(self.households),
            "persons": len(self.persons),
            "members": len(self.members),
        }


def committee_rng(seed: int, committee_code: str, purpose: str = "population") -> random.Random:
    return random.Random(f"shequ-synthetic:{seed}:{committee_code}:{purpose}")  # noqa: S311 - invented data


class _Generator:
    def __init__(self, ctx: CommitteeContext, *, seed: int, as_of: date, locator: Locator) -> None:
        self.ctx = ctx
        self.rng = committee_rng(seed, ctx.code)
        self.as_of = as_of
        self.locator = locator
        self.street_code = ctx.street_code
        self.population = CommitteePopulation(committee=ctx)
        self.taken_ids: set[str] = set()

    # People -------------------------------------------------------------------------------

    def name(self, sex: str, birth_year: int, surname: str | None = None) -> str:
        rng = self.rng
        if surname is None:
            if rng.random() < 0.25:
                surname = rng.choice(_SHANGHAI_SURNAMES)
            else:
                surname = rng.choices(_SURNAMES, _SURNAME_WEIGHTS)[0]
        generation = 0 if birth_year < 1960 else 1 if birth_year < 1990 else 2
        chars = _GIVEN[(generation, sex)]
        length = 1 if rng.random() < (0.15 if generation == 2 else 0.3) else 2
        return surname + "".join(rng.choice(chars) for _ in range(length))

    def birth_date(self, age: int) -> date:
        return self.as_of - timedelta(days=int((age + self.rng.random()) * 365.2425) + 1)

    def id_number(self, prefix: str, birth: date, sex: str) -> str:
        while True:
            number = id_number_build(prefix=prefix, birth_date=birth, sequence=sequence_for(self.rng, sex))
            if number not in self.taken_ids:
                self.taken_ids.add(number)
                return number

    def mobile(self, age: int) -> str:
        rng = self.rng
        if age < 12 or rng.random() > (0.8 if age >= 60 else 0.93):
            return ""
        return f"{rng.choice(SYNTHETIC_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"

    def person(
        self,
        *,
        age: int,
        sex: str,
        kind: str,
        address: str,
        compound: Compound,
        house: House | None,
        surname: str | None = None,
        status: str = PersonStatus.LIVING_HERE,
    ) -> Person:
        rng = self.rng
        ctx = self.ctx
        birth = self.birth_date(age)
        registered_division_id: int | None = None
        if kind == PopulationKind.REGISTERED:
            document_type = DocumentType.RESIDENT_ID
            # Mostly born in this district; the rest elsewhere in the city.
            area = ctx.area_code if rng.random() < 0.7 else rng.choice(DISTRICT_AREA_CODES)
            if rng.random() < 0.85:
                registered_address = address
                registered_division_id = ctx.committee_id
            else:  # 人户分离: registered elsewhere in the city
                other = rng.choice(DISTRICT_AREA_CODES)
                registered_address = (
                    f"上海市{DISTRICTS[other].name}{rng.choice(_ROAD_WORDS)}路"
                    f"{rng.randint(1, 999)}弄{rng.randint(1, 60)}号"
                )
                registered_division_id = ctx.district_ids.get(other)
            name = self.name(sex, birth.year, surname)
            prefix = area
        elif kind == PopulationKind.MIGRANT:
            document_type = DocumentType.RESIDENT_ID
            prefix = rng.choice(DISTRICT_AREA_CODES)
            registered_address = rng.choice(_ORIGINS)
            name = self.name(sex, birth.year, surname)
        else:
            roll = rng.random()
            if roll < 0.55:
                prefix = rng.choice(tuple(_OVERSEAS_ORIGINS))
                document_type = (
                    DocumentType.TAIWAN_RESIDENCE_PERMIT
                    if prefix == "830000"
                    else DocumentType.HK_MACAU_RESIDENCE_PERMIT
                )
                registered_address = _OVERSEAS_ORIGINS[prefix]
                name = self.name(sex, birth.year, surname)
            else:
                nationality = rng.choice(_NATIONALITY_CODES)
                prefix = f"931{nationality}"
                document_type = DocumentType.FOREIGN_PERMANENT_RESIDENCE
                registered_address = ""
                name = rng.choice(_FOREIGN_NAMES)
        person = Person(
            name=name,
            document_type=document_type,
            id_number=self.id_number(prefix, birth, sex),
            birth_date=birth,
            sex=sex,
            mobile=self.mobile(age),
            population_kind=kind,
            registered_address=registered_address,
            registered_division_id=registered_division_id,
            house=house,
            status=status,
            street_code=self.street_code,
            path=compound.path,
            is_synthetic=True,
        )
        self.population.persons.append(person)
        return person

    def household_people(self, size: int) -> list[tuple[str, int, str]]:
        """(relation, age, sex) of each member, head first."""
        rng = self.rng
        shapes = _HOUSEHOLD_SHAPES[size]
        shape = rng.choices(shapes, [s.weight for s in shapes])[0]
        head_sex = Sex.MALE if rng.random() < 0.55 else Sex.FEMALE
        members: list[tuple[str, int, str]] = []

        def add(relation: str, age: float, sex: str | None = None) -> None:
            members.append(
                (relation, max(0, min(100, round(age))), sex or rng.choice((Sex.MALE, Sex.FEMALE)))
            )

        head_age = rng.triangular(*shape.head_age)
        add(Relation.HEAD, head_age, head_sex)
        if shape.spouse:
            add(
                Relation.SPOUSE, head_age + rng.gauss(-1, 3), Sex.FEMALE if head_sex == Sex.MALE else Sex.MALE
            )
        first_child = head_age - rng.uniform(24, 34)
        for i in range(shape.children):
            add(Relation.CHILD, max(0, first_child - i * rng.uniform(2, 6)))
        if shape.parents:
            base = head_age + rng.uniform(24, 32)
            sexes = (Sex.FEMALE, Sex.MALE) if shape.parents == 2 else (rng.choice((Sex.MALE, Sex.FEMALE)),)
            for sex in sexes:
                add(Relation.PARENT, min(100, base + rng.gauss(0, 2)), sex)
        if shape.grandchildren:
            # Three generations downward: a married child and their children.
            child_age = head_age - rng.uniform(25, 32)
            add(Relation.CHILD, child_age)
            add(Relation.CHILD_IN_LAW, child_age + rng.gauss(0, 2))
            for i in range(shape.grandchildren):
                add(Relation.GRANDCHILD, max(0, child_age - rng.uniform(25, 32) - i * rng.uniform(2, 5)))
        return members[:size]

    # Places -------------------------------------------------------------------------------

    def compound(
        self, index: int, housing_type: str, households: int, centre: tuple[float, float]
    ) -> Compound:
        rng = self.rng
        ctx = self.ctx
        rural = housing_type == HousingType.RURAL_HOMESTEAD
        if rural:
            village = ctx.name.removesuffix("村民委员会").removesuffix("村委会")
            name = f"{village}{rng.choice(_SHANGHAI_SURNAMES)}家宅"
        else:
            name = (
                rng.choice(_PLACE_WORDS)
                + rng.choice(_PLACE_WORDS)
                + rng.choice(_COMPOUND_SUFFIXES[housing_type])
            )
        code = f"{ctx.code}{index:03d}"
        lon, lat = self.locator.compound_point(rng, ctx.code, centre, rural=rural)
        walled = not rural and (housing_type != HousingType.OLD or rng.random() < 0.5)
        managed = not rural and (housing_type == HousingType.COMMERCIAL or rng.random() < 0.75)
        gates = (
            [] if rural else rng.sample(_GATES, rng.randint(1, 3 if housing_type == HousingType.OLD else 4))
        )
        compound = Compound(
            code=code,
            name=name,
            committee_id=ctx.committee_id,
            path=f"{ctx.path}{code}/",
            housing_type=housing_type,
            is_walled=walled,
            has_property_manager=managed,
            is_rural_homestead=rural,
            entrances=[{"name": gate, "open": i == 0 or rng.random() < 0.6} for i, gate in enumerate(gates)],
            household_count=households,
            lon=lon,
            lat=lat,
            is_synthetic=True,
        )
        self.population.compounds.append(compound)
        return compound

    def buildings_and_houses(self, compound: Compound, house_count: int) -> list[House]:
        rng = self.rng
        houses: list[House] = []
        number = 0
        while len(houses) < house_count:
            number += 1
            style = compound.housing_type
            if style == HousingType.MIXED:
                style = HousingType.COMMERCIAL if rng.random() < 0.5 else HousingType.SOLD_PUBLIC
            if style == HousingType.RURAL_HOMESTEAD:
                floors, units, per_floor, area = rng.randint(2, 3), 1, 1, (150, 300)
            elif style == HousingType.COMMERCIAL and rng.random() < 0.6:
                floors, units, per_floor, area = (
                    rng.randint(11, 33),
                    rng.randint(1, 2),
                    rng.randint(2, 4),
                    (70, 180),
                )
            elif style == HousingType.COMMERCIAL:
                floors, units, per_floor, area = 6, rng.randint(2, 3), 2, (70, 140)
            elif style == HousingType.OLD:
                floors, units, per_floor, area = rng.randint(4, 6), rng.randint(1, 4), 2, (28, 60)
            else:
                floors, units, per_floor, area = rng.choice((5, 6, 6, 6, 7)), rng.randint(2, 4), 2, (40, 80)
            building = Building(
                compound=compound, number=str(number), floors=floors, units=units, is_synthetic=True
            )
            self.population.buildings.append(building)
            rural = style == HousingType.RURAL_HOMESTEAD
            # A rural homestead is one house over all its floors.
            for unit in range(1, units + 1):
                for floor in range(1, (1 if rural else floors) + 1):
                    for room in range(1, per_floor + 1):
                        if len(houses) >= house_count:
                            break
                        houses.append(
                            House(
                                building=building,
                                unit="" if units == 1 else f"{unit}单元",
                                room="1" if rural else f"{floor}{room:02d}",
                                floor=1 if rural else floor,
                                area_m2=Decimal(rng.randrange(area[0] * 100, area[1] * 100)) / 100,
                                tenure=Tenure.VACANT,
                                is_synthetic=True,
                            )
                        )
        self.population.houses.extend(houses)
        return houses

    def address(self, compound: Compound, house: House) -> str:
        ctx = self.ctx
        return (
            f"上海市{ctx.district_name}{ctx.street_name}{compound.name}"
            f"{house.building.number}号{house.unit}{house.room}{'' if house.room == '1' else '室'}"
        )

    def fill_house(self, compound: Compound, house: House, tenure: str) -> None:
        rng = self.rng
        house.tenure = tenure
        if tenure == Tenure.RENTED:
            kind_roll = (0.23, 0.98)
        elif tenure == Tenure.OWNER_OCCUPIED:
            kind_roll = (0.88, 0.99)
        else:
            kind_roll = (1.0, 1.0)
        roll = rng.random()
        kind = (
            PopulationKind.REGISTERED
            if roll < kind_roll[0]
            else PopulationKind.MIGRANT
            if roll < kind_roll[1]
            else PopulationKind.OVERSEAS
        )
        if kind == PopulationKind.OVERSEAS and compound.housing_type == HousingType.RURAL_HOMESTEAD:
            kind = PopulationKind.MIGRANT
        size = rng.choices(_HOUSEHOLD_SIZES, _HOUSEHOLD_SIZE_WEIGHTS)[0]
        people = self.household_people(size)
        address = self.address(compound, house)
        household = Household(
            house=house, street_code=self.street_code, path=compound.path, is_synthetic=True
        )
        surname: str | None = None
        for relation, age, sex in people:
            # Children and grandchildren usually take the head's surname.
            inherit = relation in (Relation.CHILD, Relation.GRANDCHILD) and rng.random() < 0.85
            person = self.person(
                age=age,
                sex=sex,
                kind=kind,
                address=address,
                compound=compound,
                house=house,
                surname=surname if inherit else None,
            )
            if relation == Relation.HEAD:
                household.head = person
                surname = person.name[0] if kind != PopulationKind.OVERSEAS else None
            self.population.members.append(
                HouseholdMember(
                    household=household,
                    person=person,
                    relation=relation,
                    street_code=self.street_code,
                    is_synthetic=True,
                )
            )
        self.population.households.append(household)

    def former_residents(self, compounds: list[Compound], living: int) -> None:
        """Moved-out and deceased records: kept in the registry, no longer living in a house."""
        rng = self.rng
        for count, status, ages in (
            (round(living * MOVED_OUT_SHARE), PersonStatus.MOVED_OUT, (18, 60, 30)),
            (round(living * DECEASED_SHARE), PersonStatus.DECEASED, (60, 100, 82)),
        ):
            for _ in range(count):
                compound = rng.choice(compounds)
                self.person(
                    age=round(rng.triangular(*ages)),
                    sex=rng.choice((Sex.MALE, Sex.FEMALE)),
                    kind=PopulationKind.REGISTERED,
                    address=f"上海市{self.ctx.district_name}{self.ctx.street_name}{compound.name}",
                    compound=compound,
                    house=None,
                    status=status,
                )

    # The committee ------------------------------------------------------------------------

    def run(self) -> CommitteePopulation:
        rng = self.rng
        ctx = self.ctx
        if ctx.is_village:
            households = round(rng.triangular(200, 900, 400))
            compound_count = rng.choices((1, 2, 3), (0.5, 0.35, 0.15))[0]
        else:
            households = round(rng.triangular(1000, 3000, 1200))
            compound_count = rng.choices((1, 2, 3, 4), (0.25, 0.35, 0.25, 0.15))[0]
        shares = [rng.uniform(0.5, 1.5) for _ in range(compound_count)]
        split = [int(households * s / sum(shares)) for s in shares]
        split[0] += households - sum(split)
        centre = self.locator.committee_centre(rng, ctx.code, central=ctx.is_central)
        compounds: list[Compound] = []
        for index, compound_households in enumerate(split, start=1):
            if ctx.is_village:
                housing_type = (
                    HousingType.RURAL_HOMESTEAD if index == 1 or rng.random() < 0.7 else HousingType.MIXED
                )
            else:
                housing_type = _pick(rng, _CENTRAL_HOUSING if ctx.is_central else _SUBURBAN_HOUSING)
            compound = self.compound(index, housing_type, compound_households, centre)
            compounds.append(compound)
            house_count = max(compound_households, round(compound_households / (1 - VACANCY_SHARE)))
            houses = self.buildings_and_houses(compound, house_count)
            occupied = rng.sample(range(len(houses)), compound_households)
            tenure_table = _RURAL_TENURE if housing_type == HousingType.RURAL_HOMESTEAD else _URBAN_TENURE
            for i in sorted(occupied):
                self.fill_house(compound, houses[i], _pick(rng, tenure_table))
        living = len(self.population.persons)
        self.former_residents(compounds, living)
        return self.population


def sequence_for(rng: random.Random, sex: str) -> int:
    """A 3-digit sequence whose parity gives the sex (odd: male, even: female)."""
    return rng.randrange(0, 500) * 2 + (1 if sex == Sex.MALE else 0)


def id_number_reissue(person: Person, rng: random.Random) -> None:
    """Give ``person`` another sequence number (same prefix, birth date and sex)."""
    assert person.birth_date is not None  # noqa: S101 - synthetic persons always have one
    person.id_number = id_number_build(
        prefix=person.id_number[:6], birth_date=person.birth_date, sequence=sequence_for(rng, person.sex)
    )


def committee_population(
    ctx: CommitteeContext, *, seed: int, as_of: date, locator: Locator | None = None
) -> CommitteePopulation:
    """All rows of one committee, unsaved. Deterministic for (seed, committee code, as_of)."""
    return _Generator(ctx, seed=seed, as_of=as_of, locator=locator or Locator(seed=seed)).run()


def iter_committee_populations(
    committees: Iterable[CommitteeContext], *, seed: int, as_of: date, locator: Locator | None = None
) -> Iterator[CommitteePopulation]:
    """One committee at a time: nothing of a committee is built before the previous one is consumed."""
    locator = locator or Locator(seed=seed)
    for ctx in committees:
        yield committee_population(ctx, seed=seed, as_of=as_of, locator=locator)
