"""The words of the sign-in, people, token and audit pages, in zh-CN and en."""

from __future__ import annotations

from dingdan.domain.permissions import Role

# key -> (zh-CN, en)
TEXT: dict[str, tuple[str, str]] = {
    "login.title": ("登录", "Sign in"),
    "login.login": ("邮箱或手机号", "Email or phone"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "logout.everywhere": ("在所有设备上退出", "Sign out everywhere"),
    "account.title": ("修改密码", "Change password"),
    "account.current": ("当前密码", "Current password"),
    "account.new": ("新密码（至少 8 个字符）", "New password (8+ characters)"),
    "account.confirm": ("再次输入新密码", "New password again"),
    "account.mismatch": ("两次输入的新密码不一致。", "The two new passwords differ."),
    "account.changed": ("密码已修改，其他设备上的登录已失效。",
                        "Password changed; your other sessions have ended."),
    "people.title": ("人员与角色", "People and roles"),
    "people.new": ("新增人员", "New person"),
    "people.edit": ("编辑人员", "Edit person"),
    "people.name": ("姓名", "Name"),
    "people.email": ("邮箱", "Email"),
    "people.phone": ("手机号", "Phone"),
    "people.language": ("语言", "Language"),
    "people.language_browser": ("跟随浏览器", "The browser's"),
    "people.roles": ("角色", "Roles"),
    "people.warehouses": ("仓库（不选：全部仓库）", "Warehouses (none: all)"),
    "people.password": ("初始密码（可留空）", "First password (optional)"),
    "people.active": ("在职", "Active"),
    "people.inactive": ("已停用", "Deactivated"),
    "people.locked": ("已锁定至", "Locked until"),
    "people.last_sign_in": ("最近登录", "Last sign-in"),
    "people.deactivate": ("停用", "Deactivate"),
    "people.activate": ("启用", "Reactivate"),
    "people.reset_password": ("设置新密码（解除锁定，结束其所有登录）",
                              "Set a new password (unlocks, ends their sessions)"),
    "people.save": ("保存", "Save"),
    "people.create": ("创建", "Create"),
    "people.none": ("还没有人员。", "Nobody yet."),
    "people.tokens": ("此人的 API 令牌", "This person's API tokens"),
    "tokens.title": ("API 令牌", "API tokens"),
    "tokens.new": ("签发令牌", "Issue a token"),
    "tokens.name": ("名称", "Name"),
    "tokens.roles": ("角色（个人令牌不选：持有人的全部角色）",
                     "Roles (personal token, none: all of the owner's)"),
    "tokens.owner": ("持有人", "Owner"),
    "tokens.integration": ("集成（无持有人）", "Integration (no owner)"),
    "tokens.expires_days": ("有效天数（留空：不过期）", "Expires in days (empty: never)"),
    "tokens.issue": ("签发", "Issue"),
    "tokens.shown_once": ("请立即复制此令牌：它只显示这一次，系统只保存其摘要。",
                          "Copy this token now: it is shown only once; only its digest is kept."),
    "tokens.prefix": ("前缀", "Prefix"),
    "tokens.created": ("签发时间", "Issued"),
    "tokens.expires": ("过期时间", "Expires"),
    "tokens.revoked": ("已吊销", "Revoked"),
    "tokens.revoke": ("吊销", "Revoke"),
    "tokens.state": ("状态", "State"),
    "tokens.active": ("有效", "Active"),
    "tokens.expired": ("已过期", "Expired"),
    "tokens.none": ("还没有令牌。", "No tokens yet."),
    "tokens.by": ("签发人", "Issued by"),
    "audit.title": ("审计日志", "Audit log"),
    "audit.person": ("人员", "Person"),
    "audit.anyone": ("全部", "Anyone"),
    "audit.by": ("操作者标识", "Actor label"),
    "audit.object_type": ("对象类型", "Object type"),
    "audit.object_id": ("对象", "Object"),
    "audit.action": ("操作", "Action"),
    "audit.from": ("起", "From"),
    "audit.to": ("止", "To"),
    "audit.at": ("时间", "When"),
    "audit.who": ("操作者", "Who"),
    "audit.roles": ("角色", "Roles"),
    "audit.where": ("来源", "From where"),
    "audit.before": ("修改前", "Before"),
    "audit.after": ("修改后", "After"),
    "audit.filter": ("筛选", "Filter"),
    "audit.none": ("没有符合条件的记录。", "Nothing matches."),
    "audit.more": ("更早的记录", "Older entries"),
    "audit.newest": ("最新", "Newest"),
}

ROLE_LABELS: dict[str, tuple[str, str]] = {
    Role.ADMIN: ("管理员", "Admin"),
    Role.MANAGER: ("主管", "Manager"),
    Role.CUSTOMER_SERVICE: ("客服", "Customer service"),
    Role.REVIEWER: ("审单员", "Reviewer"),
    Role.FINANCE: ("财务", "Finance"),
    Role.WAREHOUSE: ("仓库", "Warehouse"),
    Role.VIEWER: ("只读", "Viewer"),
    Role.INTEGRATION: ("系统集成", "Integration"),
}

OBJECT_TYPES = ("order", "product", "warehouse", "stock", "user", "token")


def people_text(key: str, lang: str) -> str:
    pair = TEXT.get(key) or ROLE_LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh-CN" else pair[1]
