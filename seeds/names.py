"""Tables behind the demo generator (`seeds/demo.py`): names, weights, employer profiles.

Everything here is illustrative, not statistics: weights are general knowledge (GK) chosen
so that the demo looks like Baise's outbound labor force, not figures to report. Codes
(regions, occupations, destinations) are those of `seeds/reference/*.json`; a code missing
from the database is skipped, an unlisted one gets a default weight.
"""

from __future__ import annotations

from dataclasses import dataclass

# Surnames of Baise, weighted: the Zhuang surnames (黄, 韦, 农, 陆, 覃, 蒙, 岑, 凌, 班, 闭,
# 劳, 麻, 零, 磨) are far more common here than in China as a whole (GK).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("黄", 15.0),
    ("韦", 10.0),
    ("农", 6.0),
    ("陆", 6.0),
    ("李", 5.5),
    ("罗", 5.0),
    ("梁", 4.5),
    ("覃", 4.0),
    ("杨", 4.0),
    ("蒙", 3.0),
    ("赵", 3.0),
    ("廖", 2.5),
    ("岑", 2.5),
    ("潘", 2.0),
    ("王", 2.0),
    ("陈", 2.0),
    ("凌", 1.5),
    ("许", 1.5),
    ("马", 1.5),
    ("刘", 1.5),
    ("何", 1.5),
    ("张", 1.2),
    ("周", 1.0),
    ("吴", 1.0),
    ("莫", 1.0),
    ("卢", 1.0),
    ("谭", 1.0),
    ("邓", 1.0),
    ("班", 0.8),
    ("苏", 0.8),
    ("唐", 0.8),
    ("闭", 0.6),
    ("冯", 0.6),
    ("田", 0.6),
    ("谢", 0.6),
    ("劳", 0.5),
    ("滕", 0.5),
    ("麻", 0.4),
    ("严", 0.4),
    ("零", 0.3),
    ("磨", 0.3),
    ("施", 0.3),
)

# Given names by gender and generation: born before 1975, 1975-1994, from 1995 on. Older
# Zhuang-region names lean on 桂 (Guangxi), 秀, 玉, 美, 金, 福; younger ones follow the
# national fashions.
GIVEN_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("male", "old"): (
        "建国", "国强", "建华", "志明", "海生", "金福", "德光", "永福", "文明", "春生",
        "国华", "少华", "荣华", "金生", "福生", "光明", "德胜", "振华", "庆华", "汉文",
        "志强", "卫东", "红军", "学文", "有才", "贵生", "桂林", "桂生", "世德", "世明",
        "绍光", "承德", "仕强", "显光", "宝林", "日新", "朝阳", "文斌", "德明", "永强",
        "永才", "开明", "家福", "建新", "明光", "德昌", "福林", "贵华", "强", "勇",
        "军", "华", "明", "平", "林", "忠", "兵", "福",
    ),
    ("male", "mid"): (
        "海军", "海波", "海涛", "志勇", "志军", "志刚", "小军", "建军", "建勇", "俊峰",
        "文华", "文杰", "伟强", "伟华", "永生", "永平", "春雷", "春明", "东明", "东升",
        "荣军", "荣光", "金龙", "金华", "明辉", "明亮", "德华", "德荣", "冠军", "立新",
        "光辉", "庆林", "桂平", "桂荣", "爱国", "新华", "少波", "小平", "家强", "朝晖",
        "世勇", "显军", "宏亮", "海峰", "振宇", "剑锋", "勇", "军", "斌", "涛",
        "杰", "伟", "鹏", "亮", "辉", "刚",
    ),
    ("male", "young"): (
        "俊杰", "宇航", "子豪", "浩然", "家豪", "志鹏", "文杰", "俊宇", "宇轩", "子轩",
        "浩宇", "俊豪", "嘉豪", "梓豪", "晨阳", "家乐", "宏宇", "智勇", "铭杰", "思远",
        "博文", "俊辉", "锦辉", "振宇", "家俊", "海洋", "天宇", "鑫", "磊", "杰",
        "超", "帅", "宇", "浩", "鹏", "欢",
    ),
    ("female", "old"): (
        "秀英", "玉兰", "秀兰", "桂英", "秀珍", "凤英", "玉珍", "桂兰", "美兰", "月娥",
        "金凤", "玉凤", "爱莲", "秀梅", "春梅", "桂芳", "美英", "秀芳", "玉梅", "月英",
        "凤兰", "玉英", "桂珍", "金莲", "妹英", "美莲", "秀琼", "爱珍", "春兰", "秀莲",
        "少英", "彩英", "丽英", "翠英", "翠兰", "英", "兰", "珍", "凤", "梅",
        "芳",
    ),
    ("female", "mid"): (
        "美玲", "丽萍", "海燕", "丽娟", "美丽", "春燕", "秀梅", "小燕", "海艳", "丽华",
        "玉婷", "美娟", "桂香", "桂芬", "丽芳", "晓燕", "艳芳", "金凤", "秋菊", "美凤",
        "燕萍", "小红", "海英", "丽霞", "月华", "春花", "美娇", "秀丽", "翠萍", "爱玲",
        "冬梅", "红梅", "小玲", "慧玲", "丽丹", "玉兰", "燕", "艳", "丽", "娟",
        "霞", "玲", "红", "萍",
    ),
    ("female", "young"): (
        "思琪", "雨欣", "梦婷", "佳怡", "晓燕", "欣怡", "雨婷", "紫涵", "诗琪", "婉婷",
        "佳琪", "梦琪", "静怡", "心怡", "雅婷", "丽婷", "美琪", "思雨", "嘉欣", "晓丽",
        "巧玲", "春燕", "燕妮", "丹丹", "婷婷", "玲玲", "莉莉", "倩", "婷", "琳",
        "瑶", "颖", "敏",
    ),
}  # fmt: skip

# HR contacts of Guangdong employers: Cantonese and Hakka surnames lead (GK).
CONTACT_SURNAMES: tuple[tuple[str, float], ...] = (
    ("陈", 8.0),
    ("李", 6.0),
    ("张", 5.0),
    ("黄", 5.0),
    ("刘", 4.0),
    ("王", 3.5),
    ("林", 3.5),
    ("杨", 3.0),
    ("吴", 3.0),
    ("周", 2.5),
    ("郑", 2.5),
    ("梁", 2.5),
    ("谢", 2.0),
    ("罗", 2.0),
    ("何", 2.0),
    ("邓", 2.0),
    ("曾", 2.0),
    ("彭", 1.5),
    ("冯", 1.5),
    ("叶", 1.5),
)

# Village (村) names: Zhuang place names start with 那 (paddy field), 板 (village), 弄/陇
# (karst valley), 岜 (rock hill), 渌 (pool)... and end with an old Zhuang syllable.
VILLAGE_HEADS: tuple[str, ...] = (
    "那", "板", "弄", "岜", "百", "坡", "渌", "念", "巴", "陇",
    "六", "达", "足", "伏", "古", "定", "叫", "内", "布", "果",
    "排", "龙", "新", "东", "平", "上", "下", "大", "江", "谷",
)  # fmt: skip
VILLAGE_TAILS: tuple[str, ...] = (
    "坡", "洪", "烈", "怀", "孟", "良", "荣", "合", "兰", "安",
    "马", "隆", "桑", "平", "江", "林", "旺", "劳", "内", "甲",
    "造", "温", "浪", "敏", "利", "峒", "桃", "立", "豆", "哈",
    "蒙", "腊", "沙", "明", "寨", "岭",
)  # fmt: skip
# Communities (社区) of the urban streets (街道).
COMMUNITY_NAMES: tuple[str, ...] = (
    "城东", "城西", "城南", "城北", "江滨", "向阳", "解放", "中山", "新华", "龙景",
    "东笋", "新兴", "和平", "东风", "站前", "民族", "凤凰", "百胜", "兴阳", "福禄",
)  # fmt: skip
VILLAGES_PER_TOWNSHIP = (8, 18)  # at least, fewer than

# County weights: roughly the registered population in units of 10,000 (GK, rounded;
# illustrative). 靖西, 平果, 田东, 右江 and 德保 send the most laborers.
COUNTY_WEIGHTS: dict[str, float] = {
    "451002": 42,  # 右江区
    "451003": 35,  # 田阳区
    "451022": 43,  # 田东县
    "451024": 37,  # 德保县
    "451026": 22,  # 那坡县
    "451027": 22,  # 凌云县
    "451028": 18,  # 乐业县
    "451029": 26,  # 田林县
    "451030": 16,  # 西林县
    "451031": 34,  # 隆林各族自治县
    "451081": 66,  # 靖西市
    "451082": 53,  # 平果市
}
DEFAULT_COUNTY_WEIGHT = 20.0

# Township weights by the kind in the code's digits 7-9 (GB/T 10114): 0xx streets are
# urban and send fewer migrant laborers; 4xx are company areas (德保铝业, 平果铝).
TOWNSHIP_KIND_WEIGHTS: tuple[tuple[str, float], ...] = (("0", 0.5), ("4", 0.1))
DEFAULT_TOWNSHIP_WEIGHT = 1.0

# Resident ID region codes of people who married in or moved in from neighbouring
# counties of Yunnan, Guizhou and Guangxi (from_outside_baise).
OUTSIDE_REGIONS: tuple[str, ...] = (
    "532628",  # 云南 富宁县
    "532627",  # 云南 广南县
    "532626",  # 云南 丘北县
    "522301",  # 贵州 兴义市
    "522327",  # 贵州 册亨县
    "451202",  # 广西 河池 金城江区
    "450102",  # 广西 南宁 兴宁区
)
OUTSIDE_SHARE_OF_WOMEN = 0.025

# Mainland mobile prefixes, weighted: China Mobile dominates in rural Guangxi (GK). Every
# prefix here is a valid mobile range for libphonenumber (checked by the tests).
MOBILE_PREFIXES: tuple[tuple[str, float], ...] = (
    ("134", 3), ("135", 5), ("136", 4), ("137", 5), ("138", 6), ("139", 6), ("147", 1),
    ("150", 3), ("151", 3), ("152", 3), ("157", 2), ("158", 3), ("159", 3), ("178", 2),
    ("182", 3), ("183", 3), ("184", 1), ("187", 4), ("188", 3), ("198", 2),
    ("130", 2), ("131", 2), ("132", 2), ("155", 2), ("156", 2), ("166", 1), ("175", 1),
    ("176", 2), ("185", 2), ("186", 3),
    ("133", 1), ("153", 1), ("173", 1), ("177", 2), ("180", 2), ("181", 1), ("189", 2),
    ("191", 1), ("199", 1), ("193", 1),
)  # fmt: skip

# Ages of migrant laborers: (first age, last age, weight); mean about 41, as the NBS
# migrant-worker surveys report for outbound laborers (~40-43).
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (16, 20, 3),
    (21, 30, 20),
    (31, 40, 27),
    (41, 50, 25),
    (51, 60, 20),
    (61, 65, 5),
)
MALE_SHARE = 0.6  # about 64% of migrant workers are men (NBS); less among the registered


# Occupations: share among the laborers' skills, multipliers by gender (male, female) and
# by age (<30, 30-49, 50+), the titles employers post, and the age limits they write.
@dataclass(frozen=True, slots=True)
class OccupationProfile:
    weight: float
    gender: tuple[float, float]  # factors for (male, female)
    age: tuple[float, float, float]  # factors for (<30, 30-49, 50+)
    titles: tuple[str, ...]
    age_limits: tuple[int, tuple[int, ...]]  # (usual minimum, choices of maximum)


OCCUPATIONS: dict[str, OccupationProfile] = {
    "electronics_operator": OccupationProfile(
        22, (1.0, 1.2), (1.6, 1.0, 0.3),
        ("电子厂普工", "SMT操作员", "流水线装配工", "电子产品组装普工", "品检员(普工)"),
        (18, (35, 40, 45)),
    ),
    "garment_sewer": OccupationProfile(
        6, (0.4, 2.0), (0.6, 1.2, 0.8), ("服装车位", "平车工", "缝纫工", "制衣厂车工"),
        (18, (45, 50, 55)),
    ),
    "construction_labourer": OccupationProfile(
        12, (1.6, 0.5), (0.6, 1.0, 1.6), ("建筑小工", "工地普工", "杂工"), (18, (55, 58, 60)),
    ),
    "construction_skilled": OccupationProfile(
        6, (2.0, 0.1), (0.4, 1.1, 1.3), ("钢筋工", "木工", "泥水工", "架子工"), (18, (55, 60)),
    ),
    "warehouse_picker": OccupationProfile(
        8, (1.0, 0.9), (1.4, 1.0, 0.5), ("仓库分拣员", "打包员", "理货员", "仓管员"),
        (18, (40, 45)),
    ),
    "courier": OccupationProfile(
        4, (1.5, 0.3), (1.4, 1.1, 0.3), ("快递员", "快递派送员", "快递收派员"), (18, (40, 45)),
    ),
    "delivery_rider": OccupationProfile(
        5, (1.7, 0.2), (1.8, 1.0, 0.2), ("外卖骑手", "同城配送员", "网约配送员"), (18, (45, 50)),
    ),
    "security_guard": OccupationProfile(
        5, (1.8, 0.15), (0.7, 0.9, 1.6), ("保安员", "工厂保安", "小区保安"), (18, (50, 55)),
    ),
    "cleaner": OccupationProfile(
        6, (0.5, 1.8), (0.2, 0.8, 2.5), ("保洁员", "清洁工", "厂区保洁"), (18, (55, 60, 65)),
    ),
    "waiter": OccupationProfile(
        4, (0.7, 1.5), (1.8, 0.8, 0.3), ("餐厅服务员", "传菜员", "楼面服务员"), (18, (35, 40, 45)),
    ),
    "cook": OccupationProfile(
        3, (1.3, 0.6), (0.6, 1.2, 0.9), ("厨师", "炒锅", "中餐厨师", "食堂厨师"), (20, (50, 55)),
    ),
    "kitchen_helper": OccupationProfile(
        4, (0.7, 1.5), (0.6, 1.0, 1.5), ("厨工", "洗碗工", "食堂帮厨", "切配工"),
        (18, (50, 55, 60)),
    ),
    "housekeeper": OccupationProfile(
        3, (0.05, 2.5), (0.3, 1.2, 1.3), ("家政服务员", "住家保姆", "育儿嫂", "钟点工"),
        (20, (50, 55)),
    ),
    "elder_carer": OccupationProfile(
        2, (0.3, 2.0), (0.4, 1.2, 1.2), ("养老护理员", "护理员", "护工"), (20, (50, 55)),
    ),
    "truck_driver": OccupationProfile(
        3, (1.9, 0.05), (0.5, 1.3, 0.8), ("货车司机(B2)", "厢式货车司机", "物流司机(A2)"),
        (22, (50, 55)),
    ),
    "forklift": OccupationProfile(
        2, (1.8, 0.1), (0.9, 1.2, 0.6), ("叉车司机", "叉车工"), (18, (45, 50)),
    ),
    "electrician": OccupationProfile(
        2, (1.9, 0.05), (0.8, 1.1, 1.0), ("电工", "维修电工", "设备电工"), (18, (50, 55)),
    ),
    "welder": OccupationProfile(
        2, (1.9, 0.05), (0.8, 1.1, 1.0), ("焊工", "电焊工", "氩弧焊工"), (18, (50, 55)),
    ),
    "auto_mechanic": OccupationProfile(
        1.5, (1.9, 0.05), (1.3, 1.0, 0.5), ("汽车维修工", "汽修学徒", "汽车机修工"),
        (18, (45, 50)),
    ),
}  # fmt: skip
DEFAULT_OCCUPATION = OccupationProfile(1.0, (1.0, 1.0), (1.0, 1.0, 1.0), (), (18, (50,)))
# How many skills a laborer lists: none (just registered, no trade yet), one, two, three.
SKILL_COUNT_WEIGHTS = (0.07, 0.58, 0.30, 0.05)
# A second skill is usually a related trade (the reference `related` lists).
SECOND_SKILL_RELATED = 0.6

# Where laborers would like to work (a preferred destination); most say "anywhere".
PREFERENCE_COUNT_WEIGHTS = (0.55, 0.38, 0.07)
PREFERENCE_WEIGHTS: dict[str, float] = {
    "440300": 30,  # 深圳市
    "441900": 14,  # 东莞市
    "440100": 3,  # 广州市
    "440600": 2,  # 佛山市
    "441300": 2,  # 惠州市
    "442000": 1,  # 中山市
    "440306": 6,  # 宝安区
    "440309": 5,  # 龙华区
    "440307": 5,  # 龙岗区
    "440311": 2,  # 光明区
    "440310": 1.5,  # 坪山区
    "440305": 1,  # 南山区
    "440304": 0.8,  # 福田区
    "440303": 0.5,  # 罗湖区
    "440308": 0.2,  # 盐田区
}
PREFERENCE_DEFAULT_BY_KIND = {"street": 1.0, "town": 1.5, "district": 0.5, "city": 1.0}

# Where employers are: mostly the factory streets of Shenzhen and the towns of Dongguan.
EMPLOYER_PLACE_WEIGHTS: dict[str, float] = {
    "440300": 0,  # an employer is registered at a district or street, not "Shenzhen"
    "441900": 3,
    "440100": 5,
    "440600": 4,
    "441300": 4,
    "442000": 2,
    "440306": 3,
    "440309": 3,
    "440307": 3,
    "440311": 2,
    "440310": 2,
    "440305": 2,
    "440304": 2,
    "440303": 1.5,
    "440308": 0.5,
}
EMPLOYER_PLACE_DEFAULT_BY_KIND = {"street": 3.2, "town": 3.8, "district": 1.5, "city": 2.0}
# The demo employer account acts for a factory here (宝安区福永街道) when the code exists.
DEMO_EMPLOYER_PLACE = "440306020"
DEMO_EMPLOYER_INDUSTRY = "electronics"

# Wages in the reference are Shenzhen's; the other cities pay a little less (the
# reference's Dongguan ranges are ~7% lower; the rest GK).
WAGE_FACTORS: dict[str, float] = {
    "440300": 1.0,
    "441900": 0.93,
    "440100": 0.98,
    "440600": 0.93,
    "442000": 0.92,
    "441300": 0.9,
}


@dataclass(frozen=True, slots=True)
class Industry:
    suffixes: tuple[str, ...]  # of the company name
    occupations: dict[str, float]  # what it recruits, weighted
    median_openings: float  # per vacancy, before scaling to the requested total


INDUSTRIES: dict[str, Industry] = {
    "electronics": Industry(
        ("电子科技有限公司", "电子有限公司", "精密电子有限公司", "智能科技有限公司",
         "光电科技有限公司"),
        {"electronics_operator": 78, "warehouse_picker": 8, "forklift": 3, "electrician": 3,
         "security_guard": 2, "kitchen_helper": 2, "cleaner": 2, "welder": 2},
        60,
    ),
    "hardware": Industry(
        ("五金制品有限公司", "塑胶制品有限公司", "精密模具有限公司", "机械设备有限公司",
         "新材料有限公司"),
        {"electronics_operator": 40, "welder": 18, "warehouse_picker": 14, "forklift": 8,
         "electrician": 8, "security_guard": 4, "cleaner": 4, "kitchen_helper": 4},
        30,
    ),
    "garment": Industry(
        ("服装有限公司", "服饰有限公司", "制衣有限公司", "鞋业有限公司", "皮具有限公司"),
        {"garment_sewer": 75, "warehouse_picker": 10, "electronics_operator": 4, "cleaner": 4,
         "kitchen_helper": 4, "security_guard": 3},
        25,
    ),
    "logistics": Industry(
        ("物流有限公司", "供应链管理有限公司", "速运有限公司", "仓储服务有限公司"),
        {"warehouse_picker": 40, "courier": 25, "truck_driver": 18, "forklift": 15,
         "security_guard": 2},
        30,
    ),
    "delivery": Industry(
        ("即时配送服务有限公司", "网络科技有限公司", "同城配送有限公司"),
        {"delivery_rider": 85, "courier": 15},
        40,
    ),
    "construction": Industry(
        ("建筑劳务有限公司", "建设工程有限公司", "建筑工程有限公司", "建筑劳务分包有限公司"),
        {"construction_labourer": 50, "construction_skilled": 35, "electrician": 6, "welder": 6,
         "kitchen_helper": 3},
        40,
    ),
    "property": Industry(
        ("物业管理有限公司", "物业服务有限公司", "保安服务有限公司", "环境服务有限公司"),
        {"security_guard": 50, "cleaner": 40, "electrician": 6, "kitchen_helper": 4},
        10,
    ),
    "catering": Industry(
        ("餐饮管理有限公司", "酒店管理有限公司", "餐饮服务有限公司", "饮食有限公司"),
        {"waiter": 40, "kitchen_helper": 30, "cook": 22, "cleaner": 8},
        6,
    ),
    "domestic": Industry(
        ("家政服务有限公司", "养老服务有限公司", "健康管理有限公司", "护理服务有限公司"),
        {"housekeeper": 55, "elder_carer": 45},
        8,
    ),
    "auto": Industry(
        ("汽车服务有限公司", "汽车维修有限公司", "汽车销售服务有限公司"),
        {"auto_mechanic": 80, "electrician": 10, "warehouse_picker": 5, "cleaner": 5},
        4,
    ),
}  # fmt: skip
# Industries by the kind of place: factory streets and towns are manufacturing, districts
# and cities have more services.
INDUSTRY_WEIGHTS_BY_PLACE: dict[str, dict[str, float]] = {
    "street": {"electronics": 45, "hardware": 20, "logistics": 12, "property": 6,
               "catering": 6, "garment": 5, "construction": 3, "delivery": 1, "domestic": 1,
               "auto": 1},
    "town": {"electronics": 30, "hardware": 25, "garment": 22, "logistics": 10, "property": 4,
             "catering": 4, "construction": 3, "auto": 2},
    "district": {"electronics": 15, "logistics": 15, "property": 15, "catering": 15,
                 "construction": 12, "delivery": 8, "domestic": 8, "hardware": 5, "auto": 4,
                 "garment": 3},
    "city": {"electronics": 15, "hardware": 15, "logistics": 15, "catering": 12,
             "construction": 12, "garment": 10, "property": 10, "delivery": 4, "domestic": 4,
             "auto": 3},
}  # fmt: skip

# Registering authorities for the credit codes of employers in cities without district
# destinations: (code, district name) - a credit code carries the district that issued it.
CITY_DISTRICTS: dict[str, tuple[tuple[str, str], ...]] = {
    "440100": (("440106", "天河区"), ("440111", "白云区"), ("440112", "黄埔区"),
               ("440113", "番禺区"), ("440114", "花都区"), ("440115", "南沙区"),
               ("440118", "增城区")),
    "440600": (("440604", "禅城区"), ("440605", "南海区"), ("440606", "顺德区"),
               ("440607", "三水区")),
    "441300": (("441302", "惠城区"), ("441303", "惠阳区"), ("441322", "博罗县"),
               ("441323", "惠东县")),
}  # fmt: skip
# Shenzhen registers most companies at the city level (914403...) rather than the district.
SHENZHEN_CITY_REGISTRATION = 0.7
# Credit codes: a share of firms predate 2015 and keep an old numeric organisation code.
OLD_ORGANISATION_CODE_SHARE = 0.3

BRAND_CHARS: tuple[str, ...] = (
    "鑫", "华", "宏", "达", "兴", "盛", "隆", "泰", "丰", "源", "昌", "利", "创", "新", "恒",
    "富", "骏", "德", "宝", "科", "美", "辉", "锦", "讯", "通", "联", "祥", "瑞", "佳", "荣",
    "顺", "嘉", "旺", "金", "海", "明", "亿", "永", "益", "捷", "腾", "星", "光", "诚", "信",
    "伟", "力", "凯", "欣", "品", "博", "安", "康", "裕", "峰", "立", "展", "致", "远", "维",
)  # fmt: skip
ROADS: tuple[str, ...] = (
    "工业大道", "兴业路", "创业路", "环镇路", "和平路", "福海大道", "宏发路", "新城路",
    "建设路", "东风路", "人民路", "南环路", "北环路", "科技路", "振兴路", "安居路",
    "富民路", "宝石路", "同富路", "金华路",
)  # fmt: skip
PARKS: tuple[str, ...] = (
    "第一工业区", "第二工业区", "第三工业区", "科技园", "工业园", "产业园", "高新园",
)  # fmt: skip
