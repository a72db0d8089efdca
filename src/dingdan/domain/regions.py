"""China's provincial-level divisions keyed by their GB/T 2260 codes, and a tile grid. Pure.

The regional view is a ranking and a tile grid keyed by these codes: a published map of China
needs an approved boundary (审图号), so Dingdan draws no map unless the operator supplies one.
An address names its province in words (``广东省``, ``广东``, ``Guangdong``); :func:`code_of`
reads any of those. Taiwan (71), Hong Kong (81) and Macao (82) are listed with their codes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Province:
    code: str  # the first two digits of the GB/T 2260 code: "44" for 广东省
    name: str  # the full Chinese name
    short: str  # the short name shown on a tile
    en: str
    row: int  # position on the tile grid, roughly where the province lies
    col: int


PROVINCES: tuple[Province, ...] = (
    Province("11", "北京市", "北京", "Beijing", 2, 7),
    Province("12", "天津市", "天津", "Tianjin", 3, 7),
    Province("13", "河北省", "河北", "Hebei", 3, 6),
    Province("14", "山西省", "山西", "Shanxi", 3, 5),
    Province("15", "内蒙古自治区", "内蒙古", "Inner Mongolia", 2, 5),
    Province("21", "辽宁省", "辽宁", "Liaoning", 2, 8),
    Province("22", "吉林省", "吉林", "Jilin", 1, 8),
    Province("23", "黑龙江省", "黑龙江", "Heilongjiang", 0, 8),
    Province("31", "上海市", "上海", "Shanghai", 5, 8),
    Province("32", "江苏省", "江苏", "Jiangsu", 4, 7),
    Province("33", "浙江省", "浙江", "Zhejiang", 5, 7),
    Province("34", "安徽省", "安徽", "Anhui", 4, 6),
    Province("35", "福建省", "福建", "Fujian", 6, 7),
    Province("36", "江西省", "江西", "Jiangxi", 5, 6),
    Province("37", "山东省", "山东", "Shandong", 3, 8),
    Province("41", "河南省", "河南", "Henan", 4, 5),
    Province("42", "湖北省", "湖北", "Hubei", 5, 5),
    Province("43", "湖南省", "湖南", "Hunan", 6, 5),
    Province("44", "广东省", "广东", "Guangdong", 7, 6),
    Province("45", "广西壮族自治区", "广西", "Guangxi", 7, 5),
    Province("46", "海南省", "海南", "Hainan", 8, 5),
    Province("50", "重庆市", "重庆", "Chongqing", 5, 4),
    Province("51", "四川省", "四川", "Sichuan", 5, 3),
    Province("52", "贵州省", "贵州", "Guizhou", 6, 4),
    Province("53", "云南省", "云南", "Yunnan", 7, 3),
    Province("54", "西藏自治区", "西藏", "Tibet", 5, 1),
    Province("61", "陕西省", "陕西", "Shaanxi", 4, 4),
    Province("62", "甘肃省", "甘肃", "Gansu", 3, 3),
    Province("63", "青海省", "青海", "Qinghai", 4, 2),
    Province("64", "宁夏回族自治区", "宁夏", "Ningxia", 3, 4),
    Province("65", "新疆维吾尔自治区", "新疆", "Xinjiang", 2, 1),
    Province("71", "台湾省", "台湾", "Taiwan", 7, 8),
    Province("81", "香港特别行政区", "香港", "Hong Kong", 8, 6),
    Province("82", "澳门特别行政区", "澳门", "Macao", 8, 7),
)

BY_CODE: dict[str, Province] = {p.code: p for p in PROVINCES}
UNKNOWN = "00"  # an address whose province is not one of the above

_BY_NAME: dict[str, str] = {}
for _p in PROVINCES:
    for _name in (_p.name, _p.short, _p.en.lower(), _p.code):
        _BY_NAME[_name] = _p.code


def code_of(province: str | None) -> str:
    """The GB/T 2260 two-digit code of a province written any usual way; ``UNKNOWN`` else."""
    if not province:
        return UNKNOWN
    text = province.strip()
    found = _BY_NAME.get(text) or _BY_NAME.get(text.lower())
    if found:
        return found
    for suffix in ("省", "市", "自治区", "特别行政区"):
        if text.endswith(suffix) and (found := _BY_NAME.get(text[: -len(suffix)])):
            return found
    return UNKNOWN


def label(code: str, lang: str) -> str:
    p = BY_CODE.get(code)
    if p is None:
        return "未知" if lang == "zh-CN" else "Unknown"
    return p.short if lang == "zh-CN" else p.en
