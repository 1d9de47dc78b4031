"""Money, counts and shares read one way on every screen, formatted in one place
(admin_app/formats.py): no template or view formats an amount, count or percentage itself
(`'{:,.2f}'.format`, f"{x:,.2f}", `'%.2f' %`), so a change of the rule changes every screen.
The import preview shows a file's amounts in that format, right-aligned."""
import pathlib
import re

from admin_app.formats import percent_text
from admin_app.import_screen import preview_cell
from services.importing.kinds import KINDS

ROOT = pathlib.Path(__file__).resolve().parent.parent
OWN_FORMAT = re.compile(r""":,\.\d?f\}|\{:,\}|:,\}|'%\.2f%*'\s*%|"%\.2f%*"\s*%|\{:\.2f\}%|:\.2f\}%""")


def test_no_template_or_view_formats_money_itself():
    files = list((ROOT / "admin_app" / "templates").rglob("*.html")) + list((ROOT / "views").glob("*.py")) \
        + [ROOT / "admin_app" / "report.py", ROOT / "admin_app" / "import_screen.py"]
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in files
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OWN_FORMAT.search(line)]
    assert not hits, "\n".join(hits)


def test_the_check_sees_an_own_format():
    for line in ("{{ '{:,.2f}'.format(m.balance) }}", 'f"{value:,.2f}"', "f\"{n:,}\"", "{{ '%.2f' % annual.old }}", "{{ '%.2f%%' % annual_rate }}"):
        assert OWN_FORMAT.search(line), line


def test_percent_rule():
    assert percent_text("12.345") == "12.35%" and percent_text(0) == "0.00%" and percent_text(None) == ""


def test_the_import_preview_shows_amounts_in_the_money_format():
    loans = next(k for k in KINDS.values() if k.key == "loans") if isinstance(KINDS, dict) else \
        next(k for k in KINDS if k.key == "loans")
    principal = next(c for c in loans.columns if c.header == "贷款金额")
    name = next(c for c in loans.columns if c.header == "客户名称")
    assert preview_cell(principal, "1200000.5") == ("1,200,000.50", True)
    assert preview_cell(principal, 98000) == ("98,000.00", True)
    assert preview_cell(principal, "十万") == ("十万", False)  # refused: shown as the file has it
    assert preview_cell(name, "张三") == ("张三", False)
