"""Seed the central tag dictionary (标签字典, DOMAIN.md §4).

Idempotent: a tag whose code exists already is left as it is (an administrator may have edited it).

Who sees the sensitive tags (PIPL Art. 28: health and disability, minors, and by our choice the
tags that expose a household's poverty or a family's bereavement), decided here and editable in
the tag administration:

- 残疾人 (disability, evidence 残疾人证): committee head, committee worker and civil-affairs officer.
  The committee worker is included because the committee's help for disabled residents (助残, home
  visits, applying for allowances on their behalf) is done by the worker in charge; grid workers,
  street and district officers and the city administrator are not.
- 低保 (minimum living allowance, from 民政): civil-affairs officer and committee head only.
- 困境儿童 (children in difficulty, minors' data, PIPL Art. 28/31): civil-affairs officer and
  committee head (the committee's 儿童主任 is the head or designated by them).
- 重点关注 (persons needing special attention — may stand for mental illness, community correction or
  other criminal history): committee head and committee worker.
- 失独家庭 (families who lost their only child): committee head, committee worker, civil-affairs
  officer.

Computed tags (高龄老人 age ≥ 80, 老年人 age ≥ 60) are kept by the scheduled refresh and assigned by
nobody.
"""

from django.db import migrations

WORKER = "committee_worker"
HEAD = "committee_head"
GRID = "grid_worker"
CIVIL = "civil_affairs_officer"

TAGS = [
    {
        "code": "oldest_old",
        "name": "高龄老人",
        "description": "年满 80 周岁的在住人员，由系统按出生日期每日自动标注。",
        "rule": "age_at_least",
        "rule_value": 80,
    },
    {
        "code": "elderly",
        "name": "老年人",
        "description": "年满 60 周岁的在住人员，由系统按出生日期每日自动标注。",
        "rule": "age_at_least",
        "rule_value": 60,
    },
    {
        "code": "living_alone_elderly",
        "name": "独居老人",
        "description": "独自居住的老年人，须经走访核实。",
        "assignable_by": [WORKER, HEAD],
        "evidence_required": True,
        "evidence_hint": "走访核实记录（日期、走访人、居住情况）",
        "review_months": 12,
    },
    {
        "code": "empty_nest_elderly",
        "name": "空巢老人",
        "description": "子女不在身边居住的老年人。",
        "assignable_by": [WORKER, HEAD, GRID],
        "review_months": 12,
    },
    {
        "code": "disability",
        "name": "残疾人",
        "description": "持有残疾人证的人员。",
        "is_sensitive": True,
        "visible_to": [WORKER, HEAD, CIVIL],
        "assignable_by": [WORKER, HEAD, CIVIL],
        "evidence_required": True,
        "evidence_hint": "残疾人证（证号、类别、等级）",
        "review_months": 12,
    },
    {
        "code": "minimum_living_allowance",
        "name": "低保",
        "description": "享受最低生活保障的人员，以民政部门认定为准。",
        "is_sensitive": True,
        "visible_to": [HEAD, CIVIL],
        "assignable_by": [CIVIL],
        "evidence_required": True,
        "evidence_hint": "民政部门低保认定文书或低保证编号",
        "review_months": 12,
    },
    {
        "code": "entitled_group",
        "name": "优抚对象",
        "description": "享受抚恤优待的退役军人及其他优抚对象。",
        "assignable_by": [WORKER, HEAD, CIVIL],
        "evidence_required": True,
        "evidence_hint": "优待证或退役军人事务部门认定材料",
        "review_months": 12,
    },
    {
        "code": "children_in_difficulty",
        "name": "困境儿童",
        "description": "因家庭经济、自身状况或监护缺失而陷入困境的未成年人。",
        "is_sensitive": True,
        "visible_to": [HEAD, CIVIL],
        "assignable_by": [HEAD, CIVIL],
        "evidence_required": True,
        "evidence_hint": "民政部门困境儿童认定材料",
        "review_months": 6,
    },
    {
        "code": "special_attention",
        "name": "重点关注",
        "description": "需要居村持续关注和帮扶的人员。",
        "is_sensitive": True,
        "visible_to": [WORKER, HEAD],
        "assignable_by": [HEAD],
        "evidence_required": True,
        "evidence_hint": "关注原因及来源（相关部门通知或走访记录）",
        "review_months": 6,
    },
    {
        "code": "bereaved_only_child_family",
        "name": "失独家庭",
        "description": "独生子女死亡、未再生育或收养子女的家庭成员。",
        "is_sensitive": True,
        "visible_to": [WORKER, HEAD, CIVIL],
        "assignable_by": [WORKER, HEAD],
        "evidence_required": True,
        "evidence_hint": "计划生育特别扶助证明",
        "review_months": 12,
    },
]


def seed(apps, schema_editor):
    TagDefinition = apps.get_model("registry", "TagDefinition")
    for spec in TAGS:
        values = dict(spec)
        code = values.pop("code")
        TagDefinition.objects.get_or_create(code=code, defaults=values)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_registry_records"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
