"""One pasted line into the phone-order form's fields."""

from __future__ import annotations

import pytest

from dingdan.domain.entry import ContactLine, parse_contact_line, split_address


@pytest.mark.parametrize(("line", "expected"), [
    ("张三 13800138000 广东省深圳市南山区科技园路1号",
     ContactLine("张三", "13800138000", "广东省", "深圳市", "南山区", "科技园路1号")),
    ("李四，139-0013-9000，上海市浦东新区世纪大道100号",
     ContactLine("李四", "13900139000", "上海市", "上海市", "浦东新区", "世纪大道100号")),
    ("广西壮族自治区南宁市青秀区民族大道1号 王五 +86 137 0013 7000",
     ContactLine("王五", "13700137000", "广西壮族自治区", "南宁市", "青秀区", "民族大道1号")),
    ("北京市朝阳区建国路1号 赵六 010-12345678",
     ContactLine("赵六", "01012345678", "北京市", "北京市", "朝阳区", "建国路1号")),
    ("", ContactLine()),
])
def test_a_pasted_line_fills_name_phone_and_address(line: str,
                                                    expected: ContactLine) -> None:
    assert parse_contact_line(line) == expected


def test_an_address_without_a_province_keeps_what_it_can_tell() -> None:
    assert split_address("深圳市南山区科技园路1号") == ("", "深圳市", "南山区", "科技园路1号")
    assert split_address("科技园路1号") == ("", "", "", "科技园路1号")
