"""The words of the after-sales and complaint pages, in zh-CN and en. Status, type, reason
and category labels come from ``domain.aftersales`` and ``domain.complaints``."""

from __future__ import annotations

# key -> (zh-CN, en)
TEXT: dict[str, tuple[str, str]] = {
    "as.title": ("售后", "After-sales"),
    "as.case": ("售后单", "Case"),
    "as.order": ("订单", "Order"),
    "as.type": ("类型", "Type"),
    "as.status": ("状态", "Status"),
    "as.reason": ("原因", "Reason"),
    "as.amount": ("退款金额", "Refund"),
    "as.created": ("申请时间", "Requested"),
    "as.opened_by": ("发起方", "Opened by"),
    "as.waybill": ("退货运单号", "Return waybill"),
    "as.lines": ("商品", "Items"),
    "as.line": ("行", "Line"),
    "as.qty": ("数量", "Qty"),
    "as.condition": ("质检结果", "Condition"),
    "as.good": ("完好（入库）", "Good (restock)"),
    "as.damaged": ("损坏（隔离）", "Damaged (quarantine)"),
    "as.timeline": ("处理记录", "Timeline"),
    "as.refunds": ("退款", "Refunds"),
    "as.method": ("退款方式", "Method"),
    "as.reference": ("转账/收据号（手工退款）", "Transfer or receipt (manual)"),
    "as.retry": ("重试", "Retry"),
    "as.attempts": ("尝试", "Attempts"),
    "as.error": ("错误", "Error"),
    "as.all": ("全部", "All"),
    "as.open": ("处理中", "Open"),
    "as.empty": ("没有售后单", "No cases"),
    "as.actions": ("操作", "Actions"),
    "as.note": ("说明", "Note"),
    "as.more": ("更多", "More"),
    "help.title": ("我需要帮助：退货 / 换货 / 退款", "I need help: return, exchange, refund"),
    "help.contact": ("下单手机号或邮箱", "The phone or email on the order"),
    "help.next": ("下一步", "Next"),
    "help.submit": ("提交申请", "Send my request"),
    "as.customer": ("顾客", "Customer"),
    "as.staff": ("客服", "Staff"),
    "cp.title": ("投诉", "Complaints"),
    "cp.complaint": ("投诉单", "Complaint"),
    "cp.category": ("类别", "Category"),
    "cp.channel": ("来源", "Channel"),
    "cp.owner": ("负责人", "Owner"),
    "cp.first_due": ("首次响应时限", "First response by"),
    "cp.resolve_due": ("解决时限", "Resolve by"),
    "cp.overdue": ("已超时", "Overdue"),
    "cp.escalated": ("已升级", "Escalated"),
    "cp.repeat": ("重复投诉", "Repeat"),
    "cp.summary": ("问题", "Summary"),
    "cp.conversation": ("沟通记录", "Conversation"),
    "cp.reply": ("回复顾客", "Reply to the customer"),
    "cp.internal": ("仅内部备注（不发送给顾客）", "Internal note (not sent)"),
    "cp.send": ("发送", "Send"),
    "cp.resolution": ("处理结果", "Resolution"),
    "cp.causes": ("近 30 天投诉原因", "Why customers complained (30 days)"),
    "cp.empty": ("没有投诉", "No complaints"),
    "cp.from_customer": ("顾客", "Customer"),
    "cp.to_customer": ("回复", "Reply"),
    "cp.note": ("内部备注", "Internal note"),
}


def as_text(key: str, lang: str) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh-CN" else pair[1]
