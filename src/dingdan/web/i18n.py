"""Languages and the messages errors are told in (zh-CN and en).

The language comes from the user's choice or the ``Accept-Language`` header.
"""

from __future__ import annotations

from typing import Any

from dingdan.domain.lifecycle import ACTION_LABELS, LABELS, Action, Status

LANGUAGES = ("zh-CN", "en")


def negotiate(accept_language: str | None, default: str = "zh-CN") -> str:
    """Pick zh-CN or en from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip().lower()))
    for _q, _i, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return default


# code -> (title en, title zh, detail en, detail zh); details are str.format-ed with params.
ERRORS: dict[str, tuple[str, str, str, str]] = {
    "VALIDATION_FAILED": ("Validation failed", "校验失败",
                          "Some fields are not valid; see errors.", "部分字段无效，请查看 errors。"),
    "AMOUNTS_INCONSISTENT": ("Amounts do not add up", "金额不一致",
                             "The amounts do not add up (expected total {expected_total}).",
                             "订单金额不一致（应付总额应为 {expected_total}）。"),
    "TEMPLATE_INVALID": ("Template not accepted", "模板无效",
                         "The template cannot be used; see errors.",
                         "模板无法使用，请查看 errors。"),
    "MALFORMED_JSON": ("Malformed JSON", "JSON 格式错误",
                       "The request body is not valid JSON.", "请求体不是有效的 JSON。"),
    "ILLEGAL_TRANSITION": ("Action not allowed", "不允许的操作",
                           "Action '{action}' is not allowed when the order is '{status}'.",
                           "订单状态为“{status_zh}”时不能执行“{action_zh}”。"),
    "INSUFFICIENT_STOCK": ("Insufficient stock", "库存不足",
                           "Not enough stock for: {skus}.", "以下商品库存不足：{skus}。"),
    "NOT_FOUND": ("Not found", "未找到", "No {kind} '{key}'.", "找不到{kind_zh}“{key}”。"),
    "VERSION_CONFLICT": ("Version conflict", "版本冲突",
                         "Someone changed this since you read it; reload and try again.",
                         "数据已被他人修改，请刷新后重试。"),
    "IDEMPOTENCY_CONFLICT": ("Idempotency key reused", "幂等键冲突",
                             "This Idempotency-Key was used with a different request body.",
                             "该 Idempotency-Key 已用于不同的请求内容。"),
    "ALREADY_EXISTS": ("Already exists", "已存在",
                       "A record with {field} '{value}' already exists.",
                       "{field} 为“{value}”的记录已存在。"),
    "UNAUTHENTICATED": ("Not signed in", "未认证",
                        "A valid bearer token is required.", "需要有效的访问令牌（Bearer token）。"),
    "FORBIDDEN": ("Forbidden", "无权限", "You may not do this.", "您无权执行此操作。"),
    "BAD_CREDENTIALS": ("Sign-in failed", "登录失败", "The login or the password is not right.",
                        "账号或密码不正确。"),
    "TOO_MANY_ATTEMPTS": ("Too many attempts", "尝试次数过多",
                          "Too many failed sign-ins from here; try again in {retry_after} "
                          "seconds.", "此处登录失败次数过多，请 {retry_after} 秒后再试。"),
    "CSRF_FAILED": ("Request refused", "请求被拒绝",
                    "The form's security token is missing or wrong; reload the page and retry.",
                    "表单安全令牌缺失或无效，请刷新页面后重试。"),
    "ROUTE_NOT_FOUND": ("Not found", "未找到", "No such endpoint.", "接口不存在。"),
    "METHOD_NOT_ALLOWED": ("Method not allowed", "方法不允许",
                           "This endpoint does not accept that method.", "该接口不支持此方法。"),
    "PAYLOAD_TOO_LARGE": ("Payload too large", "请求体过大",
                          "The request body is larger than {max_bytes} bytes.",
                          "请求体超过 {max_bytes} 字节。"),
    "URL_NOT_ALLOWED": ("URL not allowed", "不允许的地址",
                        "Dingdan does not send to this address: {reason_text}.",
                        "不能向此地址发送：{reason_zh}。"),
    "RATE_LIMITED": ("Too many requests", "请求过于频繁",
                     "Too many attempts; try again in {retry_after} second(s).",
                     "尝试次数过多，请 {retry_after} 秒后再试。"),
    "CUSTOMER_HAS_OPEN_ORDERS": ("Orders still open", "仍有未完成的订单",
                                 "The customer's data is still needed for orders not yet "
                                 "completed or cancelled: {orders}.",
                                 "该客户仍有未完成或未取消的订单需要这些信息：{orders}。"),
    "DATABASE_UNAVAILABLE": ("Service unavailable", "服务暂不可用",
                             "The database cannot be reached; nothing was changed by this "
                             "request unless it had already been committed. Try again in "
                             "{retry_after} second(s).",
                             "数据库暂时无法访问；除非此前已提交，本次请求未做任何更改。"
                             "请 {retry_after} 秒后重试。"),
    "INVALID_TEXT": ("Invalid characters", "包含无效字符",
                     "The address, query or form holds a control character (such as NUL).",
                     "地址、查询参数或表单中含有控制字符（如 NUL）。"),
    "INTERNAL_ERROR": ("Internal error", "内部错误",
                       "Something went wrong on our side; it has been logged as request "
                       "{request_id}.",
                       "服务器内部错误，已记录（请求编号 {request_id}）。"),
    # Intake channels (issue 10).
    "CHANNEL_ORDER_LOCKED": ("Channel change refused", "渠道变更被拒绝",
                             "Order {number} cannot take the channel's change: {reason}.",
                             "订单 {number} 无法接受渠道的变更：{reason}。"),
    "SIGNATURE_INVALID": ("Signature not valid", "签名无效",
                          "The message's signature does not verify with this channel's secret.",
                          "消息签名与该渠道的密钥不符。"),
    "EDI_REJECTED": ("EDI interchange rejected", "EDI 报文被拒收",
                     "The interchange does not parse: {reason}. params.acknowledgement holds the "
                     "CONTRL/997 to send back.",
                     "报文无法解析：{reason}。params.acknowledgement 为应回送的 CONTRL/997。"),
    "IMPORT_FILE_INVALID": ("File not readable", "文件无法读取",
                            "The file cannot be imported: {reason}.",
                            "文件无法导入：{reason}。"),
}

KINDS_ZH = {"order": "订单", "product": "商品", "warehouse": "仓库", "token": "令牌",
            "user": "用户"}
KINDS_ZH.update({"aftersales_case": "售后单", "complaint": "投诉", "refund": "退款",
                 "return_rule": "退货规则"})  # after-sales (issue 13)

# Field-level messages by code; the English hint from the rules is the fallback.
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("This field is required.", "此项必填。"),
    "missing": ("This field is required.", "此项必填。"),
    "invalid_phone": ("Not a valid phone number.", "手机号码无效。"),
    "invalid_postcode": ("A Chinese postcode has six digits.", "邮编应为 6 位数字。"),
    "out_of_range": ("Out of the allowed range.", "超出允许范围。"),
    "negative": ("Cannot be negative.", "不能为负数。"),
    "unknown_sku": ("No active product with this SKU.", "没有此 SKU 的在售商品。"),
    "unknown_currency": ("Unknown currency.", "未知币种。"),
    "too_large": ("Too large.", "内容过大。"),
    "too_many": ("Too many items.", "数量过多。"),
    "too_many_keys": ("Too many keys.", "字段过多。"),
    "mismatch": ("Does not match the computed amount.", "与计算金额不符。"),
    "int_parsing": ("Must be a whole number.", "必须是整数。"),
    "int_type": ("Must be a whole number.", "必须是整数。"),
    "int_from_float": ("Must be a whole number.", "必须是整数。"),
    "string_type": ("Must be text.", "必须是文本。"),
    "value_error": ("Invalid value.", "值无效。"),
    "below_reserved": ("On hand cannot drop below what is reserved.", "在库数量不能低于已预留数量。"),
    "too_short": ("Too short: at least 8 characters.", "太短：至少 8 个字符。"),
    "too_long": ("Too long.", "太长。"),
    "too_weak": ("Too weak: use more different characters.", "过于简单：请使用更多不同的字符。"),
    "unknown_role": ("Unknown role.", "未知角色。"),
    "invalid_email": ("Not a valid email address.", "邮箱地址无效。"),
    "unknown_language": ("Language is zh-CN or en.", "语言只能是 zh-CN 或 en。"),
    "unknown_warehouse": ("No such warehouse.", "没有此仓库。"),
    "wrong_password": ("The current password is not right.", "当前密码不正确。"),
    "unchanged": ("The new password is the current one.", "新密码与当前密码相同。"),
    "own_admin": ("You cannot take the admin role from yourself.", "不能移除自己的管理员角色。"),
    "own_account": ("You cannot deactivate yourself.", "不能停用自己的账号。"),
    "not_editable": ("This field cannot be changed here.", "此处不能修改该字段。"),
    "in_the_past": ("Must be in the future.", "必须是将来的时间。"),
    "url_not_allowed": ("Dingdan does not send to this address.", "不允许向此地址发送。"),
    "template_syntax": ("The template does not compile.", "模板语法错误。"),
    "template_unsafe": ("The template reaches for something it may not use.",
                        "模板访问了不允许使用的内容。"),
    "template_too_large": ("The template builds text or numbers that are too large.",
                           "模板生成的文本或数字过大。"),
    "template_too_slow": ("The template takes too many steps or too long.",
                          "模板运行步骤过多或耗时过长。"),
    "template_error": ("The template fails when rendered.", "模板渲染出错。"),
    "control_character": ("Control characters (such as NUL) are not allowed here.",
                          "此处不允许控制字符（如 NUL）。"),
    "not_null": ("Leave the field out to keep it; it cannot be null.", "不能为 null；不修改请省略此项。"),
    "bool_type": ("Must be true or false.", "必须是 true 或 false。"),
    "datetime_type": ("A date and time in ISO 8601 with an offset, e.g. 2026-11-11T18:00:00+08:00.",
                      "请使用带时区的 ISO 8601 日期时间，例如 2026-11-11T18:00:00+08:00。"),
    "string_pattern_mismatch": ("Not in the allowed form.", "格式不正确。"),
    "less_than_equal": ("Too large.", "数值过大。"),
    "greater_than_equal": ("Too small.", "数值过小。"),
    "greater_than": ("Too small.", "数值过小。"),
    "string_too_long": ("Too long.", "太长。"),
    "string_too_short": ("This field is required.", "此项必填。"),
    # Sheet imports (issue 10): one message per code of the row-by-row report.
    "missing_column": ("The file has no column for this.", "文件缺少此列。"),
    "unknown_column": ("Not a column of an order.", "不是订单的列。"),
    "formula": ("A cell may not start with = @ + or - (a formula).",
                "单元格不能以 = @ + - 开头（公式）。"),
    "differs_within_order": ("Rows of one order disagree here.", "同一订单的各行此项不一致。"),
    "not_a_number": ("Must be a whole number.", "必须是整数。"),
    "not_an_amount": ("Not an amount.", "不是有效金额。"),
    "not_a_date": ("A date and time like 2026-11-11 09:30.", "日期时间格式应如 2026-11-11 09:30。"),
    "insufficient_stock": ("Not enough stock.", "库存不足。"),
    "channel_order_locked": ("The order's stage no longer allows this change.",
                             "订单当前阶段不允许此变更。"),
    # after-sales (issue 13)
    "exceeds_delivered": ("More than was delivered (or than earlier cases left).",
                          "超过已签收数量（或已申请售后的数量）。"),
    "outside_window": ("Past this item's return window.", "已超过该商品的退货期限。"),
    "not_returnable": ("This item cannot be returned.", "该商品不支持退货。"),
    "not_delivered": ("The order is not delivered yet.", "订单尚未签收。"),
    "reason_not_for_type": ("This reason does not fit the request type.", "该原因与售后类型不符。"),
    "no_such_line": ("The order has no such line.", "订单没有该商品行。"),
    "duplicate_line": ("Each line once.", "每个商品行只能出现一次。"),
    "exceeds_paid": ("More than is left to refund of what was paid.", "超过可退金额。"),
    "too_small": ("Too small.", "数值过小。"),
    "refund_through_refunds": ("A case is refunded by issuing its refund.", "请通过退款操作完成退款。"),
    "not_configured": ("This payment gateway is not configured.", "未配置该支付渠道。"),
    "closed": ("It is closed.", "已关闭。"),
    "range_backwards": ("The range starts after it ends.", "开始日期晚于结束日期。"),
    "range_too_long": ("At most two years (731 days) at a time.", "一次最多查询两年（731 天）。"),
    "unknown_value": ("Not one of the allowed values.", "不是允许的取值。"),
}


def error_text(code: str, lang: str, params: dict[str, Any]) -> tuple[str, str]:
    """(title, detail) of an error in ``lang``; unknown params render as empty."""
    title_en, title_zh, detail_en, detail_zh = ERRORS.get(code, ERRORS["INTERNAL_ERROR"])
    fill = _Defaulting(params)
    if lang == "zh-CN":
        status = str(params.get("status"))
        action = str(params.get("action"))
        fill["status_zh"] = (LABELS[Status(status)]["zh-CN"]
                             if status in Status.__members__.values() else status)
        fill["action_zh"] = (ACTION_LABELS[Action(action)]["zh-CN"]
                             if action in Action.__members__.values() else action)
        fill["kind_zh"] = KINDS_ZH.get(str(params.get("kind")), params.get("kind"))
        return title_zh, detail_zh.format_map(fill)
    return title_en, detail_en.format_map(fill)


def field_message(code: str, lang: str, fallback: str) -> str:
    pair = FIELD_MESSAGES.get(code)
    if pair is None:
        return fallback
    return pair[1] if lang == "zh-CN" else (fallback or pair[0])


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


# Customers and the review rules (issue 9).
KINDS_ZH["customer"] = "客户"
KINDS_ZH["blocklist"] = "黑名单条目"
FIELD_MESSAGES.update({
    "unparsable": ("Write a condition as 'field op value', e.g. order.total > 100000.",
                   "条件写作“字段 运算符 值”，例如 order.total > 100000。"),
    "unknown_field": ("No such field.", "没有此字段。"),
    "bad_operator": ("This operator does not fit the field.", "该运算符不适用于此字段。"),
    "bad_value": ("The value does not fit the field.", "值与字段类型不符。"),
    "duplicate": ("Used twice.", "重复。"),
    "invalid_code": ("1-40 lower-case letters, digits and _.", "1-40 位小写字母、数字或下划线。"),
    "same": ("A customer cannot merge with itself.", "不能与自身合并。"),
})
