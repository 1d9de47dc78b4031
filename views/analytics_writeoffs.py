"""核销管理 › 核销与收回: written-off and recovered amounts per month (views.analytics)."""
from views.analytics import register_writeoffs as register  # noqa: F401
