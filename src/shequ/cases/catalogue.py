"""The seed of the dispatch catalogue (派单目录, DOMAIN.md §5), shaped like GB/T 30428.

Codes: kind letter (``P`` 部件 city parts, ``E`` 事件 events) + 2-digit 大类 + 2-digit 小类. The 大类 of
parts follow GB/T 30428.2 (01 公用设施, 02 道路交通, 03 市容环境, 04 园林绿化, 05 房屋土地, 06 其他设施);
the 大类 of events follow GB/T 30428.3 (01 市容环境 … 05 街面秩序) and add the 12345 hotline's
neighbourhood groups (06 物业管理, 07 噪声扰民, 08 邻里事务, 09 其他事件).

Deadlines are the handling time limits of city practice: 暴露垃圾 1 工作日, 道路不洁 5 工作时, 积存渣土
4 工作日, 违法搭建 15 工作日; hotline norms for the rest (urgent matters 0.5 小时, enquiries 3 工作日,
general matters 5 工作日, complaints 15 工作日, long-cycle matters such as land and demolition 180
自然日). Responsible sectors match ``Organisation.sector`` of department branches and utilities.

Small neighbourhood matters (小事快办: mediation, clutter in stairwells of compounds without a property
manager, small repairs of common lighting …) are the committee's own (``responsible_kind=committee``);
department work is never given to committees (2025 12345 opinion).

Emergency matters (fire 119, crime 110, medical 120, traffic accidents 122) are not cases: they are in
the catalogue, public, so that the resident's form can recognise them and stop with the number.

``catalogue_seed`` is used by the data migration and may be run again: codes already present are left
as they are (an administrator may have edited them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

# Plain values (the choices of ``models``), so that the historical model of a migration can use them.
PART, EVENT = "part", "event"
NORMAL, URGENT, VERY_URGENT = "normal", "urgent", "very_urgent"
WORK_HOURS, WORK_DAYS, HOURS, CALENDAR_DAYS = "work_hours", "work_days", "hours", "calendar_days"
BRANCH, STREET, PROPERTY, UTILITY, COMMITTEE = (
    "department_branch",
    "street_office",
    "property_company",
    "utility",
    "committee",
)

# Sectors (``Organisation.sector``).
CHENGGUAN = "城管"
LVHUA = "绿化市容"
SHIZHENG = "市政道路"
FANGGUAN = "房管"
SHUIWU = "水务"
DIANLI = "电力"
RANQI = "燃气"
TONGXIN = "通信"
SHICHANG = "市场监管"
GONGAN = "公安"
SHENGTAI = "生态环境"
JIAOTONG = "交通"
XIAOFANG = "消防"
WEIJIAN = "卫健"
GUIHUA = "规划资源"

MAJORS: dict[tuple[str, str], str] = {
    (PART, "01"): "公用设施",
    (PART, "02"): "道路交通",
    (PART, "03"): "市容环境",
    (PART, "04"): "园林绿化",
    (PART, "05"): "房屋土地",
    (PART, "06"): "其他设施",
    (EVENT, "01"): "市容环境",
    (EVENT, "02"): "宣传广告",
    (EVENT, "03"): "施工管理",
    (EVENT, "04"): "突发事件",
    (EVENT, "05"): "街面秩序",
    (EVENT, "06"): "物业管理",
    (EVENT, "07"): "噪声扰民",
    (EVENT, "08"): "邻里事务",
    (EVENT, "09"): "其他事件",
}

DEFAULT_RADIUS_M = 250


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    keywords: str
    registration_condition: str
    closing_condition: str
    deadline_amount: Decimal
    deadline_unit: str
    urgency: str
    responsible_kind: str
    responsible_sector: str
    check_required: bool = True
    duplicate_radius_m: int = DEFAULT_RADIUS_M
    emergency_service: str = ""
    is_public: bool = True

    @property
    def kind(self) -> str:
        return PART if self.code[0] == "P" else EVENT

    @property
    def major_code(self) -> str:
        return self.code[1:3]

    @property
    def minor_code(self) -> str:
        return self.code[3:5]

    @property
    def major_name(self) -> str:
        return MAJORS[(self.kind, self.major_code)]

    def row(self, sort: int) -> dict[str, Any]:
        values = asdict(self)
        values.update(
            kind=self.kind,
            major_code=self.major_code,
            minor_code=self.minor_code,
            major_name=self.major_name,
            sort=sort,
        )
        return values


def _c(  # noqa: PLR0917 - one table row, read positionally
    code: str,
    name: str,
    keywords: str,
    registration: str,
    closing: str,
    deadline: tuple[float | int, str],
    urgency: str,
    responsible: tuple[str, str],
    *,
    check: bool = True,
    radius: int = DEFAULT_RADIUS_M,
    emergency: str = "",
    public: bool = True,
) -> CategorySpec:
    amount, unit = deadline
    kind, sector = responsible
    return CategorySpec(
        code=code,
        name=name,
        keywords=keywords,
        registration_condition=registration,
        closing_condition=closing,
        deadline_amount=Decimal(str(amount)),
        deadline_unit=unit,
        urgency=urgency,
        responsible_kind=kind,
        responsible_sector=sector,
        check_required=check,
        duplicate_radius_m=radius,
        emergency_service=emergency,
        is_public=public,
    )


CATALOGUE: tuple[CategorySpec, ...] = (
    # --- 部件 01 公用设施 ------------------------------------------------------------------------
    _c(
        "P0101",
        "上水井盖",
        "井盖 自来水 供水 窨井 缺失 破损 松动 下陷",
        "供水管道井盖缺失、破损、移位、松动或与路面高差明显，存在安全隐患",
        "井盖补齐或更换，安装平稳牢固，与路面齐平",
        (4, HOURS),
        URGENT,
        (UTILITY, SHUIWU),
        radius=50,
    ),
    _c(
        "P0102",
        "污水雨水井盖",
        "井盖 下水道 污水 雨水 排水 窨井 缺失 破损 冒溢",
        "排水井盖、雨水篦子缺失、破损、移位，或井口冒溢污水",
        "井盖、雨水篦子补齐或更换，井口无冒溢，周边清理干净",
        (4, HOURS),
        URGENT,
        (UTILITY, SHUIWU),
        radius=50,
    ),
    _c(
        "P0103",
        "电力设施",
        "电力 电线 电缆 变电箱 电箱 井盖 漏电 裸露",
        "电力井盖、箱式变电站、配电箱、架空线缆破损、门锁损坏或线缆裸露垂落",
        "设施修复，箱门闭锁，线缆无裸露、无垂落，现场安全",
        (1, WORK_DAYS),
        URGENT,
        (UTILITY, DIANLI),
        radius=50,
    ),
    _c(
        "P0104",
        "燃气设施",
        "燃气 煤气 天然气 调压箱 燃气井盖 管道 破损",
        "燃气井盖、调压箱、沿墙燃气管道破损、锈蚀或标识缺失（闻到燃气味请按燃气泄漏报告）",
        "设施修复或更换，标识齐全，经燃气公司检测无泄漏",
        (1, WORK_DAYS),
        URGENT,
        (UTILITY, RANQI),
        radius=50,
    ),
    _c(
        "P0105",
        "通信设施",
        "通信 电信 移动 联通 光缆 交接箱 通信井盖 线缆 乱拉",
        "通信井盖、交接箱、电杆破损，通信线缆垂落、乱拉乱挂",
        "设施修复，线缆规整绑扎，无垂落、无乱拉",
        (3, WORK_DAYS),
        NORMAL,
        (UTILITY, TONGXIN),
        radius=50,
    ),
    _c(
        "P0106",
        "路灯",
        "路灯 灯杆 不亮 熄灭 倾斜 照明 灯",
        "道路路灯不亮、白天长明、灯杆倾斜或灯具破损",
        "路灯恢复正常亮灭，灯杆、灯具完好",
        (3, WORK_DAYS),
        NORMAL,
        (BRANCH, SHIZHENG),
        radius=100,
    ),
    _c(
        "P0107",
        "消火栓",
        "消火栓 消防栓 漏水 损坏 被埋 占用",
        "室外消火栓损坏、漏水、缺失部件或被圈占、埋压、遮挡",
        "消火栓修复，无漏水，周边无圈占遮挡，可正常使用",
        (3, WORK_DAYS),
        URGENT,
        (BRANCH, XIAOFANG),
        radius=50,
    ),
    _c(
        "P0108",
        "公共区域照明小修",
        "楼道灯 走廊灯 声控灯 不亮 灯泡 公共照明 无物业",
        "无物业管理的住宅小区内楼道灯、弄堂灯不亮，需更换灯泡或开关",
        "照明恢复，灯具、开关正常",
        (3, WORK_DAYS),
        NORMAL,
        (COMMITTEE, ""),
        check=False,
        radius=50,
    ),
    # --- 部件 02 道路交通 ------------------------------------------------------------------------
    _c(
        "P0201",
        "道路破损",
        "道路 路面 坑洼 坑 塌陷 裂缝 沉降 破损 马路",
        "机动车道、非机动车道路面坑槽、沉陷、拥包、裂缝，影响通行安全",
        "路面修补平整，与原路面齐平，无积水、无杂物",
        (5, WORK_DAYS),
        NORMAL,
        (BRANCH, SHIZHENG),
        radius=100,
    ),
    _c(
        "P0202",
        "人行道及盲道破损",
        "人行道 道板 盲道 松动 破损 翘起 缺失",
        "人行道板松动、破损、缺失，盲道中断或被损坏",
        "道板、盲道修复平整，盲道连续贯通",
        (5, WORK_DAYS),
        NORMAL,
        (BRANCH, SHIZHENG),
        radius=100,
    ),
    _c(
        "P0203",
        "交通信号灯及标志",
        "红绿灯 信号灯 交通灯 故障 不亮 标志牌 标线 倒伏",
        "交通信号灯故障、不亮或配时异常，交通标志牌缺失、倒伏、遮挡，标线模糊",
        "信号灯恢复正常，标志牌、标线完好清晰",
        (4, HOURS),
        URGENT,
        (BRANCH, JIAOTONG),
        radius=100,
    ),
    _c(
        "P0204",
        "道路护栏及隔离设施",
        "护栏 隔离栏 隔离墩 防撞 栏杆 损坏 倒伏",
        "道路护栏、隔离栏、隔离墩损坏、倒伏或缺失",
        "护栏、隔离设施修复或补齐，安装牢固",
        (3, WORK_DAYS),
        NORMAL,
        (BRANCH, SHIZHENG),
        radius=100,
    ),
    _c(
        "P0205",
        "公交站亭",
        "公交站 候车亭 站牌 站亭 破损 玻璃",
        "公交候车亭、站牌破损、玻璃碎裂或信息缺失",
        "候车亭、站牌修复，信息完整，无碎片残留",
        (5, WORK_DAYS),
        NORMAL,
        (BRANCH, JIAOTONG),
        radius=100,
    ),
    _c(
        "P0206",
        "道路设施改造",
        "道路改造 拓宽 大修 断头路 积水点 改建",
        "道路长期积水、断头路、通行能力不足等需列入改造计划的道路设施问题",
        "已列入改造计划并告知进度，或改造完成",
        (180, CALENDAR_DAYS),
        NORMAL,
        (BRANCH, SHIZHENG),
        check=False,
        radius=500,
    ),
    # --- 部件 03 市容环境 ------------------------------------------------------------------------
    _c(
        "P0301",
        "废物箱",
        "垃圾桶 果壳箱 废物箱 垃圾箱 破损 缺失 满溢",
        "道路废物箱（果壳箱）破损、缺失、倾倒或满溢",
        "废物箱修复或更换，清运干净，周边无散落垃圾",
        (2, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
        radius=50,
    ),
    _c(
        "P0302",
        "公共厕所",
        "公厕 公共厕所 厕所 卫生间 脏 堵 臭 损坏",
        "公共厕所设施损坏、堵塞、无水，或保洁不到位、异味明显",
        "设施修复，正常开放，保洁达标",
        (2, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
        radius=100,
    ),
    _c(
        "P0303",
        "户外广告及店招设施",
        "广告牌 店招 招牌 灯箱 松动 坠落 破损",
        "户外广告牌、店招店牌、灯箱破损、松动，存在坠落风险",
        "设施加固、修复或拆除，无坠落隐患",
        (1, WORK_DAYS),
        URGENT,
        (BRANCH, CHENGGUAN),
        radius=50,
    ),
    # --- 部件 04 园林绿化 ------------------------------------------------------------------------
    _c(
        "P0401",
        "行道树倒伏及断枝",
        "树 大树 倒伏 断枝 枯枝 歪倒 行道树 台风",
        "行道树、绿地树木倒伏、断枝、枯枝悬挂，危及行人、车辆或房屋",
        "倒伏树木扶正或移除，断枝枯枝清理，现场无安全隐患",
        (4, HOURS),
        URGENT,
        (BRANCH, LVHUA),
        radius=100,
    ),
    _c(
        "P0402",
        "绿地损坏",
        "绿地 草坪 绿化带 踩踏 毁绿 缺株 黄土裸露",
        "公共绿地被踩踏、毁坏、侵占，绿化带缺株、黄土裸露",
        "绿地恢复或补种，侵占物清除",
        (5, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
    ),
    _c(
        "P0403",
        "树木修剪",
        "修剪 树枝 遮挡 采光 挡光 挡路 树木 影响",
        "公共绿地或行道树树枝遮挡采光、信号灯、路灯或影响通行",
        "按养护规范修剪完毕，遮挡消除",
        (10, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
    ),
    # --- 部件 05 房屋土地 ------------------------------------------------------------------------
    _c(
        "P0501",
        "小区公共设施损坏",
        "小区 门禁 单元门 围墙 道闸 公共设施 损坏 物业",
        "有物业管理的住宅小区内门禁、单元门、围墙、道闸等公共设施损坏",
        "设施修复，恢复正常使用",
        (3, WORK_DAYS),
        NORMAL,
        (PROPERTY, ""),
    ),
    _c(
        "P0502",
        "电梯故障",
        "电梯 故障 停运 异响 困人 维保",
        "住宅电梯停运、故障、异响（有人员被困请立即拨打 96333 电梯应急救援电话或 110）",
        "电梯修复并经维保单位确认运行正常",
        (4, HOURS),
        URGENT,
        (PROPERTY, ""),
        radius=50,
    ),
    _c(
        "P0503",
        "房屋公共部位渗漏",
        "渗水 漏水 屋顶 外墙 渗漏 公共部位 天沟",
        "住宅屋面、外墙、公共管道等公共部位渗漏，影响居民正常生活",
        "渗漏点修复，经业主确认不再渗漏",
        (5, WORK_DAYS),
        NORMAL,
        (PROPERTY, ""),
        radius=50,
    ),
    _c(
        "P0504",
        "无物业小区公共设施维修",
        "老旧小区 无物业 公共设施 维修 托底 下水道 化粪池",
        "无物业管理的老旧小区内下水道、化粪池、公共部位等设施损坏，需街镇托底维修",
        "设施修复，恢复正常使用",
        (5, WORK_DAYS),
        NORMAL,
        (STREET, ""),
    ),
    # --- 部件 06 其他设施 ------------------------------------------------------------------------
    _c(
        "P0601",
        "健身器材",
        "健身器材 健身点 运动器材 损坏 松动 锈蚀",
        "社区公共健身点器材损坏、松动、锈蚀，存在安全隐患",
        "器材修复、更换或停用警示，无安全隐患",
        (5, WORK_DAYS),
        NORMAL,
        (STREET, ""),
        radius=100,
    ),
    _c(
        "P0602",
        "非机动车充电设施",
        "充电桩 充电柜 电瓶车 电动自行车 充电 损坏",
        "公共区域电动自行车充电桩、充电柜损坏、缺少或存在用电隐患",
        "充电设施修复或增设，用电安全",
        (5, WORK_DAYS),
        NORMAL,
        (STREET, ""),
        radius=100,
    ),
    _c(
        "P0603",
        "公共座椅及信息亭",
        "座椅 长椅 信息亭 报刊亭 损坏",
        "道路、广场公共座椅、信息亭损坏或废弃",
        "设施修复或移除，场地恢复整洁",
        (5, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
        radius=100,
    ),
    # --- 事件 01 市容环境 ------------------------------------------------------------------------
    _c(
        "E0101",
        "暴露垃圾",
        "垃圾 暴露垃圾 堆放 乱倒 积存 臭 脏",
        "公共区域有暴露垃圾、积存垃圾",
        "垃圾清除，地面无残留",
        (1, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
        radius=100,
    ),
    _c(
        "E0102",
        "道路不洁",
        "道路 脏 不干净 油污 泥浆 落叶 清扫 保洁",
        "道路、人行道有明显污迹、油渍、泥浆、散落物，保洁不到位",
        "路面清扫冲洗干净，无污迹、无散落物",
        (5, WORK_HOURS),
        NORMAL,
        (BRANCH, LVHUA),
        radius=100,
    ),
    _c(
        "E0103",
        "积存渣土",
        "渣土 建筑垃圾 装修垃圾 碎砖 堆放 积存",
        "公共区域积存渣土、建筑垃圾或装修垃圾",
        "渣土清运完毕，场地平整无残留",
        (4, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
        radius=100,
    ),
    _c(
        "E0104",
        "乱涂写乱张贴",
        "涂鸦 乱涂 乱写 乱张贴 刻画 墙面",
        "建筑物、构筑物、公共设施上乱涂写、乱刻画、乱张贴",
        "涂写张贴物清除，墙面、设施恢复整洁",
        (2, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
        radius=100,
    ),
    _c(
        "E0105",
        "沿街晾晒",
        "晾晒 晾衣 吊挂 沿街 乱挂",
        "沿街、沿道路两侧乱晾晒、乱吊挂衣物杂物",
        "晾晒吊挂物撤除，沿街面整洁",
        (2, WORK_DAYS),
        NORMAL,
        (BRANCH, CHENGGUAN),
        check=False,
    ),
    _c(
        "E0106",
        "垃圾箱房满溢",
        "垃圾箱房 垃圾房 满溢 分类 清运 不及时 湿垃圾",
        "小区外或公共区域垃圾箱房满溢、未按时清运，或混装混运",
        "垃圾清运完毕，箱房及周边整洁，分类收运",
        (1, WORK_DAYS),
        NORMAL,
        (BRANCH, LVHUA),
        radius=100,
    ),
    _c(
        "E0107",
        "动物尸体",
        "动物尸体 死猫 死狗 死老鼠 死鸟 腐烂",
        "道路、绿地等公共区域有动物尸体",
        "动物尸体清除并消毒，无残留",
        (4, WORK_HOURS),
        URGENT,
        (BRANCH, LVHUA),
        radius=100,
    ),
    _c(
        "E0108",
        "小区内暴露垃圾",
        "小区 垃圾 保洁 物业 暴露 堆放 不清运",
        "有物业管理的小区内道路、绿地、楼道口有暴露垃圾或积存垃圾",
        "垃圾清除，地面无残留",
        (1, WORK_DAYS),
        NORMAL,
        (PROPERTY, ""),
        radius=100,
    ),
    # --- 事件 02 宣传广告 ------------------------------------------------------------------------
    _c(
        "E0201",
        "非法小广告",
        "小广告 牛皮癣 办证 喷涂 电线杆 小卡片",
        "公共区域张贴、喷涂、散发非法小广告",
        "小广告清除，墙面、设施恢复原状",
        (2, WORK_DAYS),
        NORMAL,
        (BRANCH, CHENGGUAN),
        radius=100,
    ),
    _c(
        "E0202",
        "违规户外广告及店招",
        "户外广告 违规广告 店招 超大 未审批 横幅",
        "未经审批设置户外广告、横幅，或店招店牌超出规定尺寸",
        "违规广告拆除或补办审批，现场整改到位",
        (10, WORK_DAYS),
        NORMAL,
        (BRANCH, CHENGGUAN),
    ),
    _c(
        "E0203",
        "占道散发广告及流动广告车",
        "发传单 派发 流动广告车 宣传车 喇叭",
        "在道路上散发广告宣传品，或流动广告车违规宣传",
        "散发、宣传行为制止，现场无散落宣传品",
        (1, WORK_DAYS),
        NORMAL,
        (BRANCH, CHENGGUAN),
        check=False,
    ),
    # --- 事件 03 施工管理 ------------------------------------------------------------------------
    _c(
        "E0301",
        "违法搭建",
        "违建 违法建筑 搭建 加层 阳台 屋顶 违章 圈地",
        "新发现的违法搭建建筑物、构筑物，或在建违法建筑",
        "违法建筑拆除或依法立案查处，现场恢复",
        (15, WORK_DAYS),
        NORMAL,
        (BRANCH, CHENGGUAN),
    ),
    _c(
        "E0302",
        "施工占道及围挡",
        "施工 占道 围挡 破损 开挖 未恢复 工地",
        "施工占用道路超范围、超时限，围挡破损或施工后路面未恢复",
        "占道行为整改，围挡规范，路面恢复",
        (3, WORK_DAYS),
        NORMAL,
        (BRANCH, CHENGGUAN),
        radius=100,
    ),
    _c(
        "E0303",
        "施工扬尘",
        "扬尘 灰尘 工地 尘土 未覆盖 洒水",
        "施工工地、拆房工地未采取覆盖、洒水等措施，扬尘明显",
        "扬尘防治措施落实，现场无明显扬尘",
        (2, WORK_DAYS),
        NORMAL,
        (BRANCH, SHENGTAI),
    ),
    _c(
        "E0304",
        "渣土车撒漏",
        "渣土车 撒漏 泥头车 泥浆 带泥上路 车辆 抛洒",
        "渣土运输车辆沿途撒漏、带泥上路污染路面",
        "污染路面清理干净，违规车辆查处",
        (1, WORK_DAYS),
        URGENT,
        (BRANCH, CHENGGUAN),
        radius=500,
    ),
    _c(
        "E0305",
        "违规装修",
        "装修 承重墙 拆墙 改结构 违规 破坏",
        "住宅装修拆改承重墙、改变房屋结构或损坏公共部位",
        "违规装修行为制止，房屋结构恢复或经鉴定安全",
        (5, WORK_DAYS),
        URGENT,
        (BRANCH, FANGGUAN),
        radius=50,
    ),
    # --- 事件 04 突发事件 ------------------------------------------------------------------------
    _c(
        "E0401",
        "火灾",
        "着火 火灾 起火 冒烟 烟雾 失火 火",
        "发生火灾或有明火、浓烟——请立即拨打 119，本平台不受理",
        "—",
        (0.5, HOURS),
        VERY_URGENT,
        (BRANCH, XIAOFANG),
        check=False,
        emergency="119",
    ),
    _c(
        "E0402",
        "治安刑事案件",
        "报警 打架 斗殴 偷盗 小偷 抢劫 诈骗 警察",
        "正在发生的违法犯罪、打架斗殴、盗窃抢劫——请立即拨打 110，本平台不受理",
        "—",
        (0.5, HOURS),
        VERY_URGENT,
        (BRANCH, GONGAN),
        check=False,
        emergency="110",
    ),
    _c(
        "E0403",
        "医疗急救",
        "急救 救护车 晕倒 受伤 昏迷 病危 心脏",
        "有人突发疾病、受伤需要急救——请立即拨打 120，本平台不受理",
        "—",
        (0.5, HOURS),
        VERY_URGENT,
        (BRANCH, WEIJIAN),
        check=False,
        emergency="120",
    ),
    _c(
        "E0404",
        "交通事故",
        "车祸 交通事故 撞车 追尾 碰擦 撞人",
        "发生交通事故——请立即拨打 122，本平台不受理",
        "—",
        (0.5, HOURS),
        VERY_URGENT,
        (BRANCH, JIAOTONG),
        check=False,
        emergency="122",
    ),
    _c(
        "E0405",
        "燃气泄漏",
        "燃气 煤气 漏气 燃气味 煤气味 泄漏",
        "闻到燃气味、燃气管道或设施泄漏（请先关闭阀门、开窗通风，勿开关电器）",
        "泄漏点处置完毕，经燃气公司检测无泄漏",
        (0.5, HOURS),
        VERY_URGENT,
        (UTILITY, RANQI),
        radius=100,
    ),
    _c(
        "E0406",
        "供水爆管及停水",
        "爆管 水管 停水 漏水 冒水 水压 没水",
        "供水管道爆裂、路面冒水，或无通知停水、水压异常",
        "管道修复，恢复正常供水，路面无积水",
        (0.5, HOURS),
        VERY_URGENT,
        (UTILITY, SHUIWU),
        radius=250,
    ),
    _c(
        "E0407",
        "停电",
        "停电 断电 没电 跳闸 电压 不稳",
        "居民区、道路无通知停电或电压异常",
        "恢复正常供电，并告知停电原因",
        (2, HOURS),
        URGENT,
        (UTILITY, DIANLI),
        radius=500,
    ),
    _c(
        "E0408",
        "道路积水",
        "积水 淹水 暴雨 下水道 堵塞 排水不畅 水淹",
        "降雨后道路、小区出入口积水影响通行，或排水口堵塞",
        "积水排除，排水口疏通，通行恢复",
        (2, HOURS),
        URGENT,
        (UTILITY, SHUIWU),
        radius=250,
    ),
    _c(
        "E0409",
        "通信中断",
        "断网 宽带 信号 通信 电话 中断 光纤",
        "区域性通信、宽带中断或通信线路被挂断",
        "通信恢复，线路修复",
        (4, HOURS),
        URGENT,
        (UTILITY, TONGXIN),
        radius=500,
    ),
    # --- 事件 05 街面秩序 ------------------------------------------------------------------------
    _c(
        "E0501",
        "占道经营",
        "摆摊 小贩 游商 占道 流动摊 夜市",
        "在道路、人行道、广场等公共区域设摊经营或流动叫卖",
        "占道经营行为劝离或查处，现场恢复整洁",
        (4, WORK_HOURS),
        NORMAL,
        (BRANCH, CHENGGUAN),
        radius=100,
    ),
    _c(
        "E0502",
        "跨门营业",
        "跨门 出店 店外 占道 堆放 商铺 门口",
        "沿街商铺超出门窗、外墙摆卖或作业",
        "跨门营业行为整改，店外无摆卖堆放",
        (2, WORK_DAYS),
        NORMAL,
        (BRANCH, CHENGGUAN),
        radius=50,
    ),
    _c(
        "E0503",
        "非机动车乱停放",
        "共享单车 自行车 电瓶车 乱停 乱放 堵塞 停放",
        "共享单车、非机动车乱停放，堵塞人行道、盲道或出入口",
        "车辆清理归位，通道畅通",
        (1, WORK_DAYS),
        NORMAL,
        (STREET, ""),
        radius=100,
    ),
    _c(
        "E0504",
        "机动车违法停车",
        "违停 乱停车 停车 堵路 占用人行道 消防通道",
        "机动车在禁停路段、人行道、消防通道违法停放",
        "违停车辆驶离或依法处罚，通道畅通",
        (4, WORK_HOURS),
        NORMAL,
        (BRANCH, GONGAN),
        radius=100,
    ),
    _c(
        "E0505",
        "无证无照经营及食品安全",
        "无证 无照 黑作坊 食品 过期 卫生 餐饮 小作坊",
        "无证无照经营、食品生产经营卫生状况差或销售过期变质食品",
        "依法查处或责令整改，经营行为规范",
        (5, WORK_DAYS),
        NORMAL,
        (BRANCH, SHICHANG),
    ),
    _c(
        "E0506",
        "群租",
        "群租 隔断 二房东 出租 人员 拥挤 床位",
        "住宅分隔出租、按床位出租或人均居住面积低于规定标准",
        "群租整治到位，隔断拆除，居住人数符合规定",
        (15, WORK_DAYS),
        NORMAL,
        (BRANCH, FANGGUAN),
        radius=50,
    ),
    _c(
        "E0507",
        "僵尸车",
        "僵尸车 废弃车 长期停放 无牌 报废 车辆",
        "道路、公共停车区域长期停放的废弃车辆、无牌车辆",
        "废弃车辆移除或车主自行清理",
        (10, WORK_DAYS),
        NORMAL,
        (BRANCH, GONGAN),
        radius=100,
    ),
    # --- 事件 06 物业管理 ------------------------------------------------------------------------
    _c(
        "E0601",
        "物业服务不到位",
        "物业 服务 保洁 绿化养护 保安 不作为 维修 报修",
        "物业服务企业保洁、绿化养护、秩序维护、报修处理不到位",
        "物业整改到位，并经业主确认",
        (5, WORK_DAYS),
        NORMAL,
        (PROPERTY, ""),
    ),
    _c(
        "E0602",
        "小区停车管理",
        "小区 停车 车位 乱停 外来车 道闸 停车费",
        "小区内车辆乱停放、占用消防通道或停车管理混乱",
        "停车秩序整改，消防通道畅通",
        (5, WORK_DAYS),
        NORMAL,
        (PROPERTY, ""),
    ),
    _c(
        "E0603",
        "楼道堆物（有物业）",
        "楼道 堆物 杂物 占用 消防通道 走廊 物业",
        "有物业管理的小区楼道、走廊、消防通道堆放杂物",
        "堆物清理完毕，通道畅通",
        (2, WORK_DAYS),
        NORMAL,
        (PROPERTY, ""),
        radius=50,
    ),
    _c(
        "E0604",
        "楼道堆物（无物业）",
        "楼道 堆物 杂物 占用 走廊 老旧小区 无物业",
        "无物业管理的小区楼道、走廊堆放杂物",
        "经劝导堆物清理完毕，通道畅通",
        (3, WORK_DAYS),
        NORMAL,
        (COMMITTEE, ""),
        check=False,
        radius=50,
    ),
    _c(
        "E0605",
        "电动自行车违规充电",
        "飞线充电 电瓶车 上楼 电动车 充电 入户 楼道充电",
        "电动自行车进楼入户、楼道停放充电或私拉电线（飞线）充电",
        "违规停放充电行为整改，飞线拆除",
        (1, WORK_DAYS),
        URGENT,
        (PROPERTY, ""),
        radius=50,
    ),
    _c(
        "E0606",
        "物业费及维修资金纠纷",
        "物业费 维修资金 维修基金 收费 公共收益 账目",
        "物业收费、专项维修资金使用、公共收益分配引发的投诉",
        "依规调查并答复，纠纷调处或告知法律途径",
        (15, WORK_DAYS),
        NORMAL,
        (BRANCH, FANGGUAN),
        check=False,
    ),
    _c(
        "E0607",
        "业委会组建及运作",
        "业委会 业主大会 换届 选举 业主委员会",
        "业委会组建、换届、选举或日常运作不规范引发的投诉",
        "依规指导处理并答复",
        (15, WORK_DAYS),
        NORMAL,
        (BRANCH, FANGGUAN),
        check=False,
    ),
    _c(
        "E0608",
        "高空抛物",
        "高空抛物 扔东西 坠物 阳台 窗外",
        "住宅楼有高空抛物、坠物行为，危及他人安全",
        "查明责任人并处理，或已采取防范措施",
        (5, WORK_DAYS),
        URGENT,
        (BRANCH, GONGAN),
        radius=50,
    ),
    # --- 事件 07 噪声扰民 ------------------------------------------------------------------------
    _c(
        "E0701",
        "夜间施工噪声",
        "夜间施工 噪音 噪声 工地 晚上 扰民 打桩",
        "夜间（22 时至次日 6 时）未经许可施工作业产生噪声扰民",
        "违规施工停止或依法查处",
        (4, WORK_HOURS),
        URGENT,
        (BRANCH, CHENGGUAN),
        radius=500,
    ),
    _c(
        "E0702",
        "商业经营噪声",
        "噪音 噪声 商铺 音响 喇叭 酒吧 歌厅 空调外机",
        "商铺、娱乐场所、餐饮油烟机及空调外机等经营活动噪声扰民",
        "噪声源整改，经监测达标或居民认可",
        (5, WORK_DAYS),
        NORMAL,
        (BRANCH, SHENGTAI),
        radius=500,
    ),
    _c(
        "E0703",
        "装修噪声",
        "装修 噪音 电钻 敲打 周末 午休",
        "在规定时间以外进行住宅装修作业，噪声扰民",
        "违规时段装修停止，告知装修时间规定",
        (1, WORK_DAYS),
        NORMAL,
        (PROPERTY, ""),
        radius=500,
    ),
    _c(
        "E0704",
        "邻里生活噪声",
        "广场舞 噪音 邻居 吵闹 乐器 宠物 叫",
        "广场舞、楼上楼下生活噪声、宠物叫声等邻里生活噪声",
        "经协调噪声源整改，双方认可",
        (3, WORK_DAYS),
        NORMAL,
        (COMMITTEE, ""),
        check=False,
        radius=500,
    ),
    _c(
        "E0705",
        "交通噪声",
        "交通噪声 鸣笛 高架 车辆 轰鸣 炸街",
        "道路交通噪声、机动车违法鸣号或改装车辆轰鸣扰民",
        "采取降噪或执法措施并答复",
        (15, WORK_DAYS),
        NORMAL,
        (BRANCH, JIAOTONG),
        check=False,
        radius=500,
    ),
    # --- 事件 08 邻里事务 ------------------------------------------------------------------------
    _c(
        "E0801",
        "邻里纠纷调解",
        "邻里纠纷 邻居 矛盾 调解 吵架 漏水 纠纷",
        "邻里之间因相邻关系、生活琐事产生的纠纷，需要居委会调解",
        "调解完成（达成调解协议或告知其他解决途径）",
        (5, WORK_DAYS),
        NORMAL,
        (COMMITTEE, ""),
        check=False,
    ),
    _c(
        "E0802",
        "文明养犬",
        "养狗 犬只 遛狗 不牵绳 狗屎 狗叫 宠物",
        "遛犬不牵绳、犬只粪便不清理、犬只扰民等不文明养犬行为",
        "经劝导整改，或移交公安依法处理",
        (3, WORK_DAYS),
        NORMAL,
        (COMMITTEE, ""),
        check=False,
    ),
    _c(
        "E0803",
        "公共空间私占",
        "私占 占用 公共部位 圈地 种菜 门口 楼顶",
        "居民私自占用楼道、屋顶平台、小区公共绿地种菜圈地等公共空间",
        "经劝导占用物清除，公共空间恢复",
        (5, WORK_DAYS),
        NORMAL,
        (COMMITTEE, ""),
    ),
    _c(
        "E0804",
        "困难群众求助",
        "困难 求助 帮扶 老人 独居 救助 生活困难",
        "居民生活困难、独居老人等需要社区上门关心帮扶",
        "上门走访，落实帮扶措施或转介相关部门",
        (3, WORK_DAYS),
        NORMAL,
        (COMMITTEE, ""),
        check=False,
        radius=50,
    ),
    _c(
        "E0805",
        "社区事务咨询",
        "咨询 政策 办事 证明 社区 怎么办",
        "居民对社区事务、办事流程、惠民政策的咨询",
        "已答复咨询内容",
        (3, WORK_DAYS),
        NORMAL,
        (COMMITTEE, ""),
        check=False,
        radius=50,
    ),
    # --- 事件 09 其他事件 ------------------------------------------------------------------------
    _c(
        "E0901",
        "其他诉求",
        "其他 建议 意见 反映",
        "不属于以上类别的城市管理和社区治理诉求",
        "已处理并答复，或告知法定途径",
        (5, WORK_DAYS),
        NORMAL,
        (STREET, ""),
        check=False,
    ),
    _c(
        "E0902",
        "工作作风投诉",
        "投诉 态度 不作为 推诿 办事 效率",
        "对部门、街镇、居村工作人员办事态度、效率的投诉",
        "调查核实并答复投诉人",
        (15, WORK_DAYS),
        NORMAL,
        (STREET, ""),
        check=False,
        radius=50,
    ),
    _c(
        "E0903",
        "土地征收及动迁",
        "动迁 拆迁 征收 安置 补偿 旧改 土地",
        "旧区改造、房屋征收、土地征收及安置补偿相关诉求",
        "依规答复并告知进展，或纳入征收工作处理",
        (180, CALENDAR_DAYS),
        NORMAL,
        (BRANCH, GUIHUA),
        check=False,
        radius=500,
    ),
    _c(
        "E0904",
        "网格巡查发现问题",
        "巡查 网格 发现 隐患 其他",
        "网格巡查中发现、暂不能归入具体类别的问题（仅工作人员使用）",
        "已处置或转派至责任单位",
        (5, WORK_DAYS),
        NORMAL,
        (STREET, ""),
        public=False,
    ),
)


def catalogue_seed(category_model: Any = None) -> int:
    """Create the categories of ``CATALOGUE`` whose code is missing; returns how many were created.

    ``category_model`` is the historical model inside a migration (the current one otherwise).
    Existing codes are left as they are: the administrator's edits survive a second run.
    """
    if category_model is None:
        from .models import Category

        category_model = Category
    existing = set(category_model.objects.values_list("code", flat=True))
    missing = [
        category_model(**spec.row(sort=index * 10))
        for index, spec in enumerate(CATALOGUE, start=1)
        if spec.code not in existing
    ]
    category_model.objects.bulk_create(missing)
    return len(missing)
