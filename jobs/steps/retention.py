"""Daily-job step: anonymise the customers whose personal data is past retention
(services.retention); uploaded files go once the run has committed."""
from __future__ import annotations


def run(ctx) -> None:
    from services.retention import anonymise, remove_files, retention_key, upload_folder

    report = anonymise(ctx.conn, ctx.as_of, ctx.params["privacy.retention_years"], retention_key)
    ctx.stats["anonymised"] = report.counts["customers"]
    if report.files:
        folder = upload_folder()
        ctx.after_commit.append(lambda: remove_files(report.files, folder))
