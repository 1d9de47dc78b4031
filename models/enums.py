"""Coded values stored in the database, with the Chinese labels users see.

Codes are stable English strings (or ints for the ordered five-level class); labels are
read by views, filters, exports and tests from here only.
"""

CUSTOMER_TYPES = {"person": "个人", "company": "企业"}

REPAYMENT_METHODS = {
    "equal_installment": "等额本息",
    "equal_principal": "等额本金",
    "interest_first": "先息后本",
    "bullet": "到期一次还本付息",
}

LOAN_STATUSES = {
    "active": "还款中",
    "extended": "已展期",
    "overdue": "逾期",
    "settled": "已结清",
    "written_off": "已核销",
}
OPEN_LOAN_STATUSES = ("active", "extended", "overdue")

# Five-level classification: ordered ints so "at least 次级" is a comparison.
FIVE_CLASSES = {1: "正常", 2: "关注", 3: "次级", 4: "可疑", 5: "损失"}

GUARANTOR_TYPES = CUSTOMER_TYPES
COLLATERAL_KINDS = {"mortgage": "抵押", "pledge": "质押"}

INSPECTION_KINDS = {"first": "首次", "routine": "常规", "special": "专项"}
INSPECTION_METHODS = {"onsite": "现场", "offsite": "非现场"}

REVIEW_STATUSES = {"draft": "待提交", "pending": "审核中", "rejected": "已驳回", "approved": "已通过", "withdrawn": "已撤回"}
DECISIONS = {"submit": "提交", "resubmit": "修改后重新提交", "approve": "通过", "reject": "驳回", "withdraw": "撤回"}

COLLECTION_TARGETS = {"borrower": "借款人", "guarantor": "担保人", "company": "企业"}
COLLECTION_METHODS = {
    "phone": "电话",
    "sms": "短信",
    "visit": "上门",
    "letter": "信函",
    "lawyer_letter": "律师函",
    "lawsuit": "诉讼",
}
# Methods that leave paper behind: a receipt (回执) must be uploaded.
RECEIPT_METHODS = ("visit", "letter", "lawyer_letter")
# Methods that reach a person directly and so are bound by the allowed contact hours.
TIMED_METHODS = ("phone", "visit")
COLLECTION_STATUSES = {"following": "跟进中", "done": "已完成"}

WARNING_KINDS = {
    "credit_expiry": "授信到期预警",
    "mortgage_expiry": "抵押到期预警",
    "pledge_expiry": "质押到期预警",
    "inspection_due": "贷后检查预警",
    "repayment_overdue": "还款逾期预警",
    "repayment_due": "还款到期预警",
}
WARNING_LEVELS = {1: "低", 2: "中", 3: "高"}
HANDLING_STATES = {"open": "未处理", "following": "跟进中", "done": "已处理"}
