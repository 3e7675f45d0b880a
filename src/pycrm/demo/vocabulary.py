"""Word lists the sample data draws from: names, places, industries and sales talk.

Kept apart from the generator so the data reads like a real book of business in China and
abroad, and so a later section (pipeline, service) can reuse the same people and places.
"""

from __future__ import annotations

from typing import Final

SURNAMES_ZH: Final = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("罗", "luo"), ("高", "gao"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
)  # fmt: skip
"""(hanzi, pinyin) pairs; the pinyin makes believable email addresses and messaging ids."""
GIVEN_NAMES_ZH: Final = (
    ("伟", "wei", "male"), ("芳", "fang", "female"), ("娜", "na", "female"),
    ("敏", "min", "female"), ("静", "jing", "female"), ("丽", "li", "female"),
    ("强", "qiang", "male"), ("磊", "lei", "male"), ("军", "jun", "male"),
    ("洋", "yang", "male"), ("勇", "yong", "male"), ("艳", "yan", "female"),
    ("杰", "jie", "male"), ("娟", "juan", "female"), ("涛", "tao", "male"),
    ("明", "ming", "male"), ("超", "chao", "male"), ("秀英", "xiuying", "female"),
    ("霞", "xia", "female"), ("平", "ping", "undisclosed"), ("刚", "gang", "male"),
    ("文", "wen", "undisclosed"), ("华", "hua", "undisclosed"), ("建国", "jianguo", "male"),
    ("晓东", "xiaodong", "male"), ("雪", "xue", "female"), ("婷", "ting", "female"),
    ("宇", "yu", "male"), ("浩然", "haoran", "male"), ("思远", "siyuan", "male"),
    ("欣怡", "xinyi", "female"), ("子涵", "zihan", "female"), ("俊杰", "junjie", "male"),
    ("雨桐", "yutong", "female"),
)  # fmt: skip
"""(hanzi, pinyin, gender) of common given names."""
FIRST_NAMES_EN: Final = (
    ("Emily", "female"), ("James", "male"), ("Olivia", "female"), ("Michael", "male"),
    ("Sophia", "female"), ("William", "male"), ("Emma", "female"), ("Daniel", "male"),
    ("Charlotte", "female"), ("Benjamin", "male"), ("Amelia", "female"), ("Lucas", "male"),
    ("Grace", "female"), ("Henry", "male"), ("Chloe", "female"), ("Samuel", "male"),
    ("Hannah", "female"), ("Jack", "male"), ("Isabella", "female"), ("Thomas", "male"),
    ("Laura", "female"), ("Marco", "male"), ("Sofia", "female"), ("Lukas", "male"),
    ("Anna", "female"), ("Pierre", "male"), ("Claire", "female"), ("Alex", "undisclosed"),
)  # fmt: skip
LAST_NAMES_EN: Final = (
    "Carter", "Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Anderson",
    "Thompson", "White", "Harris", "Martin", "Clark", "Lewis", "Walker", "Young", "Allen",
    "Wright", "Scott", "Becker", "Rossi", "Dubois", "Jansen", "Novak", "Hughes", "Bennett",
)  # fmt: skip
HONORIFICS_EN: Final = {"female": ("Ms.", "Dr."), "male": ("Mr.", "Dr."), "undisclosed": ("Mx.",)}

COMPANY_WORDS_ZH: Final = (
    ("精密", "jingmi"), ("智能", "zhineng"), ("恒信", "hengxin"), ("宏达", "hongda"),
    ("新源", "xinyuan"), ("博远", "boyuan"), ("瑞丰", "ruifeng"), ("中科", "zhongke"),
    ("天成", "tiancheng"), ("鼎盛", "dingsheng"), ("汇通", "huitong"), ("金桥", "jinqiao"),
    ("启明", "qiming"), ("盛世", "shengshi"), ("安泰", "antai"), ("联创", "lianchuang"),
    ("远航", "yuanhang"), ("华信", "huaxin"), ("永泰", "yongtai"), ("众合", "zhonghe"),
)  # fmt: skip
"""(hanzi, pinyin) of words in company names; the pinyin gives the web and mail domain."""
COMPANY_WORDS_EN: Final = (
    "Northwind", "Bluewater", "Summit", "Ironbridge", "Crescent", "Evergreen", "Pioneer",
    "Silverline", "Redwood", "Harbor", "Atlas", "Beacon", "Keystone", "Meridian", "Orchard",
    "Riverside", "Granite", "Lakeshore", "Westfield", "Brightstone",
)  # fmt: skip

INDUSTRIES: Final = (
    "manufacturing", "retail", "software", "healthcare", "logistics", "education", "finance",
    "energy", "construction", "hospitality",
)  # fmt: skip
INDUSTRY_WEIGHTS: Final = (24, 16, 14, 10, 10, 8, 7, 5, 4, 2)
"""Roughly how an industrial supplier's book spreads: manufacturing first."""

BUSINESS_ZH: Final = {
    "manufacturing": ("制造有限公司", "机械有限公司", "电子科技有限公司"),
    "retail": ("商贸有限公司", "连锁超市有限公司", "百货有限公司"),
    "software": ("软件有限公司", "信息技术有限公司", "网络科技有限公司"),
    "healthcare": ("医疗器械有限公司", "医药有限公司", "健康管理有限公司"),
    "logistics": ("物流有限公司", "供应链管理有限公司", "货运代理有限公司"),
    "education": ("教育科技有限公司", "培训学校", "职业技术学院"),
    "finance": ("融资租赁有限公司", "投资管理有限公司", "保险代理有限公司"),
    "energy": ("新能源有限公司", "电力设备有限公司", "光伏科技有限公司"),
    "construction": ("建设工程有限公司", "建材有限公司", "装饰工程有限公司"),
    "hospitality": ("酒店管理有限公司", "餐饮管理有限公司", "旅游发展有限公司"),
}
BUSINESS_EN: Final = {
    "manufacturing": ("Components Ltd", "Precision Manufacturing Inc", "Industrial GmbH"),
    "retail": ("Retail Group", "Stores Inc", "Trading Co"),
    "software": ("Software Inc", "Systems Ltd", "Digital Labs"),
    "healthcare": ("Medical Devices Inc", "Health Partners", "Clinics Group"),
    "logistics": ("Logistics Ltd", "Freight Services", "Supply Chain Inc"),
    "education": ("Learning Ltd", "Academy", "Education Services"),
    "finance": ("Capital Partners", "Leasing Ltd", "Financial Services"),
    "energy": ("Energy Solutions", "Solar Inc", "Power Systems"),
    "construction": ("Construction Co", "Building Materials Ltd", "Contractors Inc"),
    "hospitality": ("Hotels Group", "Hospitality Ltd", "Restaurants Inc"),
}

REGIONS_CN: Final = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
REGION_WEIGHTS_CN: Final = (30, 22, 18, 10, 10, 5, 5)
PLACES_CN: Final = {
    "华东": (
        ("华东", "江南", "苏州", "宁波", "杭州", "无锡", "东方"),
        ("021", "0571", "025", "0512"),
    ),
    "华南": (("华南", "珠江", "深圳", "厦门", "海西"), ("020", "0755", "0592")),
    "华北": (("华北", "北方", "天津", "青岛"), ("010", "022", "0532")),
    "华中": (("中原", "长江", "武汉"), ("027", "0731", "0371")),
    "西南": (("西部", "成都", "重庆"), ("028", "023")),
    "西北": (("西部", "西安", "兰州"), ("029", "0931")),
    "东北": (("北方", "沈阳", "大连"), ("024", "0411")),
}
"""Region -> (place words companies there put in their names, telephone area codes)."""
REGIONS_ABROAD: Final = ("North America", "Europe", "Southeast Asia", "Middle East")
REGION_WEIGHTS_ABROAD: Final = (40, 35, 18, 7)
EMAIL_DOMAINS_ABROAD: Final = {
    "North America": "com",
    "Europe": "eu",
    "Southeast Asia": "sg",
    "Middle East": "ae",
}
PHONE_PREFIXES_ABROAD: Final = {
    "North America": "+1 415 555 ",
    "Europe": "+49 30 5550 ",
    "Southeast Asia": "+65 6555 ",
    "Middle East": "+971 4 555 ",
}

SOURCE_CHANNELS: Final = (
    "web form", "exhibition", "referral", "phone", "social", "search ads", "partner",
    "email campaign",
)  # fmt: skip
SOURCE_WEIGHTS: Final = (26, 14, 16, 10, 12, 10, 7, 5)

TEAMS: Final = {
    "East China": ("li.na", "wang.fang", "zhou.jie", "xu.lei"),
    "South China": ("chen.jing", "huang.tao", "lin.xia"),
    "North China": ("zhao.qiang", "sun.li", "ma.chao"),
    "West China": ("yang.yu", "he.ping"),
    "International": ("emily.carter", "lukas.becker", "sofia.rossi", "james.wilson"),
}
TEAM_BY_REGION: Final = {
    "华东": "East China",
    "华中": "East China",
    "华南": "South China",
    "华北": "North China",
    "东北": "North China",
    "西南": "West China",
    "西北": "West China",
}

POSITIONS_ZH: Final = (
    "总经理", "采购经理", "技术总监", "财务经理", "运营主管", "IT 经理", "副总裁",
)  # fmt: skip
POSITIONS_EN: Final = (
    "CEO", "Purchasing Manager", "CTO", "Finance Manager", "Operations Lead", "IT Manager",
    "VP Sales",
)  # fmt: skip
DECISION_POSITIONS: Final = frozenset({"总经理", "副总裁", "CEO", "VP Sales", "采购经理"})

PRODUCTS: Final[tuple[tuple[str, str, str, str], ...]] = (
    # (sku, description, unit price in CNY, unit price in USD)
    ("CRM-STD", "CRM Standard licence (per seat, yearly)", "1200", "168"),
    ("CRM-PRO", "CRM Professional licence (per seat, yearly)", "2400", "336"),
    ("IMPL-D", "Implementation services (per day)", "3000", "450"),
    ("TRAIN", "On-site training (per session)", "5000", "720"),
    ("SUP-GOLD", "Gold support plan (yearly)", "18000", "2500"),
    ("HW-SCAN", "Barcode scanner", "860", "120"),
    ("HW-POS", "POS terminal", "3200", "460"),
    ("INT-ERP", "ERP integration package", "26000", "3600"),
)
PURCHASE_INTENTS: Final = ("software", "hardware", "services", "training", "support", "integration")
EXTRA_TAGS: Final = ("key-account", "price-sensitive", "reference-customer", "new-logo", "vip")

INTERACTION_SUMMARIES: Final = (
    "Introduced our product line and sent the brochure",
    "Discussed their current system and pain points",
    "Demo of the reporting module for the operations team",
    "Walked through the quotation line by line",
    "Follow-up on the trial: feedback from the warehouse team",
    "Quarterly business review with purchasing",
    "Call about the renewal and additional seats",
    "Site visit: met the plant manager and toured the line",
    "初次电话沟通并介绍公司产品",
    "上门拜访了解生产管理需求",
    "演示报表功能并收集反馈",
    "商务谈判讨论价格与付款方式",
    "回访使用情况并收集改进建议",
)  # fmt: skip
NEEDS: Final = (
    "multi-warehouse inventory", "mobile access for field staff", "integration with their ERP",
    "Chinese and English invoices", "role-based permissions", "data migration from Excel",
    "需要对接现有 ERP 系统", "希望支持移动端审批", "需要多仓库管理",
)  # fmt: skip
OBJECTIONS: Final = (
    "price is above budget", "worried about data migration effort",
    "already uses a competitor", "needs approval from headquarters", "timeline too tight",
    "价格偏高", "担心实施周期太长", "需要总部审批",
)  # fmt: skip
COMMITMENTS: Final = (
    "will share the requirement list", "will arrange a meeting with the CFO",
    "will run a two-week trial", "will confirm the budget by month end",
    "客户承诺下周提供需求清单", "答应安排技术负责人参加演示",
)  # fmt: skip
RESULTS: Final = (
    "interested", "needs more information", "quotation requested", "no decision yet",
    "positive", "on hold",
)  # fmt: skip
NEXT_ACTIONS: Final = (
    "Send the revised quotation", "Schedule a product demo", "Call back to confirm budget",
    "Prepare the trial account", "Visit with the solution engineer", "发送合同草案",
    "安排技术交流会",
)  # fmt: skip
TASK_SUBJECTS: Final = (
    "Follow up on the quotation", "Prepare the renewal offer", "Write the visit report",
    "Send the product brochure", "Check payment status with finance", "Update the contact list",
    "回访客户满意度", "准备投标文件",
)  # fmt: skip
OPPORTUNITY_TITLES: Final = (
    "CRM rollout for the sales team", "ERP integration project", "Warehouse scanner upgrade",
    "POS terminals for new stores", "Support contract renewal", "Professional seats expansion",
    "销售管理系统升级", "门店收银设备采购", "多仓库存管理项目",
)  # fmt: skip
LOST_REASONS: Final = (
    "chose a competitor", "budget cut for this year", "project postponed",
    "price above budget", "no decision maker support", "选择了竞争对手", "预算被削减",
    "项目延期",
)  # fmt: skip

SERVICE_GROUPS: Final = {
    "customer_care": ("liu.yang", "gao.min"),
    "technical_support": ("wu.hao", "zheng.kai", "song.jia"),
    "complaints": ("tang.li", "feng.xue"),
}
GROUP_BY_TICKET_TYPE: Final = {
    "inquiry": "customer_care",
    "fault": "technical_support",
    "complaint": "complaints",
}
TICKET_TYPE_WEIGHTS: Final = {"inquiry": 50, "fault": 30, "complaint": 20}
TICKET_PRIORITY_WEIGHTS: Final = {"urgent": 10, "normal": 70, "low": 20}
TICKET_CATEGORIES: Final = ("delivery", "billing", "installation", "product quality", "account")
TICKET_SUBJECTS: Final = {
    "inquiry": (
        "How do I add users to our licence?",
        "Invoice copy needed for March",
        "Training dates for new staff",
        "Which version supports SSO?",
    ),
    "fault": (
        "Sync job fails every night",
        "Label printer driver crashes",
        "Dashboard shows no data since update",
        "API returns 500 on order export",
    ),
    "complaint": (
        "Parcel arrived damaged",
        "Charged twice for one order",
        "Engineer did not show up",
        "Replacement part is the wrong model",
    ),
}
TICKET_SOLUTIONS: Final = (
    "Walked the customer through the settings",
    "Sent replacement and prepaid return label",
    "Refund issued to the original payment method",
    "Patched configuration and re-ran the job",
    "Rescheduled the visit with a confirmed time",
)
SATISFACTION_COMMENTS: Final = (
    None,
    None,
    "Quick and friendly",
    "Took too long to get an answer",
    "Solved at the first call",
    "Had to explain the problem twice",
)
