"""Every message the import shows is Chinese: the declarations (headers, notes, formats,
allowed values, instructions), the template's 填写说明 sheet, and every Chinese string the
import's code can put in front of a user (row errors, file refusals, outcomes). A Latin word
outside the allow-list (file types, date pattern, encodings, the prefixes of numbers) fails."""
import ast
import io
import pathlib
import re

from openpyxl import load_workbook

from services.importing import template_xlsx
from services.importing.kinds import KINDS

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "services" / "importing").glob("*.py")) + [
    ROOT / "admin_app" / "import_screen.py", ROOT / "admin_app" / "import_cli.py"]
# Latin that is a file type, an encoding, a date pattern or a number prefix the user types.
ALLOWED = {"CSV", "XLSX", "Excel", "UTF", "BOM", "GBK", "GB", "YYYY", "MM", "DD", "SHA", "DK", "HT", "LS",
           "admin", "officer", "system", "MB"}
WORD = re.compile(r"(?<![A-Za-z0-9_.@/{-])[A-Za-z]{2,}(?![A-Za-z0-9_.@/}-])")
CJK = re.compile(r"[\u4e00-\u9fff]")


def latin(text: str) -> set[str]:
    return {w for w in WORD.findall(text) if w not in ALLOWED}


def chinese_strings(path: pathlib.Path):
    """(line, text) of every string constant with a Chinese character (f-strings: their
    literal parts joined, the placeholders left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    parts_of_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = " ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            parts_of_fstrings.update(id(v) for v in node.values)
            if CJK.search(text):
                yield node.lineno, text
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                and id(node) not in parts_of_fstrings and CJK.search(node.value)):
            yield node.lineno, node.value


def test_every_chinese_message_of_the_import_code_has_no_latin_word():
    found = {}
    for path in SOURCES:
        for line, text in chinese_strings(path):
            words = latin(text)
            if words:
                found[f"{path.relative_to(ROOT)}:{line}"] = (sorted(words), text)
    assert not found, found


def test_declarations_and_templates_have_no_latin_word():
    found = {}
    for kind in KINDS.values():
        texts = [kind.label, kind.unit_refused, *kind.instructions, *kind.derived_headers]
        for col in kind.columns:
            texts += [col.header, col.note, col.fmt, *col.aliases, *(col.choices or {}).values()]
        book = load_workbook(io.BytesIO(template_xlsx(kind)))
        for sheet in book.worksheets:
            texts.append(sheet.title)
            texts += [str(c.value) for row in sheet.iter_rows() for c in row
                      if isinstance(c.value, str) and CJK.search(c.value)]
        for text in texts:
            if latin(text or ""):
                found.setdefault(kind.key, []).append(text)
    assert not found, found


def test_a_wrong_card_check_digit_is_said_in_chinese(app):
    from services.importing.fields import FieldError, card_number

    try:
        card_number("6222020200000000001")
    except FieldError as err:
        assert str(err) == "银行卡号校验位错误(卡号最后一位校验码不符,请核对卡号)"
    else:
        raise AssertionError("a wrong check digit was accepted")
