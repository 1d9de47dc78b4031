"""The menu: one module per menu category, each registering its screens in menu order."""
import importlib

# Menu order of SPEC §3, then 基础数据 and 系统管理.
MODULES = (
    "views.my_todo",
    "views.bank_cards",
    "views.contract_change",
    "views.inspection",
    "views.approvals",
    "views.warnings",
    "views.classification",
    "views.writeoff",
    "views.writeoff_book",
    "views.analytics_writeoffs",
    "views.collection",
    "views.collection_receipts",
    "views.queries",
    "views.basic_data",
    "views.loan_records",
    "views.loan_history",
    "views.reversal",
    "views.system",
    "views.system_jobs",
    "views.import_records",
    "views.privacy",
    "views.loan_detail",
)


def register_views(admin) -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a category not built yet in this checkout
                continue
            raise
        module.register(admin)
