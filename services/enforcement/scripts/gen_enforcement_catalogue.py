"""Generate the enforcement seed catalogue (deterministic; run once, output committed).

Usage: ``python services/enforcement/scripts/gen_enforcement_catalogue.py [--check]``.
Writes ``src/township_enforcement/seed_data/catalogue.json`` next to this script's package;
``--check`` only compares and exits 1 when the file is out of date.

Shape, from the pilot (Ankang Daily, 2023-11-24): 140 enforcement items catalogued; 84 items of
11 city departments entrusted (委托) to the towns; the rest are statutory township items
(镇级法定执法事项) and items of the stationed market supervision office (驻镇市场监管所执法事项).
One more entrusted item carries a deliberately lapsed entrustment (an early pilot entrustment
not renewed by the 2023 catalogue) so that the "entrustment expired" path can be exercised.

Names and legal bases are real provisions; several items are variations of one provision's
subject (e.g. the clauses of one article), as catalogues commonly list them. Fine ranges are
the statutory ones for an individual (个人) where the law splits individuals and units, unless
the item says it is about units (单位); where the law gives no amount, the band follows the
city's discretion standard and ``fine_note`` says so.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "township_enforcement"
    / "seed_data"
    / "catalogue.json"
)

TOWNSHIPS = ("zhaowan", "bailiu")

ENTRUSTING_DOC = {
    "no": "旬政发〔2023〕12号",
    "title": "《市级部门委托镇级实施综合行政执法事项目录》",
    "published_on": "2023-08-25",
    "valid_from": "2023-09-01",
    "valid_to": "2028-08-31",
}
LAPSED_DOC = {
    "no": "旬政办函〔2023〕21号",
    "title": "《关于在试点镇先行委托实施部分行政执法事项的通知》",
    "published_on": "2023-03-10",
    "valid_from": "2023-03-15",
    "valid_to": "2023-08-31",
}
STATUTORY_DOC = {
    "no": "旬政发〔2023〕11号",
    "title": "《镇级法定执法事项及驻镇市场监管所执法事项目录》",
    "published_on": "2023-08-25",
}

# code, prefix, zh, en, kind
DEPARTMENTS = [
    ("township", "XZ", "镇人民政府", "Township People's Government", "township_government"),
    (
        "market-supervision",
        "SC",
        "旬阳市市场监督管理局",
        "Xunyang Market Supervision Bureau",
        "city_department",
    ),
    (
        "natural-resources",
        "ZR",
        "旬阳市自然资源局",
        "Xunyang Natural Resources Bureau",
        "city_department",
    ),
    (
        "agriculture-rural",
        "NY",
        "旬阳市农业农村局",
        "Xunyang Agriculture and Rural Affairs Bureau",
        "city_department",
    ),
    ("forestry", "LY", "旬阳市林业局", "Xunyang Forestry Bureau", "city_department"),
    ("water-resources", "SL", "旬阳市水利局", "Xunyang Water Resources Bureau", "city_department"),
    (
        "ecology-environment",
        "HB",
        "安康市生态环境局旬阳分局",
        "Ankang Ecology and Environment Bureau, Xunyang Branch",
        "city_department",
    ),
    (
        "housing-construction",
        "ZJ",
        "旬阳市住房和城乡建设局",
        "Xunyang Housing and Urban-Rural Development Bureau",
        "city_department",
    ),
    (
        "urban-management",
        "CG",
        "旬阳市城市管理执法局",
        "Xunyang Urban Management Bureau",
        "city_department",
    ),
    ("transport", "JT", "旬阳市交通运输局", "Xunyang Transport Bureau", "city_department"),
    (
        "culture-tourism",
        "WL",
        "旬阳市文化和旅游广电局",
        "Xunyang Culture, Tourism, Radio and Television Bureau",
        "city_department",
    ),
    (
        "emergency-management",
        "YJ",
        "旬阳市应急管理局",
        "Xunyang Emergency Management Bureau",
        "city_department",
    ),
    ("health", "WJ", "旬阳市卫生健康局", "Xunyang Health Bureau", "city_department"),
]

W = "warning"
GAINS = "confiscate_illegal_gains"
PROPERTY = "confiscate_illegal_property"
STOP = "order_stop"
FIX = "order_correction"
RESTORE = "restore_original_state"
DEMOLISH = "demolition"
SUSPEND = "suspend_business"
REVOKE = "revoke_licence"

LOCAL_STANDARD = (
    "法规未规定罚款数额，幅度依照旬阳市行政处罚裁量基准",
    "The regulation sets no amount; the range follows Xunyang's discretion standard",
)
PROVINCIAL_RULES = (
    "罚款幅度依照《陕西省食品小作坊小餐饮及摊贩管理条例》",
    "Amounts follow the Shaanxi regulation on food workshops, small eateries and stalls",
)


@dataclass(frozen=True)
class Spec:
    """One enforcement item as authored: the fine range is split into discretion bands."""

    zh: str
    en: str
    law: str
    provision: str
    lo: int
    hi: int
    always: tuple[str, ...] = ()
    minor: tuple[str, ...] = ()
    serious: tuple[str, ...] = ()
    note: tuple[str, str] | None = None


def s(
    zh: str,
    en: str,
    law: str,
    provision: str,
    lo: int,
    hi: int,
    always: tuple[str, ...] = (),
    minor: tuple[str, ...] = (),
    serious: tuple[str, ...] = (),
    note: tuple[str, str] | None = None,
) -> Spec:
    """Shorthand constructor for a Spec."""
    return Spec(zh, en, law, provision, lo, hi, always, minor, serious, note)


VILLAGE_PLAN = "《村庄和集镇规划建设管理条例》"
AIR = "《中华人民共和国大气污染防治法》"
NOISE = "《中华人民共和国噪声污染防治法》"
URBAN_PLAN = "《中华人民共和国城乡规划法》"

STATUTORY = [
    *[
        s(
            f"损坏村庄和集镇的{zh}",
            f"Damaging {en} of a village or market town",
            VILLAGE_PLAN,
            "第三十九条第一项",
            0,
            2000,
            (STOP,),
            note=LOCAL_STANDARD,
        )
        for zh, en in [
            ("房屋", "houses"),
            ("道路、桥涵", "roads, bridges or culverts"),
            ("供水、排水设施", "water supply or drainage facilities"),
            ("路灯等公共照明设施", "street lighting"),
            ("公共厕所、垃圾收集设施", "public toilets or refuse collection points"),
            ("绿化设施", "green spaces and planting"),
        ]
    ],
    *[
        s(
            f"乱堆{zh}，破坏村容镇貌和环境卫生",
            f"Dumping {en} in a way that spoils the village",
            VILLAGE_PLAN,
            "第三十九条第二项",
            0,
            200,
            (STOP,),
            note=LOCAL_STANDARD,
        )
        for zh, en in [("粪便", "manure"), ("垃圾", "refuse"), ("柴草", "firewood or straw")]
    ],
    *[
        s(
            f"擅自在集镇{zh}修建临时建筑物、构筑物和其他设施",
            f"Putting up temporary structures in a market town's {en} without approval",
            VILLAGE_PLAN,
            "第四十条",
            0,
            2000,
            (DEMOLISH,),
            note=LOCAL_STANDARD,
        )
        for zh, en in [
            ("街道", "streets"),
            ("广场", "square"),
            ("集贸市场", "market"),
            ("车站", "bus station"),
        ]
    ],
    s(
        "在当地人民政府禁止的区域内露天烧烤食品或者为露天烧烤食品提供场地",
        "Open-air barbecue, or providing a site for it, in an area where the government bans it",
        AIR,
        "第一百一十八条第三款",
        500,
        20000,
        (FIX, GAINS, PROPERTY),
    ),
    s(
        "露天焚烧秸秆、落叶等产生烟尘污染的物质",
        "Open burning of straw, leaves or other material producing smoke",
        AIR,
        "第一百一十九条第一款",
        500,
        2000,
        (FIX,),
    ),
    s(
        "在人口集中地区对树木、花草喷洒剧毒、高毒农药",
        "Spraying highly toxic pesticides on trees or flowers in populated areas",
        AIR,
        "第一百一十九条第一款",
        500,
        2000,
        (FIX,),
    ),
    s(
        "在人口集中地区焚烧沥青、油毡、橡胶、塑料、皮革、垃圾等产生有毒有害烟尘和恶臭气体的物质（个人）",
        "Burning asphalt, rubber, plastics, refuse etc. in populated areas (individuals)",
        AIR,
        "第一百一十九条第二款",
        500,
        2000,
        (FIX,),
    ),
    s(
        "在人口集中地区焚烧沥青、油毡、橡胶、塑料、皮革、垃圾等产生有毒有害烟尘和恶臭气体的物质（单位）",
        "Burning asphalt, rubber, plastics, refuse etc. in populated areas (organisations)",
        AIR,
        "第一百一十九条第二款",
        10000,
        100000,
        (FIX,),
    ),
    s(
        "在商业经营活动中使用高音广播喇叭或者采用其他持续反复发出高噪声的方法进行广告宣传",
        "Using loudspeakers or other loud repeated noise to advertise a business",
        NOISE,
        "第八十一条第二项",
        5000,
        50000,
        (FIX,),
        serious=(SUSPEND,),
    ),
    s(
        "在噪声敏感建筑物集中区域使用高音广播喇叭",
        "Using loudspeakers in an area of noise-sensitive buildings",
        NOISE,
        "第八十二条第一项",
        0,
        1000,
        (FIX,),
        minor=(W,),
    ),
    s(
        "在公共场所组织或者开展娱乐、健身等活动违反规定使用音响器材产生过大音量",
        "Excessive volume of sound equipment at public entertainment or fitness activities",
        NOISE,
        "第八十二条第二项",
        0,
        1000,
        (FIX,),
        minor=(W,),
    ),
    s(
        "对已竣工交付使用的建筑物进行室内装修未在限定的作业时间内进行",
        "Interior renovation outside the permitted working hours",
        NOISE,
        "第八十二条第三项",
        0,
        1000,
        (FIX,),
        minor=(W,),
    ),
    s(
        "未依法取得乡村建设规划许可证进行建设",
        "Building without a rural construction planning permit",
        URBAN_PLAN,
        "第六十五条",
        0,
        0,
        (STOP, FIX, DEMOLISH),
    ),
    s(
        "未按照乡村建设规划许可证的规定进行建设",
        "Building not in accordance with the rural construction planning permit",
        URBAN_PLAN,
        "第六十五条",
        0,
        0,
        (STOP, FIX, DEMOLISH),
    ),
]

REG = "《中华人民共和国市场主体登记管理条例》"
UNLICENSED = "《无证无照经营查处办法》"
FOOD = "《中华人民共和国食品安全法》"
PRICE = "《价格违法行为行政处罚规定》"
CONSUMER = "《中华人民共和国消费者权益保护法》"
SPECIAL = "《中华人民共和国特种设备安全法》"
VALUE_NOTE = (
    "货值金额一万元以上的，按货值金额倍数处罚，不适用本裁量档",
    "Where the goods are worth 10,000 yuan or more the fine is a multiple of their value",
)
GAINS_NOTE = (
    "有违法所得的，按违法所得倍数处罚；本裁量档适用于没有违法所得的情形",
    "With illegal gains the fine is a multiple of them; these bands apply without gains",
)

MARKET = [
    s(
        "未经设立登记从事经营活动",
        "Trading without registration",
        REG,
        "第四十三条",
        10000,
        100000,
        (FIX, GAINS),
        serious=(SUSPEND,),
    ),
    s(
        "市场主体未依照规定办理变更登记",
        "Failing to register a change",
        REG,
        "第四十六条",
        10000,
        100000,
        (FIX,),
        serious=(REVOKE,),
    ),
    s(
        "未将营业执照置于住所或者主要经营场所醒目位置",
        "Business licence not displayed at the premises",
        REG,
        "第四十八条",
        0,
        30000,
        (FIX,),
    ),
    s(
        "从事无照经营",
        "Trading without a business licence",
        UNLICENSED,
        "第十三条",
        0,
        10000,
        (STOP, GAINS),
    ),
    s(
        "明知属于无照经营而为其提供经营场所、运输、保管、仓储等条件",
        "Providing premises, transport or storage to an unlicensed trader",
        UNLICENSED,
        "第十五条",
        0,
        5000,
        (STOP, GAINS),
    ),
    s(
        "未取得食品经营许可从事食品经营活动",
        "Selling food without a food business licence",
        FOOD,
        "第一百二十二条第一款",
        50000,
        100000,
        (GAINS, PROPERTY),
        note=VALUE_NOTE,
    ),
    s(
        "经营超过保质期的食品",
        "Selling food past its shelf life",
        FOOD,
        "第一百二十四条第一款",
        50000,
        100000,
        (GAINS, PROPERTY),
        serious=(REVOKE,),
        note=VALUE_NOTE,
    ),
    s(
        "经营无标签的预包装食品",
        "Selling pre-packaged food without a label",
        FOOD,
        "第一百二十五条第一款",
        5000,
        50000,
        (GAINS, PROPERTY),
        serious=(REVOKE,),
        note=VALUE_NOTE,
    ),
    s(
        "生产经营转基因食品未按规定进行标示",
        "Genetically modified food not labelled",
        FOOD,
        "第一百二十五条第一款",
        5000,
        50000,
        (GAINS, PROPERTY),
        serious=(REVOKE,),
        note=VALUE_NOTE,
    ),
    s(
        "经营者进货时未查验许可证和相关证明文件或者未建立进货查验记录",
        "No check of suppliers' licences, or no purchase inspection records",
        FOOD,
        "第一百二十六条第一款",
        5000,
        50000,
        (FIX,),
        minor=(W,),
        serious=(SUSPEND, REVOKE),
    ),
    s(
        "餐具、饮具和盛放直接入口食品的容器使用前未经洗净、消毒",
        "Tableware or containers for ready-to-eat food not cleaned and disinfected",
        FOOD,
        "第一百二十六条第一款",
        5000,
        50000,
        (FIX,),
        minor=(W,),
        serious=(SUSPEND, REVOKE),
    ),
    s(
        "安排未取得健康证明的人员从事接触直接入口食品的工作",
        "Staff without a health certificate handling ready-to-eat food",
        FOOD,
        "第一百二十六条第一款",
        5000,
        50000,
        (FIX,),
        minor=(W,),
        serious=(SUSPEND, REVOKE),
    ),
    s(
        "未按要求进行食品贮存、运输和装卸",
        "Food stored, transported or loaded improperly",
        FOOD,
        "第一百三十二条",
        10000,
        50000,
        (FIX,),
        minor=(W,),
        serious=(SUSPEND, REVOKE),
    ),
    s(
        "集中交易市场开办者允许未依法取得许可的食品经营者进入市场销售食品",
        "Market operator admitting unlicensed food sellers",
        FOOD,
        "第一百三十条第一款",
        50000,
        200000,
        (FIX, GAINS),
        serious=(SUSPEND,),
    ),
    s(
        "食品摊贩未取得登记卡从事食品经营",
        "Food stall trading without a stall registration card",
        FOOD,
        "第一百二十七条",
        0,
        1000,
        (STOP, GAINS),
        note=PROVINCIAL_RULES,
    ),
    s(
        "小餐饮未取得许可从事餐饮服务",
        "Small eatery operating without its licence",
        FOOD,
        "第一百二十七条",
        2000,
        20000,
        (STOP, GAINS),
        note=PROVINCIAL_RULES,
    ),
    s(
        "食品小作坊未取得登记证从事食品生产加工",
        "Food workshop producing without its registration certificate",
        FOOD,
        "第一百二十七条",
        5000,
        50000,
        (STOP, GAINS, PROPERTY),
        note=PROVINCIAL_RULES,
    ),
    s(
        "经营者不标明价格",
        "Goods or services without a price tag",
        PRICE,
        "第十三条第一项",
        0,
        5000,
        (FIX, GAINS),
    ),
    s(
        "经营者不按照规定的内容和方式明码标价",
        "Price tags not in the prescribed form",
        PRICE,
        "第十三条第二项",
        0,
        5000,
        (FIX, GAINS),
    ),
    s(
        "在标价之外加价出售商品或者收取未标明的费用",
        "Charging above the tagged price or unlisted fees",
        PRICE,
        "第十三条第三项",
        0,
        5000,
        (FIX, GAINS),
    ),
    s(
        "使用以欺骗消费者为目的的计量器具（短斤缺两）",
        "Using rigged scales to cheat customers (short weight)",
        "《中华人民共和国计量法》",
        "第二十七条",
        0,
        2000,
        (GAINS, PROPERTY),
        note=(
            "罚款幅度依照《中华人民共和国计量法实施细则》",
            "Amounts follow the Implementing Rules of the Metrology Law",
        ),
    ),
    s(
        "伪造商品的产地，伪造或者冒用他人的厂名、厂址",
        "Faking the origin of goods or another maker's name and address",
        CONSUMER,
        "第五十六条第一款第四项",
        0,
        500000,
        (FIX, GAINS),
        minor=(W,),
        serious=(SUSPEND, REVOKE),
        note=GAINS_NOTE,
    ),
    s(
        "对商品或者服务作虚假或者引人误解的宣传",
        "False or misleading claims about goods or services",
        CONSUMER,
        "第五十六条第一款第六项",
        0,
        500000,
        (FIX, GAINS),
        minor=(W,),
        serious=(SUSPEND, REVOKE),
        note=GAINS_NOTE,
    ),
    s(
        "对消费者提出的修理、重作、更换、退货等要求故意拖延或者无理拒绝",
        "Delaying or refusing repair, replacement or refund without reason",
        CONSUMER,
        "第五十六条第一款第八项",
        0,
        500000,
        (FIX, GAINS),
        minor=(W,),
        serious=(SUSPEND, REVOKE),
        note=GAINS_NOTE,
    ),
    s(
        "经营者对其商品作虚假或者引人误解的商业宣传",
        "False or misleading commercial publicity",
        "《中华人民共和国反不正当竞争法》",
        "第二十条",
        200000,
        1000000,
        (STOP,),
        serious=(REVOKE,),
    ),
    s(
        "将未注册商标冒充注册商标使用",
        "Passing off an unregistered mark as registered",
        "《中华人民共和国商标法》",
        "第五十二条",
        0,
        10000,
        (STOP, FIX),
        note=(
            "违法经营额五万元以上的，可以处违法经营额百分之二十以下的罚款",
            "Where turnover is 50,000 yuan or more, up to 20% of turnover",
        ),
    ),
    s(
        "使用特种设备未按照规定办理使用登记",
        "Special equipment in use without registration",
        SPECIAL,
        "第八十三条第一项",
        10000,
        100000,
        (FIX,),
        serious=(STOP,),
    ),
    s(
        "未对其使用的特种设备进行经常性维护保养和定期自行检查",
        "No regular maintenance and self-inspection of special equipment",
        SPECIAL,
        "第八十三条",
        10000,
        100000,
        (FIX,),
        serious=(STOP,),
    ),
    s(
        "使用未取得许可生产、未经检验或者检验不合格的特种设备",
        "Using special equipment without licence, inspection, or after failing inspection",
        SPECIAL,
        "第八十四条第一项",
        30000,
        300000,
        (STOP,),
    ),
    s(
        "未配备具有相应资格的特种设备安全管理人员、检测人员和作业人员",
        "No qualified safety managers, inspectors or operators for special equipment",
        SPECIAL,
        "第八十六条第一项",
        10000,
        50000,
        (FIX,),
        serious=(SUSPEND,),
    ),
    s(
        "使用未取得相应资格的人员从事特种设备安全管理、检测和作业",
        "Unqualified people operating or managing special equipment",
        SPECIAL,
        "第八十六条第二项",
        10000,
        50000,
        (FIX,),
        serious=(SUSPEND,),
    ),
]

YANGTZE = "《中华人民共和国长江保护法》"
FISHERY = "《中华人民共和国渔业法》"
ANIMAL = "《中华人民共和国动物防疫法》"
PESTICIDE = "《农药管理条例》"
FIRE = "《森林防火条例》"
PEST = "《森林病虫害防治条例》"
WATER = "《中华人民共和国水法》"
SOIL = "《中华人民共和国水土保持法》"
GEO = "《地质灾害防治条例》"
SURVEY = "《中华人民共和国测绘法》"
ROAD_LAW = "《中华人民共和国公路法》"
ROAD_SAFETY = "《公路安全保护条例》"
CITY_ROAD = "《城市道路管理条例》"
CITY_LOOKS = "《城市市容和环境卫生管理条例》"
WASTE = "《中华人民共和国固体废物污染环境防治法》"
NETBAR = "《互联网上网服务营业场所管理条例》"
SAFETY = "《中华人民共和国安全生产法》"
FIREWORKS = "《烟花爆竹安全管理条例》"
PUBLIC_PLACE = "《公共场所卫生管理条例实施细则》"
DRINKING = "《生活饮用水卫生监督管理办法》"

ENTRUSTED: dict[str, list[Spec]] = {
    "natural-resources": [
        *[
            s(
                f"在地质灾害危险区内{zh}（个人）",
                f"{en} inside a geological hazard danger zone (individuals)",
                GEO,
                "第四十三条",
                10000,
                50000,
                (STOP,),
            )
            for zh, en in [
                ("爆破", "Blasting"),
                ("削坡", "Cutting slopes"),
                ("进行工程建设", "Construction works"),
            ]
        ],
        *[
            s(zh, en, SURVEY, "第六十四条" + clause, 0, 200000, (FIX,), minor=(W,))
            for zh, en, clause in [
                ("损毁永久性测量标志", "Destroying a permanent survey marker", "第一项"),
                (
                    "擅自移动永久性测量标志",
                    "Moving a permanent survey marker without approval",
                    "第一项",
                ),
                ("侵占永久性测量标志用地", "Encroaching on the land of a survey marker", "第二项"),
                (
                    "在永久性测量标志安全控制范围内从事危害测量标志安全和使用效能的活动",
                    "Activities endangering a survey marker within its safety zone",
                    "第三项",
                ),
            ]
        ],
    ],
    "agriculture-rural": [
        s(
            "在长江流域重点水域禁捕期间从事天然渔业资源的生产性捕捞",
            "Commercial fishing of wild stocks in Yangtze key waters during the fishing ban",
            YANGTZE,
            "第八十六条第一款",
            10000,
            50000,
            (GAINS, PROPERTY),
            serious=(REVOKE,),
        ),
        s(
            "使用炸鱼、毒鱼、电鱼等破坏渔业资源方法进行捕捞",
            "Fishing with explosives, poison or electricity",
            FISHERY,
            "第三十八条第一款",
            0,
            50000,
            (GAINS, PROPERTY),
            serious=(REVOKE,),
        ),
        s(
            "违反关于禁渔区、禁渔期的规定进行捕捞",
            "Fishing in a closed area or closed season",
            FISHERY,
            "第三十八条第一款",
            0,
            50000,
            (GAINS,),
            serious=(PROPERTY, REVOKE),
        ),
        s(
            "使用禁用的渔具、捕捞方法和小于最小网目尺寸的网具进行捕捞",
            "Fishing with banned gear or undersized mesh",
            FISHERY,
            "第三十八条第一款",
            0,
            50000,
            (GAINS,),
            serious=(PROPERTY, REVOKE),
        ),
        s(
            "对饲养的动物未按照动物疫病强制免疫计划或者免疫技术规范实施免疫接种",
            "Livestock not vaccinated under the compulsory immunisation plan",
            ANIMAL,
            "第九十二条第一项",
            0,
            5000,
            (FIX,),
        ),
        s(
            "对饲养的种用、乳用动物未按照规定定期开展疫病检测",
            "Breeding or dairy animals not tested for disease as required",
            ANIMAL,
            "第九十二条第二项",
            0,
            5000,
            (FIX,),
        ),
        s(
            "对饲养的犬只未按照规定定期进行狂犬病免疫接种",
            "Dogs not vaccinated against rabies",
            ANIMAL,
            "第九十二条第三项",
            0,
            5000,
            (FIX,),
        ),
        s(
            "使用禁用的农药（个人）",
            "Using a banned pesticide (individuals)",
            PESTICIDE,
            "第六十条第一款第二项",
            0,
            10000,
            (FIX,),
        ),
        s(
            "将剧毒、高毒农药用于蔬菜、瓜果、茶叶、菌类、中草药材生产（个人）",
            "Highly toxic pesticide used on vegetables, fruit, tea, mushrooms or herbs "
            "(individuals)",
            PESTICIDE,
            "第六十条第一款第三项",
            0,
            10000,
            (FIX,),
        ),
        s(
            "在饮用水水源保护区内使用农药（个人）",
            "Using pesticide in a drinking-water source protection zone (individuals)",
            PESTICIDE,
            "第六十条第一款第四项",
            0,
            10000,
            (FIX,),
        ),
    ],
    "forestry": [
        s(
            "森林防火期内未经批准擅自在森林防火区内野外用火（个人）",
            "Outdoor fire in a forest fire zone in the fire season without approval (individuals)",
            FIRE,
            "第五十条",
            200,
            3000,
            (STOP, W),
        ),
        s(
            "森林防火期内未经批准擅自在森林防火区内野外用火（单位）",
            "Outdoor fire in a forest fire zone in the fire season without approval "
            "(organisations)",
            FIRE,
            "第五十条",
            10000,
            50000,
            (STOP, W),
        ),
        s(
            "拒绝接受森林防火检查或者逾期不消除火灾隐患（个人）",
            "Refusing a fire inspection or not removing a fire hazard in time (individuals)",
            FIRE,
            "第四十九条",
            200,
            2000,
            (FIX, W),
        ),
        s(
            "森林防火期内森林、林木、林地的经营单位未设置森林防火警示宣传标志（个人）",
            "No fire-warning signs set by a forest operator in the fire season (individuals)",
            FIRE,
            "第五十二条第一项",
            200,
            2000,
            (FIX, W),
        ),
        s(
            "森林防火期内进入森林防火区的机动车辆未安装森林防火装置（个人）",
            "Vehicle entering a forest fire zone without fire-safety equipment (individuals)",
            FIRE,
            "第五十二条第二项",
            200,
            2000,
            (FIX, W),
        ),
        s(
            "森林高火险期内未经批准擅自进入森林高火险区活动（个人）",
            "Entering a high fire-risk forest area in high-risk season without approval "
            "(individuals)",
            FIRE,
            "第五十二条第三项",
            200,
            2000,
            (FIX, W),
        ),
        s(
            "用带有危险性病虫害的林木种苗进行育苗或者造林",
            "Raising or planting seedlings carrying dangerous pests",
            PEST,
            "第二十二条第一项",
            100,
            2000,
            (FIX,),
        ),
        s(
            "发生森林病虫害不除治或者除治不力，造成森林病虫害蔓延成灾",
            "Not controlling forest pests, letting them spread",
            PEST,
            "第二十二条第二项",
            100,
            2000,
            (FIX,),
        ),
        s(
            "隐瞒或者虚报森林病虫害情况，造成森林病虫害蔓延成灾",
            "Hiding or misreporting forest pests, letting them spread",
            PEST,
            "第二十二条第三项",
            100,
            2000,
            (FIX,),
        ),
    ],
    "water-resources": [
        s(
            "在河道管理范围内建设妨碍行洪的建筑物、构筑物",
            "Building structures obstructing flood flow within a river management area",
            WATER,
            "第六十五条第一款",
            10000,
            100000,
            (STOP, DEMOLISH, RESTORE),
        ),
        s(
            "在河道管理范围内从事影响河势稳定、危害河岸堤防安全的活动",
            "Activities destabilising the river or endangering its banks and dykes",
            WATER,
            "第六十五条第一款",
            10000,
            100000,
            (STOP, RESTORE),
        ),
        s(
            "在河道、水库、渠道内弃置、堆放阻碍行洪的物体",
            "Dumping or piling objects obstructing flood flow in rivers, reservoirs or canals",
            WATER,
            "第六十六条",
            10000,
            50000,
            (STOP, RESTORE),
        ),
        s(
            "在河道内种植阻碍行洪的林木及高秆作物",
            "Planting trees or tall crops obstructing flood flow in a river",
            WATER,
            "第六十六条",
            10000,
            50000,
            (STOP, RESTORE),
        ),
        s(
            "未经批准擅自取水",
            "Abstracting water without a permit",
            WATER,
            "第六十九条第一项",
            20000,
            100000,
            (STOP,),
        ),
        *[
            s(
                f"在崩塌、滑坡危险区或者泥石流易发区{zh}（个人）",
                f"{en} in a landslide or debris-flow danger area (individuals)",
                SOIL,
                "第四十八条",
                1000,
                10000,
                (STOP, GAINS),
            )
            for zh, en in [
                ("取土", "Digging earth"),
                ("挖砂", "Digging sand"),
                ("采石", "Quarrying stone"),
            ]
        ],
    ],
    "ecology-environment": [
        s(
            "未密闭煤炭、煤渣、水泥、石灰、砂土等易产生扬尘的物料",
            "Dusty materials (coal, cement, lime, sand) not stored in closed form",
            AIR,
            "第一百一十七条第一项",
            10000,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "对不能密闭的易产生扬尘的物料未设置严密围挡或者未采取有效覆盖措施",
            "Dusty materials that cannot be closed in neither fenced nor covered",
            AIR,
            "第一百一十七条第二项",
            10000,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "装卸物料未采取密闭或者喷淋等方式控制扬尘排放",
            "Loading or unloading materials without dust control",
            AIR,
            "第一百一十七条第三项",
            10000,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "餐饮服务业经营者未安装油烟净化设施或者超过排放标准排放油烟",
            "Restaurant without fume purification, or fumes above the standard",
            AIR,
            "第一百一十八条第一款",
            5000,
            50000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "在居民住宅楼等禁止区域新建、改建、扩建产生油烟、异味、废气的餐饮服务项目",
            "New catering premises producing fumes in residential buildings",
            AIR,
            "第一百一十八条第二款",
            10000,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "建设单位未依法备案建设项目环境影响登记表",
            "Environmental impact registration form not filed",
            "《中华人民共和国环境影响评价法》",
            "第三十一条第三款",
            0,
            50000,
            (FIX,),
        ),
        s(
            "需要填报排污登记表的生产经营者未依照规定填报排污信息",
            "Pollutant discharge registration not filed",
            "《排污许可管理条例》",
            "第四十三条",
            0,
            50000,
            (FIX,),
        ),
        s(
            "需要配套建设的环境保护设施未建成、未经验收或者验收不合格即投入生产或者使用",
            "Production started before pollution controls were built and accepted",
            "《建设项目环境保护管理条例》",
            "第二十三条第一款",
            200000,
            1000000,
            (FIX,),
            serious=(SUSPEND,),
        ),
    ],
    "housing-construction": [
        s(
            "施工工地未设置硬质围挡",
            "Construction site without solid hoarding",
            AIR,
            "第一百一十五条第一款第一项",
            10000,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "施工工地未采取覆盖、洒水抑尘、冲洗地面和车辆等有效防尘降尘措施",
            "Construction site without dust suppression (covering, spraying, washing)",
            AIR,
            "第一百一十五条第一款第一项",
            10000,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "建筑土方、工程渣土、建筑垃圾未及时清运或者未采用密闭式防尘网遮盖",
            "Spoil and construction waste neither removed in time nor covered",
            AIR,
            "第一百一十五条第一款第二项",
            10000,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "施工单位承接未取得施工许可证的工程擅自施工",
            "Contractor building a project that has no construction permit",
            "《建筑工程施工许可管理办法》",
            "第十二条",
            0,
            30000,
            (STOP, FIX),
        ),
        s(
            "未在城市道路施工现场设置明显标志和安全防围设施",
            "Road works without warning signs and safety barriers",
            CITY_ROAD,
            "第四十二条第二项",
            0,
            20000,
            (FIX,),
        ),
        s(
            "占用城市道路期满或者挖掘城市道路后不及时清理现场",
            "Site not cleared after road occupation or excavation",
            CITY_ROAD,
            "第四十二条第三项",
            0,
            20000,
            (FIX,),
        ),
        s(
            "依附于城市道路建设各种管线、杆线等设施不按照规定办理批准手续",
            "Pipes, cables or poles attached to a road without approval",
            CITY_ROAD,
            "第四十二条第四项",
            0,
            20000,
            (FIX,),
        ),
        s(
            "未按照批准的位置、面积、期限占用或者挖掘城市道路",
            "Occupying or digging up a road beyond the approved place, area or period",
            CITY_ROAD,
            "第四十二条第六项",
            0,
            20000,
            (FIX,),
        ),
    ],
    "urban-management": [
        *[
            s(
                zh,
                en,
                CITY_LOOKS,
                "第三十四条" + clause,
                0,
                hi,
                (FIX,),
                minor=(W,),
                note=LOCAL_STANDARD,
            )
            for zh, en, clause, hi in [
                (
                    "随地吐痰、便溺，乱扔果皮、纸屑和烟头等废弃物",
                    "Spitting, urinating or littering in public",
                    "第一项",
                    200,
                ),
                (
                    "在建筑物、设施以及树木上涂写、刻画",
                    "Scribbling or carving on buildings, facilities or trees",
                    "第二项",
                    500,
                ),
                (
                    "未经批准在建筑物、设施以及树木上张挂、张贴宣传品",
                    "Posting bills on buildings, facilities or trees without approval",
                    "第三项",
                    500,
                ),
                (
                    "在规定街道的临街建筑物阳台和窗外堆放、吊挂有碍市容的物品",
                    "Unsightly objects piled or hung on street-facing balconies",
                    "第四项",
                    500,
                ),
                (
                    "不履行卫生责任区清扫保洁义务",
                    "Not cleaning the frontage one is responsible for",
                    "第六项",
                    1000,
                ),
                (
                    "运输液体、散装货物不作密封、包扎、覆盖，造成泄漏、遗撒",
                    "Liquid or bulk loads spilling for lack of sealing or covering",
                    "第七项",
                    5000,
                ),
                (
                    "临街工地不设置护栏或者不作遮挡，竣工后不及时清理和平整场地",
                    "Street-side site without fencing, or not cleared after completion",
                    "第八项",
                    5000,
                ),
            ]
        ],
        s(
            "随意倾倒、抛撒、堆放或者焚烧生活垃圾（个人）",
            "Dumping, scattering, piling or burning household waste (individuals)",
            WASTE,
            "第一百一十一条第一款第一项",
            100,
            500,
            (FIX, GAINS),
        ),
        s(
            "工程施工单位擅自倾倒、抛撒或者堆放工程施工过程中产生的建筑垃圾",
            "Contractor dumping or piling construction waste",
            WASTE,
            "第一百一十一条第一款第四项",
            100000,
            1000000,
            (FIX, GAINS),
        ),
        s(
            "未经批准擅自在街道两侧和公共场地堆放物料，搭建建筑物、构筑物或者其他设施",
            "Piling materials or putting up structures along streets or on public ground",
            CITY_LOOKS,
            "第三十六条第二项",
            0,
            2000,
            (STOP, DEMOLISH),
            note=LOCAL_STANDARD,
        ),
        s(
            "未经同意擅自设置大型户外广告，影响市容",
            "Putting up a large outdoor advertisement without consent",
            CITY_LOOKS,
            "第三十六条第一项",
            0,
            5000,
            (STOP, DEMOLISH),
            note=LOCAL_STANDARD,
        ),
    ],
    "transport": [
        s(
            "在公路建筑控制区内修建、扩建建筑物、地面构筑物或者未经许可埋设管道、电缆等设施",
            "Building or burying pipes and cables in a highway's building control zone",
            ROAD_SAFETY,
            "第五十六条第一项",
            0,
            50000,
            (DEMOLISH,),
        ),
        s(
            "在公路建筑控制区外修建的建筑物、地面构筑物以及其他设施遮挡公路标志或者妨碍安全视距",
            "Structures outside the control zone hiding road signs or blocking sight lines",
            ROAD_SAFETY,
            "第五十六条第二项",
            0,
            50000,
            (DEMOLISH,),
        ),
        s(
            "在公路上及公路用地范围内摆摊设点",
            "Setting up stalls on a highway or its land",
            ROAD_LAW,
            "第七十七条",
            0,
            5000,
            (STOP,),
        ),
        s(
            "在公路上及公路用地范围内堆放物品、倾倒垃圾、设置障碍",
            "Piling goods, dumping refuse or placing obstacles on a highway",
            ROAD_LAW,
            "第七十七条",
            0,
            5000,
            (STOP,),
        ),
        s(
            "在公路用地范围内挖沟引水、利用公路边沟排放污物",
            "Digging channels or discharging waste into highway ditches",
            ROAD_LAW,
            "第七十七条",
            0,
            5000,
            (STOP, RESTORE),
        ),
        s(
            "在公路两侧规定范围内挖砂、采石、取土、倾倒废弃物或者进行爆破作业",
            "Digging sand, quarrying, taking earth, dumping or blasting near a highway",
            ROAD_LAW,
            "第七十六条第三项",
            0,
            30000,
            (STOP,),
        ),
    ],
    "culture-tourism": [
        s(
            "擅自从事互联网上网服务经营活动",
            "Running an internet café without a licence",
            NETBAR,
            "第二十七条",
            10000,
            50000,
            (GAINS, PROPERTY),
            note=(
                "违法经营额一万元以上的，并处违法经营额五倍以上十倍以下的罚款",
                "With turnover of 10,000 yuan or more: 5 to 10 times the turnover",
            ),
        ),
        s(
            "互联网上网服务营业场所在规定的营业时间以外营业",
            "Internet café open outside permitted hours",
            NETBAR,
            "第三十一条第一项",
            0,
            15000,
            (W,),
            serious=(SUSPEND, REVOKE),
        ),
        s(
            "互联网上网服务营业场所接纳未成年人进入营业场所",
            "Internet café admitting minors",
            NETBAR,
            "第三十一条第二项",
            0,
            15000,
            (W,),
            serious=(SUSPEND, REVOKE),
        ),
        s(
            "互联网上网服务营业场所未悬挂《网络文化经营许可证》或者未成年人禁入标志",
            "Internet café not displaying its licence or the no-minors sign",
            NETBAR,
            "第三十一条第五项",
            0,
            15000,
            (W,),
            serious=(SUSPEND, REVOKE),
        ),
        s(
            "未经许可经营旅行社业务",
            "Running a travel agency business without a licence",
            "《中华人民共和国旅游法》",
            "第九十五条第一款",
            10000,
            100000,
            (FIX, GAINS),
            note=(
                "违法所得十万元以上的，并处违法所得一倍以上五倍以下罚款",
                "With illegal gains of 100,000 yuan or more: 1 to 5 times the gains",
            ),
        ),
    ],
    "emergency-management": [
        s(
            "未按照规定对从业人员进行安全生产教育和培训",
            "Staff not given work-safety education and training",
            SAFETY,
            "第九十七条第三项",
            0,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "未在有较大危险因素的生产经营场所和有关设施、设备上设置明显的安全警示标志",
            "No safety warning signs where there are major hazards",
            SAFETY,
            "第九十九条第一项",
            0,
            50000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "未对安全设备进行经常性维护、保养和定期检测",
            "Safety equipment not maintained and tested regularly",
            SAFETY,
            "第九十九条第三项",
            0,
            50000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "未建立安全风险分级管控制度或者未按照安全风险分级采取相应管控措施",
            "No graded safety-risk control system or measures",
            SAFETY,
            "第一百零一条第四项",
            0,
            100000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "生产、经营、储存、使用危险物品的车间、商店、仓库与员工宿舍在同一座建筑物内",
            "Dangerous goods workshop, shop or store in the same building as staff dormitories",
            SAFETY,
            "第一百零五条第一项",
            0,
            50000,
            (FIX,),
            serious=(SUSPEND,),
        ),
        s(
            "未经许可经营烟花爆竹制品",
            "Selling fireworks without a licence",
            FIREWORKS,
            "第三十六条",
            20000,
            100000,
            (STOP, GAINS, PROPERTY),
        ),
        s(
            "烟花爆竹零售经营者销售非法生产、经营的烟花爆竹",
            "Fireworks retailer selling illegally made or traded fireworks",
            FIREWORKS,
            "第三十八条第二款",
            1000,
            5000,
            (STOP, GAINS, PROPERTY),
            serious=(REVOKE,),
        ),
    ],
    "health": [
        s(
            "未依法取得公共场所卫生许可证擅自营业",
            "Operating a public place without a hygiene licence",
            PUBLIC_PLACE,
            "第三十五条第一款",
            500,
            30000,
            (FIX, W),
        ),
        s(
            "公共场所经营者未按照规定对顾客用品用具进行清洗、消毒、保洁，或者重复使用一次性用品用具",
            "Customer articles not cleaned and disinfected, or disposables reused",
            PUBLIC_PLACE,
            "第三十六条第二项",
            0,
            20000,
            (FIX, W),
            serious=(SUSPEND, REVOKE),
        ),
        s(
            "公共场所经营者安排未获得有效健康合格证明的从业人员从事直接为顾客服务工作",
            "Staff without a valid health certificate serving customers",
            PUBLIC_PLACE,
            "第三十八条",
            500,
            15000,
            (FIX, W),
        ),
        s(
            "供水单位未取得卫生许可证而擅自供水",
            "Water supplier without a hygiene licence",
            DRINKING,
            "第二十六条第三项",
            20,
            5000,
            (FIX,),
        ),
        s(
            "供水单位供应的饮用水不符合国家规定的生活饮用水卫生标准",
            "Drinking water below the national hygiene standard",
            DRINKING,
            "第二十六条第四项",
            20,
            5000,
            (FIX,),
        ),
    ],
}

# The lapsed pilot entrustment: duplicated the Highway Safety Protection Regulations item above,
# so the 2023 catalogue did not renew it.
LAPSED = (
    "transport",
    s(
        "在公路建筑控制区内修建建筑物、地面构筑物或者擅自埋设管线、电缆等设施",
        "Building or laying cables in a highway's building control zone (Highway Law)",
        ROAD_LAW,
        "第八十一条",
        0,
        50000,
        (DEMOLISH,),
    ),
)


def nice(amount: float) -> int:
    """Round ``amount`` to two significant digits (at least to whole yuan)."""
    if amount < 10:
        return max(round(amount), 0)
    step = 10 ** (int(math.log10(amount)) - 1)
    return int(round(amount / step) * step)


def yuan(amount: int) -> str:
    """Format a whole number of yuan the way the JSON stores money."""
    return f"{amount}.00"


def bands(spec: Spec) -> list[dict[str, Any]]:
    """Split the fine range into minor / general / serious bands, ascending, non-overlapping."""
    if spec.hi == 0:
        penalties = [*spec.always, *spec.minor, *spec.serious]
        return [
            {
                "level": "general",
                "min_fine": "0.00",
                "max_fine": "0.00",
                "other_penalties": list(dict.fromkeys(penalties)),
            }
        ]
    span = spec.hi - spec.lo
    cut1 = nice(spec.lo + span * 0.3)
    cut2 = nice(spec.lo + span * 0.7)
    assert spec.lo <= cut1 < cut2 < spec.hi, spec
    ranges = [("minor", spec.lo, cut1), ("general", cut1 + 1, cut2), ("serious", cut2 + 1, spec.hi)]
    extra = {"minor": spec.minor, "general": (), "serious": spec.serious}
    return [
        {
            "level": level,
            "min_fine": yuan(lo),
            "max_fine": yuan(hi),
            "other_penalties": list(dict.fromkeys([*spec.always, *extra[level]])),
        }
        for level, lo, hi in ranges
    ]


def item(code: str, department: str, category: str, spec: Spec) -> dict[str, Any]:
    """The JSON form of one enforcement item."""
    out: dict[str, Any] = {
        "code": code,
        "name": {"zh": spec.zh, "en": spec.en},
        "department": department,
        "category": category,
        "legal_basis": {"law": spec.law, "provision": spec.provision},
        "bands": bands(spec),
    }
    if spec.note is not None:
        out["fine_note"] = {"zh": spec.note[0], "en": spec.note[1]}
    return out


def entrustment(code: str, department: str, township: str, doc: dict[str, str]) -> dict[str, Any]:
    """The JSON form of one entrustment under ``doc``."""
    return {
        "item_code": code,
        "township": township,
        "entrusting_department": department,
        "document_no": doc["no"],
        "document_title": doc["title"],
        "published_on": doc["published_on"],
        "valid_from": doc["valid_from"],
        "valid_to": doc["valid_to"],
    }


def build() -> dict[str, Any]:
    """Assemble the whole catalogue."""
    prefixes = {code: prefix for code, prefix, *_ in DEPARTMENTS}
    counters: dict[str, int] = {}

    def next_code(department: str) -> str:
        counters[department] = counters.get(department, 0) + 1
        return f"ZF-{prefixes[department]}-{counters[department]:04d}"

    items = [item(next_code("township"), "township", "statutory_township", x) for x in STATUTORY]
    items += [
        item(next_code("market-supervision"), "market-supervision", "market_supervision", x)
        for x in MARKET
    ]
    entrusted_codes: list[str] = []
    entrustments: list[dict[str, Any]] = []
    for department, specs in ENTRUSTED.items():
        for spec in specs:
            code = next_code(department)
            items.append(item(code, department, "entrusted", spec))
            entrusted_codes.append(code)
    for township in TOWNSHIPS:
        for row in items:
            if row["code"] in entrusted_codes:
                entrustments.append(
                    entrustment(row["code"], row["department"], township, ENTRUSTING_DOC)
                )
    lapsed_department, lapsed_spec = LAPSED
    lapsed_code = next_code(lapsed_department)
    items.append(item(lapsed_code, lapsed_department, "entrusted", lapsed_spec))
    lapsed = entrustment(lapsed_code, lapsed_department, "zhaowan", LAPSED_DOC)
    lapsed["note"] = {
        "zh": "试点先行委托，未纳入2023年9月1日起施行的委托目录，已失效（用于演示过期委托）",
        "en": "Early pilot entrustment not renewed by the catalogue in force from 2023-09-01; "
        "lapsed on purpose so the expired-entrustment path can be exercised",
    }
    entrustments.append(lapsed)
    return {
        "townships": list(TOWNSHIPS),
        "departments": [
            {"code": code, "prefix": prefix, "name": {"zh": zh, "en": en}, "kind": kind}
            for code, prefix, zh, en, kind in DEPARTMENTS
        ],
        "documents": [
            {
                "title": STATUTORY_DOC["title"],
                "document_no": STATUTORY_DOC["no"],
                "published_on": STATUTORY_DOC["published_on"],
                "categories": ["statutory_township", "market_supervision"],
            },
            {
                "title": ENTRUSTING_DOC["title"],
                "document_no": ENTRUSTING_DOC["no"],
                "published_on": ENTRUSTING_DOC["published_on"],
                "categories": ["entrusted"],
            },
        ],
        "items": items,
        "presets": [
            {
                "name": "pilot",
                "document_no": ENTRUSTING_DOC["no"],
                "document_title": ENTRUSTING_DOC["title"],
                "published_on": ENTRUSTING_DOC["published_on"],
                "valid_from": ENTRUSTING_DOC["valid_from"],
                "valid_to": ENTRUSTING_DOC["valid_to"],
                "item_codes": entrusted_codes,
            }
        ],
        "entrustments": entrustments,
    }


def main(argv: list[str]) -> int:
    """Write (or with --check, verify) the catalogue JSON."""
    text = json.dumps(build(), ensure_ascii=False, indent=2) + "\n"
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
