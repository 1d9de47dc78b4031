"""Exports every spreadsheet opens (issue 15): one XLSX export of each exporting screen is
converted by LibreOffice (Debian's libreoffice-calc-nogui, `soffice --headless --convert-to
csv`, which run-tests.sh installs as root) and every cell is compared with the same screen's
CSV export, i.e. the list's rows. Until now only Python's own zip reader had opened them."""
import csv
import io
import os
import shutil
import subprocess
from datetime import datetime
from decimal import Decimal, InvalidOperation

import pytest

from tests.test_export import book, exporting_views  # noqa: F401 - the seeded book fixture

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed: "
                                "apt-get install libreoffice-calc-nogui (run-tests.sh does as root)")


def _same(ours: str, theirs: str) -> bool:
    if ours == theirs:
        return True
    try:  # LibreOffice writes 1234.50 as 1234.5 and 7.00 as 7
        return Decimal(ours) == Decimal(theirs)
    except InvalidOperation:
        pass
    try:  # a time shown to the second (the sheet's date-time format) of the same instant
        return abs((datetime.fromisoformat(ours) - datetime.fromisoformat(theirs)).total_seconds()) < 1
    except ValueError:
        return False


def test_libreoffice_reads_every_screens_xlsx_export_cell_for_cell(app, client_for, book, tmp_path):  # noqa: F811
    admin = client_for("admin")
    exported = {}
    for view in exporting_views(app):
        x = admin.get(f"/{view.endpoint}/export/xlsx/")
        xlsx = x.get_data()  # streamed: read before the next request
        c = admin.get(f"/{view.endpoint}/export/csv/")
        text = c.get_data(as_text=True)
        if x.status_code != 200 or c.status_code != 200:
            continue
        (tmp_path / f"{view.endpoint}.xlsx").write_bytes(xlsx)
        exported[view.endpoint] = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(exported) >= 10
    out = tmp_path / "csv"
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir", str(out),
                    *sorted(str(tmp_path / f"{e}.xlsx") for e in exported)],
                   check=True, capture_output=True, timeout=600, env={**os.environ, "HOME": str(tmp_path)})
    problems = []
    for endpoint, ours in exported.items():
        converted = out / f"{endpoint}.csv"
        if not converted.exists():
            problems.append((endpoint, "LibreOffice could not open it"))
            continue
        theirs = list(csv.reader(io.StringIO(converted.read_text(encoding="utf-8"))))
        if len(theirs) != len(ours):
            problems.append((endpoint, f"{len(theirs)} rows, list has {len(ours)}"))
            continue
        for r, (a, b) in enumerate(zip(ours, theirs)):
            b = b + [""] * (len(a) - len(b))
            bad = [(i, x, y) for i, (x, y) in enumerate(zip(a, b)) if not _same(x, y)]
            if bad:
                problems.append((endpoint, r, bad[:3]))
                break
    assert problems == []
