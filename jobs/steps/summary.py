"""首页's portfolio summary (models.portfolio_summary) rewritten from the loans as this run
left them: one row per (status, class, ageing bucket, product, 客户经理), set-based. The last
step: on PostgreSQL it locks the summary against the day's appended differences until the
run commits (services.portfolio_summary.rebuild), so it holds that lock briefly."""
from __future__ import annotations


def run(ctx) -> None:
    from services.portfolio_summary import rebuild

    ctx.stats["portfolio_summary_rows"] = rebuild(ctx.conn)
