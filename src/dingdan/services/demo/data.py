"""The fixed tables the demo draws from: warehouses, products, places, names, reasons.

Plain data, no I/O. Places are real provinces, cities and districts with their postcodes;
e-mail addresses use the reserved ``example.*`` domains (RFC 2606), so nothing the demo
makes can reach a real mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DemoWarehouse:
    code: str
    name: str
    region: str
    city: str
    address: str
    priority: int
    stock_share: float  # the part of expected demand its opening stock covers


WAREHOUSES: tuple[DemoWarehouse, ...] = (
    DemoWarehouse("SH", "上海青浦仓", "上海", "上海市", "上海市青浦区华新镇华志路 1688 号",
                  30, 0.70),
    DemoWarehouse("GZ", "广州白云仓", "广东", "广州市", "广东省广州市白云区太和镇广从七路 88 号",
                  20, 0.50),
    DemoWarehouse("CD", "成都双流仓", "四川", "成都市", "四川省成都市双流区西航港大道 2199 号",
                  10, 0.40),
)


@dataclass(frozen=True, slots=True)
class DemoProduct:
    sku: str
    name: str
    model: str
    price_yuan: int
    weight_g: int
    dims_mm: tuple[int, int, int]
    only_in: str | None = None  # a regional speciality stocked in one warehouse only
    fragile: bool = False


def _p(sku: str, name: str, model: str, price: int, weight: int, dims: tuple[int, int, int],
       only_in: str | None = None, fragile: bool = False) -> DemoProduct:
    return DemoProduct(sku, name, model, price, weight, dims, only_in, fragile)


PRODUCTS: tuple[DemoProduct, ...] = (
    # 数码配件
    _p("3C-001", "20000mAh 快充移动电源", "PD22.5W 曜石黑", 129, 420, (152, 73, 27)),
    _p("3C-002", "10000mAh 磁吸无线充电宝", "15W 星光白", 149, 230, (104, 68, 17)),
    _p("3C-003", "65W 氮化镓三口充电器", "2C1A 白色", 119, 120, (60, 60, 30)),
    _p("3C-004", "USB-C 编织数据线 1.5m", "100W 深空灰", 39, 45, (120, 80, 20)),
    _p("3C-005", "真无线降噪蓝牙耳机", "ANC 曜石黑", 399, 160, (98, 98, 40)),
    _p("3C-006", "头戴式无线耳机", "40mm 动圈 米白", 599, 380, (210, 180, 90)),
    _p("3C-007", "87 键机械键盘", "茶轴 RGB 背光", 329, 980, (370, 160, 50)),
    _p("3C-008", "无线静音鼠标", "2.4G+蓝牙 深空灰", 89, 110, (125, 85, 45)),
    _p("3C-009", "27 英寸 4K 显示器", "IPS 60Hz 低蓝光", 1899, 6500, (700, 480, 160)),
    _p("3C-010", "铝合金笔记本电脑支架", "可折叠 银色", 79, 320, (260, 230, 30)),
    _p("3C-011", "1080P 高清网络摄像头", "自动对焦 带麦克风", 199, 160, (110, 70, 60)),
    _p("3C-012", "智能运动手环", "心率血氧 黑色", 229, 90, (100, 60, 30)),
    _p("3C-013", "6.3 英寸透明磁吸手机壳", "防摔 透明", 49, 60, (180, 100, 20)),
    _p("3C-014", "64GB 金属 U 盘", "USB 3.2", 45, 30, (90, 60, 15)),
    _p("3C-015", "1TB 移动固态硬盘", "Type-C 1050MB/s", 549, 120, (110, 60, 20)),
    # 家电
    _p("HA-001", "可视窗空气炸锅", "5.5L 奶白", 329, 4800, (360, 320, 350)),
    _p("HA-002", "304 不锈钢电热水壶", "1.7L 防干烧", 99, 1200, (230, 170, 250)),
    _p("HA-003", "静音破壁料理机", "1.75L 8 档", 599, 5200, (260, 240, 480)),
    _p("HA-004", "IH 球釜电饭煲", "4L 智能预约", 459, 4600, (330, 290, 270)),
    _p("HA-005", "负离子吹风机", "1800W 速干", 199, 650, (250, 220, 100)),
    _p("HA-006", "扫地机器人", "激光导航 自动集尘", 2499, 11000, (520, 480, 420)),
    _p("HA-007", "上加水加湿器", "4L 静音", 159, 1500, (280, 200, 200)),
    _p("HA-008", "声波电动牙刷", "5 档 白色", 169, 300, (240, 80, 60)),
    _p("HA-009", "手持挂烫机", "1500W 蒸汽", 129, 900, (300, 150, 120)),
    # 个护
    _p("PC-001", "氨基酸洁面乳", "120g", 59, 160, (180, 55, 40)),
    _p("PC-002", "玻尿酸补水面膜", "25ml×10 片", 89, 330, (220, 160, 40)),
    _p("PC-003", "清透防晒乳", "SPF50+ PA++++ 50ml", 118, 90, (140, 50, 35)),
    _p("PC-004", "无硅油洗发水", "500ml", 49, 560, (220, 80, 60)),
    _p("PC-005", "家庭装沐浴露", "1L 白茶香", 45, 1080, (260, 100, 70)),
    _p("PC-006", "护手霜礼盒", "30g×5 支", 69, 260, (200, 150, 40)),
    # 食品
    _p("FD-001", "每日坚果", "25g×30 包", 129, 800, (300, 200, 120)),
    _p("FD-002", "五常稻花香大米", "5kg 真空装", 89, 5200, (400, 250, 90)),
    _p("FD-003", "郫县豆瓣酱", "1kg 红油", 29, 1100, (150, 110, 110), only_in="CD"),
    _p("FD-004", "牛油火锅底料", "500g×2 袋", 39, 1050, (220, 160, 60), only_in="CD"),
    _p("FD-005", "灯影牛肉丝", "麻辣 250g", 45, 280, (200, 140, 40), only_in="CD"),
    _p("FD-006", "广式腊肠", "二八肥瘦 500g", 69, 520, (280, 160, 40), only_in="GZ"),
    _p("FD-007", "凤凰单丛茶", "蜜兰香 250g 罐装", 168, 420, (110, 110, 160), only_in="GZ"),
    _p("FD-008", "云南普洱熟茶", "357g 饼", 198, 400, (200, 200, 30)),
    _p("FD-009", "明前西湖龙井", "特级 100g", 288, 200, (120, 80, 160)),
    _p("FD-010", "中深烘挂耳咖啡", "10g×20 袋", 69, 260, (200, 120, 80)),
    _p("FD-011", "全脂纯牛奶", "250ml×24 盒", 65, 6500, (350, 240, 130)),
    _p("FD-012", "九蒸九晒黑芝麻丸", "252g", 39, 280, (160, 120, 60)),
    # 家居
    _p("HM-001", "60 支长绒棉四件套", "1.8m 床 雾霾蓝", 399, 2400, (400, 320, 100)),
    _p("HM-002", "天然乳胶枕", "波浪款 一只装", 139, 1300, (600, 400, 120)),
    _p("HM-003", "316 不锈钢真空保温杯", "500ml 雾霾蓝", 89, 350, (80, 80, 230)),
    _p("HM-004", "釉下彩陶瓷餐具套装", "16 件", 199, 5600, (420, 320, 200), fragile=True),
    _p("HM-005", "玻璃密封罐", "1.2L×3 只", 49, 1800, (330, 120, 180), fragile=True),
    _p("HM-006", "可折叠收纳箱", "55L×2 只", 79, 2600, (500, 350, 120)),
    _p("HM-007", "檀香香薰蜡烛", "200g 玻璃杯", 59, 520, (100, 100, 110), fragile=True),
    _p("HM-008", "珊瑚绒毛毯", "150×200cm 燕麦色", 89, 1400, (400, 300, 120)),
    # 母婴
    _p("MB-001", "婴儿纸尿裤", "L 码 54 片", 99, 1900, (380, 250, 150)),
    _p("MB-002", "婴儿手口湿巾", "80 抽×10 包", 59, 3200, (400, 300, 200)),
    _p("MB-003", "儿童吸管保温杯", "400ml 恐龙绿", 79, 330, (85, 85, 210)),
    # 运动
    _p("SP-001", "加宽 NBR 瑜伽垫", "10mm 185×80cm", 69, 1100, (800, 150, 150)),
    _p("SP-002", "可调节哑铃", "20kg 一对", 299, 20500, (450, 250, 220)),
    _p("SP-003", "缓震跑步鞋", "男款 42 码 黑白", 359, 900, (330, 220, 120)),
    _p("SP-004", "速干运动 T 恤", "男款 L 码 藏青", 79, 180, (300, 250, 20)),
    # 办公
    _p("OF-001", "按动中性笔", "0.5mm 黑色 12 支", 19, 150, (160, 90, 20)),
    _p("OF-002", "A4 复印纸", "70g 500 张×5 包", 129, 12500, (440, 310, 230)),
    _p("OF-003", "人体工学办公椅", "网背 带头枕", 699, 16000, (680, 620, 360)),
)

OFFICE_SKUS = ("OF-001", "OF-002", "OF-003", "3C-004", "3C-008", "3C-009", "3C-010", "3C-014")


@dataclass(frozen=True, slots=True)
class Place:
    province: str
    city: str
    district: str
    postcode: str
    zone: int  # days a parcel from the east-coast warehouses usually takes: 1 (near) to 4


# (province, weight by online-shopping volume, [(city, district, postcode), ...], zone)
_PROVINCES: tuple[tuple[str, float, tuple[tuple[str, str, str], ...], int], ...] = (
    ("广东省", 14, (("广州市", "天河区", "510630"), ("广州市", "越秀区", "510030"),
                   ("广州市", "番禺区", "511400"), ("深圳市", "南山区", "518052"),
                   ("深圳市", "福田区", "518048"), ("深圳市", "宝安区", "518101"),
                   ("佛山市", "南海区", "528200")), 2),
    ("浙江省", 10, (("杭州市", "西湖区", "310012"), ("杭州市", "余杭区", "311100"),
                   ("宁波市", "鄞州区", "315100"), ("温州市", "鹿城区", "325000")), 1),
    ("江苏省", 10, (("南京市", "鼓楼区", "210008"), ("南京市", "江宁区", "211100"),
                   ("苏州市", "姑苏区", "215000"), ("无锡市", "梁溪区", "214000")), 1),
    ("上海市", 9, (("上海市", "浦东新区", "200120"), ("上海市", "黄浦区", "200001"),
                  ("上海市", "徐汇区", "200030"), ("上海市", "静安区", "200040"),
                  ("上海市", "闵行区", "201100"), ("上海市", "杨浦区", "200082")), 1),
    ("北京市", 8, (("北京市", "朝阳区", "100020"), ("北京市", "海淀区", "100080"),
                  ("北京市", "东城区", "100010"), ("北京市", "丰台区", "100071")), 2),
    ("山东省", 5, (("济南市", "历下区", "250014"), ("青岛市", "市南区", "266001")), 2),
    ("四川省", 5, (("成都市", "武侯区", "610041"), ("成都市", "锦江区", "610021"),
                  ("成都市", "成华区", "610051"), ("绵阳市", "涪城区", "621000")), 3),
    ("福建省", 4, (("厦门市", "思明区", "361001"), ("福州市", "鼓楼区", "350001")), 2),
    ("湖北省", 4, (("武汉市", "洪山区", "430070"), ("武汉市", "江汉区", "430015")), 2),
    ("河南省", 4, (("郑州市", "金水区", "450000"),), 2),
    ("湖南省", 3, (("长沙市", "岳麓区", "410006"), ("长沙市", "天心区", "410004")), 2),
    ("安徽省", 3, (("合肥市", "蜀山区", "230031"),), 1),
    ("重庆市", 3, (("重庆市", "渝中区", "400010"), ("重庆市", "江北区", "400020")), 3),
    ("天津市", 2, (("天津市", "和平区", "300041"), ("天津市", "南开区", "300100")), 2),
    ("陕西省", 2, (("西安市", "雁塔区", "710061"), ("西安市", "碑林区", "710001")), 3),
    ("河北省", 2, (("石家庄市", "长安区", "050011"),), 2),
    ("辽宁省", 2, (("沈阳市", "和平区", "110001"), ("大连市", "中山区", "116001")), 3),
    ("江西省", 1.5, (("南昌市", "东湖区", "330006"),), 2),
    ("云南省", 1.5, (("昆明市", "五华区", "650032"),), 3),
    ("广西壮族自治区", 1.5, (("南宁市", "青秀区", "530022"),), 3),
    ("贵州省", 1, (("贵阳市", "云岩区", "550001"),), 3),
    ("黑龙江省", 1, (("哈尔滨市", "南岗区", "150001"),), 3),
    ("吉林省", 1, (("长春市", "朝阳区", "130012"),), 3),
    ("山西省", 1, (("太原市", "小店区", "030032"),), 3),
    ("海南省", 0.8, (("海口市", "美兰区", "570203"),), 3),
    ("新疆维吾尔自治区", 0.5, (("乌鲁木齐市", "天山区", "830002"),), 4),
    ("内蒙古自治区", 0.5, (("呼和浩特市", "新城区", "010050"),), 4),
    ("甘肃省", 0.5, (("兰州市", "城关区", "730030"),), 4),
)

PLACES: tuple[tuple[Place, float], ...] = tuple(
    (Place(province, city, district, postcode, zone), weight / len(places))
    for province, weight, places, zone in _PROVINCES
    for city, district, postcode in places
)

ROADS = ("人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "新华路", "文化路",
         "青年路", "胜利路", "滨江路", "光明路", "幸福路", "科技路", "迎宾大道", "学府路")
ESTATES = ("阳光花园", "锦绣家园", "翠苑小区", "世纪华庭", "金色家园", "碧水湾", "明珠苑",
           "紫荆花园", "书香名邸", "枫林小区", "江南雅居", "天悦府")
TOWERS = ("国际金融中心", "财富广场", "时代大厦", "创新科技园", "环球中心", "中天大厦")

# (surname, pinyin, weight): the common surnames, roughly by frequency.
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.5), ("赵", "zhao", 2.3),
    ("吴", "wu", 2.1), ("周", "zhou", 2.1), ("徐", "xu", 1.7), ("孙", "sun", 1.5),
    ("马", "ma", 1.5), ("朱", "zhu", 1.3), ("胡", "hu", 1.3), ("郭", "guo", 1.2),
    ("何", "he", 1.2), ("林", "lin", 1.1), ("罗", "luo", 1.0), ("高", "gao", 1.0),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.9), ("谢", "xie", 0.8), ("宋", "song", 0.7),
    ("唐", "tang", 0.7), ("许", "xu", 0.7), ("韩", "han", 0.6), ("冯", "feng", 0.6),
    ("邓", "deng", 0.6), ("曹", "cao", 0.6), ("彭", "peng", 0.5), ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.5), ("田", "tian", 0.5), ("董", "dong", 0.5), ("潘", "pan", 0.4),
    ("袁", "yuan", 0.4), ("蔡", "cai", 0.4), ("蒋", "jiang", 0.4), ("余", "yu", 0.4),
    ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4), ("魏", "wei", 0.3),
    ("苏", "su", 0.3), ("丁", "ding", 0.3), ("任", "ren", 0.3), ("沈", "shen", 0.3),
)

GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"),
    ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"), ("刚", "gang"),
    ("桂英", "guiying"), ("浩然", "haoran"), ("子轩", "zixuan"), ("雨涵", "yuhan"),
    ("欣怡", "xinyi"), ("梓涵", "zihan"), ("宇航", "yuhang"), ("思远", "siyuan"),
    ("佳怡", "jiayi"), ("晨", "chen"), ("婷婷", "tingting"), ("建华", "jianhua"),
    ("志强", "zhiqiang"), ("海燕", "haiyan"), ("文博", "wenbo"), ("一鸣", "yiming"),
    ("诗琪", "shiqi"), ("俊杰", "junjie"), ("晓东", "xiaodong"), ("慧敏", "huimin"),
    ("建国", "jianguo"), ("子涵", "zihan"), ("雪", "xue"), ("鹏", "peng"), ("博文", "bowen"),
)

# Mainland mobile prefixes of the three carriers (all valid for libphonenumber).
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150",
                   "151", "152", "153", "155", "156", "157", "158", "159", "166", "173",
                   "176", "177", "180", "181", "182", "183", "185", "186", "187", "188",
                   "189", "199")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")

COMPANY_WORDS = (("华创", "huachuang"), ("恒信", "hengxin"), ("启航", "qihang"),
                 ("卓越", "zhuoyue"), ("鼎盛", "dingsheng"), ("锦程", "jincheng"),
                 ("和泰", "hetai"), ("瑞丰", "ruifeng"), ("新元", "xinyuan"),
                 ("博远", "boyuan"), ("嘉禾", "jiahe"), ("星辰", "xingchen"))
COMPANY_TRADES = ("贸易", "电子科技", "网络科技", "文化传媒", "餐饮管理", "建筑工程",
                  "教育咨询", "医疗器械", "物业管理", "设计")

CHANNELS: tuple[tuple[str, float], ...] = (
    ("tmall", 0.30), ("jd", 0.20), ("web", 0.18), ("wechat", 0.17), ("phone", 0.05),
    ("api", 0.10))
PAYMENT_BY_CHANNEL: dict[str, tuple[tuple[str, float], ...]] = {
    "tmall": (("alipay", 1.0),),
    "jd": (("wechat_pay", 0.35), ("card", 0.30), ("unionpay", 0.15), ("cod", 0.20)),
    "web": (("alipay", 0.50), ("wechat_pay", 0.35), ("unionpay", 0.10), ("card", 0.05)),
    "wechat": (("wechat_pay", 1.0),),
    "phone": (("cod", 0.45), ("bank_transfer", 0.30), ("wechat_pay", 0.25)),
    "api": (("bank_transfer", 1.0),),
}

# (code, name, weight) of the parcel carriers, and a JD channel's own fleet.
CARRIERS: tuple[tuple[str, str, float], ...] = (
    ("SF", "顺丰速运", 0.30), ("ZTO", "中通快递", 0.25), ("YTO", "圆通速递", 0.18),
    ("YD", "韵达快递", 0.17), ("EMS", "中国邮政 EMS", 0.10))
JD_CARRIER = ("JD", "京东物流")

PROMO_CODES = ("NEW20", "MAN300JIAN30", "VIP95")



@dataclass(frozen=True, slots=True)
class Staff:
    name: str
    email: str
    role: str  # a dingdan.domain.permissions.Role value
    warehouse: str | None = None  # warehouse staff work in one warehouse only


# The shop's people (created without a password: nobody can sign in as them).
STAFF: tuple[Staff, ...] = (
    Staff("吴建国", "wu.jianguo@demo.example.com", "manager"),
    Staff("李娜", "li.na@demo.example.com", "reviewer"),
    Staff("王磊", "wang.lei@demo.example.com", "reviewer"),
    Staff("陈静", "chen.jing@demo.example.com", "customer_service"),
    Staff("赵敏", "zhao.min@demo.example.com", "customer_service"),
    Staff("周婷", "zhou.ting@demo.example.com", "customer_service"),
    Staff("孙丽", "sun.li@demo.example.com", "finance"),
    Staff("张强", "zhang.qiang@demo.example.com", "warehouse", "SH"),
    Staff("刘洋", "liu.yang@demo.example.com", "warehouse", "SH"),
    Staff("黄志勇", "huang.zhiyong@demo.example.com", "warehouse", "GZ"),
    Staff("梁晓敏", "liang.xiaomin@demo.example.com", "warehouse", "GZ"),
    Staff("杨帆", "yang.fan@demo.example.com", "warehouse", "CD"),
    Staff("何静", "he.jing@demo.example.com", "warehouse", "CD"),
)

UNPAID_CANCEL_REASONS = ("买家主动取消：拍错了", "买家主动取消：不想买了",
                         "买家主动取消：重复下单", "买家主动取消：想换个规格")
PAID_CANCEL_REASONS = ("买家申请取消：不想要了", "买家申请取消：地址填错，重新下单",
                       "买家申请取消：买贵了", "买家申请取消：等不及发货")
HOLD_REASONS = ("收货地址待核实", "大额订单人工复核", "客户要求暂缓发货",
                "支付信息待核实", "同一地址短时间多笔订单，待核实")
RELEASE_REASONS = ("已电话联系客户，地址确认无误", "复核通过", "客户确认可以发货",
                   "支付信息已核实")
FRAUD_CANCEL_REASONS = ("风控拦截：疑似刷单", "客户联系不上，按规则取消",
                        "风控拦截：收货地址异常")
SERVICE_NOTES = ("客户来电催发货，已告知预计发货时间", "客户要求周末送货，已备注快递",
                 "已电话确认收货地址", "客户咨询发票，已说明开票方式",
                 "客户要求礼品包装，不放价格单", "已赠送试用装一份",
                 "客户询问能否改用顺丰，已说明不加价无法指定")
CUSTOMER_NOTES = ("请周末送货", "放快递柜即可", "送货前请先电话联系", "礼品，请不要放价格单",
                  "工作日白天家里没人，请放门卫", "请开具电子发票")
