"""Orders taken on the phone: one pasted line into name, phone and address. Pure.

Customer service pastes what a customer dictated or sent in a chat —
``张三 13800138000 广东省深圳市南山区科技园路1号`` — and :func:`parse_contact_line` splits it
into the form's fields. It fills what it recognises and leaves the rest for the person: the
form is checked by the same order rules as every channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MOBILE = re.compile(r"(?:\+?86[\s-]?)?(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4})")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}")
# Municipalities are province and city at once.
_MUNICIPALITIES = ("北京市", "上海市", "天津市", "重庆市", "北京", "上海", "天津", "重庆")
_PROVINCE = re.compile(r"^(.{2,7}?(?:省|自治区|特别行政区))")
_CITY = re.compile(r"^(.{1,9}?(?:自治州|地区|盟|市))")
_DISTRICT = re.compile(r"^(.{1,9}?(?:新区|区|县|旗|市))")
_PLACE_END = re.compile(r"(?:省|市|区|县|旗|路|街|道|号|村|镇)$")
_SEPARATORS = re.compile(r"[\s,，;；:：/|]+")


@dataclass(frozen=True, slots=True)
class ContactLine:
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""


def parse_contact_line(line: str) -> ContactLine:
    """Name, phone and the address's parts from one free-form line (fields it cannot tell
    stay empty)."""
    text = line.strip()[:500]
    phone = ""
    m = _MOBILE.search(text) or _LANDLINE.search(text)
    if m:
        phone = re.sub(r"[\s-]", "", m.group(1) if m.groups() else m.group(0))
        text = (text[:m.start()] + " " + text[m.end():]).strip()
    parts = [p for p in _SEPARATORS.split(text) if p]
    # The address starts at the piece that looks like one; the name is a short piece without
    # digits, before or after it; the address runs on over the other pieces after it.
    start = next((i for i, p in enumerate(parts) if _looks_like_address(p)), None)
    name_at = next((i for i, p in enumerate(parts) if i != start and len(p) <= 10
                    and not any(ch.isdigit() for ch in p) and not _PLACE_END.search(p)),
                   None)
    address = "" if start is None else "".join(
        p for i, p in enumerate(parts) if i >= start and i != name_at)
    name_parts = [parts[name_at]] if name_at is not None else (
        parts if start is None else parts[:start])
    province, city, district, street = split_address(address)
    return ContactLine(" ".join(name_parts)[:200], phone, province, city, district, street)


def _looks_like_address(piece: str) -> bool:
    return bool(piece.startswith(_MUNICIPALITIES) or _PROVINCE.match(piece)
                or (_CITY.match(piece) and len(piece) > 6))


def split_address(address: str) -> tuple[str, str, str, str]:
    """``广东省深圳市南山区科技园路1号`` -> (广东省, 深圳市, 南山区, 科技园路1号);
    ``上海市浦东新区世纪大道100号`` -> (上海市, 上海市, 浦东新区, 世纪大道100号)."""
    rest = address.strip()
    province = city = district = ""
    for m in _MUNICIPALITIES:
        if rest.startswith(m):
            province = city = m if m.endswith("市") else m + "市"
            rest = rest[len(m):]
            if rest.startswith("市"):
                rest = rest[1:]
            break
    else:
        if (p := _PROVINCE.match(rest)) is not None:
            province, rest = p.group(1), rest[p.end():]
        if (c := _CITY.match(rest)) is not None:
            city, rest = c.group(1), rest[c.end():]
    if (d := _DISTRICT.match(rest)) is not None:
        district, rest = d.group(1), rest[d.end():]
    return province, city, district, rest.strip()
