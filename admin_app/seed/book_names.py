"""Realistic Chinese identities for the demo book: names, resident ID numbers, unified social
credit codes, mobile numbers, addresses, bank cards. Every number passes the validators of
`models.identity`; every draw comes from the caller's `random.Random`, so a seed gives the
same people every time."""
from datetime import date, timedelta

from models.identity import id_check_char, uscc_check_char

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤")
# The most common surnames appear far more often (roughly as in the population): a uniform
# pick from this pool is a weighted pick of a surname.
SURNAME_POOL = "".join(c * max(1, 40 - i) for i, c in enumerate(SURNAMES))
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国建华志强"
    "海峰文博宇浩然子轩梓涵欣怡俊杰思远晓东雪梅立新春生永红宏伟丹凤佳琪一鸣天佑嘉怡雨婷晨阳")

# (region code of the ID number, province, short name, city, district, roads)
REGIONS = (
    ("330106", "浙江省", "浙", "杭州市", "西湖区", ("文三路", "教工路", "古墩路", "天目山路")),
    ("330108", "浙江省", "浙", "杭州市", "滨江区", ("江南大道", "滨盛路", "长河路")),
    ("330203", "浙江省", "浙", "宁波市", "海曙区", ("中山西路", "解放南路", "望春路")),
    ("330302", "浙江省", "浙", "温州市", "鹿城区", ("人民路", "学院中路", "车站大道")),
    ("110105", "北京市", "京", "北京市", "朝阳区", ("建国路", "朝阳北路", "望京街")),
    ("110108", "北京市", "京", "北京市", "海淀区", ("中关村大街", "学院路", "西三环北路")),
    ("310115", "上海市", "沪", "上海市", "浦东新区", ("张杨路", "世纪大道", "锦绣路")),
    ("310104", "上海市", "沪", "上海市", "徐汇区", ("漕溪北路", "肇嘉浜路", "虹桥路")),
    ("440305", "广东省", "粤", "深圳市", "南山区", ("深南大道", "科技园路", "南海大道")),
    ("440106", "广东省", "粤", "广州市", "天河区", ("天河路", "体育西路", "黄埔大道")),
    ("320106", "江苏省", "苏", "南京市", "鼓楼区", ("中山北路", "湖南路", "汉中门大街")),
    ("320505", "江苏省", "苏", "苏州市", "虎丘区", ("长江路", "狮山路", "珠江路")),
    ("510107", "四川省", "川", "成都市", "武侯区", ("人民南路", "科华北路", "一环路南四段")),
    ("420106", "湖北省", "鄂", "武汉市", "武昌区", ("中南路", "中北路", "武珞路")),
    ("350203", "福建省", "闽", "厦门市", "思明区", ("湖滨南路", "厦禾路", "嘉禾路")),
    ("370202", "山东省", "鲁", "青岛市", "市南区", ("香港中路", "山东路", "宁夏路")),
    ("610113", "陕西省", "陕", "西安市", "雁塔区", ("长安南路", "小寨东路", "科技路")),
    ("430104", "湖南省", "湘", "长沙市", "岳麓区", ("麓山南路", "枫林一路", "岳麓大道")),
    ("410105", "河南省", "豫", "郑州市", "金水区", ("花园路", "金水路", "经三路")),
    ("500103", "重庆市", "渝", "重庆市", "渝中区", ("解放碑步行街", "中山三路", "民生路")),
    ("340104", "安徽省", "皖", "合肥市", "蜀山区", ("长江西路", "望江西路", "黄山路")),
    ("120101", "天津市", "津", "天津市", "和平区", ("南京路", "滨江道", "营口道")),
)

COMPANY_WORDS = "恒达鑫盛华泰隆源祥瑞丰通佳宏裕德信安嘉博远凯新金天海兴利诚正中和永昌广富锦润"
INDUSTRIES = ("贸易", "科技", "建材", "餐饮管理", "物流", "电子", "服装", "农业开发", "机械设备",
              "装饰工程", "食品", "文化传媒", "汽车服务", "医疗器械", "包装材料")

MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "157", "158", "159", "166", "176", "177", "178",
                   "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198",
                   "199")

# (bank, 6-digit UnionPay BIN starting with 62, card length)
BANKS = (
    ("中国工商银行", "622202", 19), ("中国建设银行", "621700", 19), ("中国农业银行", "622848", 19),
    ("中国银行", "621661", 19), ("交通银行", "622262", 19), ("招商银行", "622588", 16),
    ("中国邮政储蓄银行", "621799", 19), ("兴业银行", "622909", 18), ("浦发银行", "622521", 16),
    ("中信银行", "621771", 16), ("杭州银行", "621408", 16), ("宁波银行", "621418", 16),
)


def person_name(rng) -> str:
    rnd = rng.random
    name = SURNAME_POOL[int(rnd() * len(SURNAME_POOL))] + GIVEN_CHARS[int(rnd() * len(GIVEN_CHARS))]
    if rnd() < 0.7:
        name += GIVEN_CHARS[int(rnd() * len(GIVEN_CHARS))]
    return name


def region(rng):
    return REGIONS[int(rng.random() * len(REGIONS))]


def resident_id(rng, region_code: str, as_of: date, used: set | None = None) -> str:
    """An 18-digit resident ID of an adult of 22 to 65, valid per GB 11643 (unique in `used`)."""
    while True:
        birth = as_of - timedelta(days=22 * 365 + 6 + int(rng.random() * 43 * 365))
        first17 = f"{region_code}{birth:%Y%m%d}{int(rng.random() * 1000):03d}"
        value = first17 + id_check_char(first17)
        if used is None or value not in used:
            if used is not None:
                used.add(value)
            return value


def _org_code(rng) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    body = f"{rng.randint(0, 99999999):08d}"
    total = sum(int(c) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2)))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def uscc(rng, region_code: str, used: set | None = None) -> str:
    """A unified social credit code (GB 32100) of a company registered with 市场监管 (91...)."""
    while True:
        first17 = "91" + region_code + _org_code(rng)
        value = first17 + uscc_check_char(first17)
        if used is None or value not in used:
            if used is not None:
                used.add(value)
            return value


def company_name(rng, reg, used: set | None = None) -> str:
    city = reg[3].removesuffix("市")
    for attempt in range(50):
        size = 2 if attempt < 20 else 3
        brand = "".join(rng.choice(COMPANY_WORDS) for _ in range(size))
        if brand[0] == brand[1]:
            continue
        value = f"{city}{brand}{rng.choice(INDUSTRIES)}有限公司"
        if used is None or value not in used:
            if used is not None:
                used.add(value)
            return value
    return value


def mobile(rng) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{int(rng.random() * 100000000):08d}"


def address(rng, reg) -> str:
    _code, province, _short, city, district, roads = reg
    rnd = rng.random
    head = city if province == city else province + city
    line = f"{head}{district}{roads[int(rnd() * len(roads))]}{1 + int(rnd() * 999)}号"
    if rnd() < 0.6:
        line += f"{1 + int(rnd() * 30)}幢{1 + int(rnd() * 30)}{1 + int(rnd() * 4):02d}室"
    return line


def bank_card(rng) -> tuple[str, str]:
    """(bank name, card number): a 62-prefixed UnionPay number with a valid Luhn digit."""
    bank, bin6, length = BANKS[int(rng.random() * len(BANKS))]
    body = bin6 + f"{rng.randrange(10 ** (length - 7)):0{length - 7}d}"
    return bank, body + _luhn_digit(body)


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_digit(partial: str) -> str:
    """models.identity.luhn_check_digit, table-driven (the tests check both agree)."""
    digits = [ord(c) - 48 for c in reversed(partial)]
    total = sum(_LUHN_DOUBLED[d] for d in digits[0::2]) + sum(digits[1::2])
    return str((10 - total % 10) % 10)


def branch(rng, reg) -> str:
    roads = reg[5]
    return f"{reg[3].removesuffix('市')}{reg[4]}{roads[int(rng.random() * len(roads))].removesuffix('路')}支行"
