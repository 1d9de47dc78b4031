"""Every screen as a person sees it at 1366×768 (and 390×844 for phones): the top bar does not
wrap, each list's declared key columns are in view without scrolling (not under the fixed
row actions), amounts are right-aligned in the money format, no Latin word shows; a
screenshot of every screen as admin lands in test-artifacts/screens/."""
import os
import re
from datetime import date

import pytest

from admin_app.screens import ScreenView
from admin_app.seed import seed_demo
from tests.browser.conftest import ARTIFACTS
from tests.test_chinese_everywhere import ALLOWED, WORD

pytestmark = pytest.mark.browser
SHOTS = os.path.join(ARTIFACTS, "screens")
MONEY_OR_RATE = re.compile(r"^(-?\d{1,3}(,\d{3})*\.\d{2}|\d{1,3}\.\d{2,4}%)?$")
UNFORMATTED_MONEY = re.compile(r"^-?\d{4,}\.\d{2}$")

MEASURE = """() => {
  const vw = window.innerWidth;
  const top = document.getElementById('topbar');
  const logout = document.getElementById('logout');
  const actions = document.querySelector('table.model-list thead th.fix-r');
  const limit = actions ? Math.min(vw, actions.getBoundingClientRect().left + 1) : vw;
  const keys = [...document.querySelectorAll('table.model-list thead th.key, table.model-list thead th.fix-l')]
    .filter(th => th.offsetParent !== null)
    .map(th => { const r = th.getBoundingClientRect();
                 return {name: th.innerText.trim(), left: r.left, right: r.right, fixed: th.classList.contains('fix-l')}; })
    .filter(k => k.left < 0 || k.right > (k.fixed ? vw : limit));
  const cells = [...document.querySelectorAll('table.model-list tbody td')].map(td => ({
      text: td.innerText.trim(), num: td.classList.contains('num'), align: getComputedStyle(td).textAlign}));
  return {topHeight: top ? top.offsetHeight : 0, logoutHeight: logout ? logout.offsetHeight : 0,
          hiddenKeys: keys, cells: cells,
          text: [...document.body.querySelectorAll('*')].filter(e => !e.closest('code, script, style, textarea') && e.checkVisibility())
                  .flatMap(e => [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent)).join(' ')};
}"""


@pytest.fixture
def seeded(db):
    seed_demo(loans=80, seed=7, as_of=date(2025, 6, 30))
    db.session.commit()


def _screens(app):
    return [(v.endpoint, f"/{(v.url or '').strip('/')}/".replace("//", "/"), isinstance(v, ScreenView))
            for v in app.extensions["postloan_admin"]._views]


def _check(page, where: str, problems: list):
    m = page.evaluate(MEASURE)
    if m["topHeight"] > 52 or m["logoutHeight"] > 36:
        problems.append(f"{where}: the top bar wraps ({m['topHeight']} px, 退出登录 {m['logoutHeight']} px)")
    for k in m["hiddenKeys"]:
        problems.append(f"{where}: key column {k['name']} out of view ({k['left']:.0f}–{k['right']:.0f})")
    for c in m["cells"]:
        if c["num"] and (c["align"] != "right" or not MONEY_OR_RATE.match(c["text"])):
            problems.append(f"{where}: amount cell {c['text']!r} aligned {c['align']}")
        if UNFORMATTED_MONEY.match(c["text"]):
            problems.append(f"{where}: amount without separators {c['text']!r}")
    latin = {w for w in WORD.findall(m["text"]) if w not in ALLOWED}
    if latin:
        problems.append(f"{where}: Latin words {sorted(latin)}")


def test_every_screen_at_1366_and_on_a_phone(app, page_as, seeded):
    os.makedirs(SHOTS, exist_ok=True)
    page = page_as("admin")
    problems: list[str] = []
    visited = 0
    for size in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        for endpoint, url, is_list in _screens(app):
            response = page.goto(page.base + url)
            if response is None or response.status != 200:
                continue
            visited += 1
            if size[0] == 1366:
                _check(page, endpoint, problems)
            page.screenshot(path=os.path.join(SHOTS, f"{endpoint}-{size[0]}x{size[1]}.png"))
            if is_list:
                first = page.locator("a.row-link, a.row-action").first
                if first.count():
                    href = first.get_attribute("href")
                    page.goto(page.base + href if href.startswith("/") else href)
                    if size[0] == 1366:
                        _check(page, endpoint + " › " + href, problems)
                    page.screenshot(path=os.path.join(SHOTS, f"{endpoint}-row-{size[0]}x{size[1]}.png"))
    assert visited > 60
    assert not problems, "\n".join(problems)


def test_menu_collapses_and_the_choice_of_columns_is_remembered(app, page_as, seeded):
    page = page_as("admin")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(page.base + "/query_overdue/")
    assert page.locator("#sidebar .menu-item.active").inner_text().strip() == "逾期贷款查询"
    page.click("#sidebar-toggle")
    assert not page.locator("#sidebar").is_visible()
    page.click("#sidebar-toggle")
    assert page.locator("#sidebar").is_visible()
    # Hide 还款方式, reload: still hidden for this user; key columns cannot be hidden.
    page.click("#column-chooser summary")
    page.uncheck("#column-chooser input[value='col-repayment_method']")
    assert page.locator("#column-chooser input[value='col-days_overdue']").is_disabled()
    page.reload()
    assert not page.locator("th.col-repayment_method").is_visible()
    assert page.locator("th.col-days_overdue").is_visible()
    # Row delete asks in a dialog naming the row; 取消 deletes nothing.
    page.goto(page.base + "/customers/")
    first_name = page.locator("tbody tr td.col-name").first.inner_text().strip()
    page.locator("details.row-more summary").first.click()
    page.locator("[data-confirm-delete]").first.click()
    assert first_name in page.locator("#confirm-text").inner_text()
    page.click("#confirm-cancel")
    assert page.locator("tbody tr td.col-name").first.inner_text().strip() == first_name


DESKTOPS = ((1280, 720), (1366, 768), (1440, 900))
ROLES = ("admin", "officer", "collector", "risk_checker", "risk_approver", "reviewer")
FRAME = """() => {
  const top = document.getElementById('topbar'), logout = document.getElementById('logout');
  const user = document.getElementById('current-user'), crumbs = document.getElementById('breadcrumb');
  const lineHeight = el => parseFloat(getComputedStyle(el).lineHeight) || 20;
  const items = [...document.querySelectorAll('#sidebar .menu-item, #sidebar summary')].filter(e => e.offsetParent !== null);
  return {top: top.offsetHeight, logout: logout ? logout.offsetHeight : 0,
          userRight: user ? user.getBoundingClientRect().right : 0, vw: window.innerWidth,
          crumbsHeight: crumbs ? crumbs.offsetHeight : 0,
          wrappedItems: items.filter(e => e.getBoundingClientRect().height > lineHeight(e) * 1.6 + 16).map(e => e.innerText.trim()),
          active: [...document.querySelectorAll('#sidebar .menu-item.active')].map(e => e.innerText.trim())};
}"""


def _frame_problems(page, where: str) -> list[str]:
    m = page.evaluate(FRAME)
    out = []
    if m["top"] > 52 or m["logout"] > 36 or m["crumbsHeight"] > 36:
        out.append(f"{where}: the top bar wraps (bar {m['top']} px, 退出登录 {m['logout']} px, crumbs {m['crumbsHeight']} px)")
    if m["userRight"] > m["vw"] + 1:
        out.append(f"{where}: the user and 退出登录 run past the right edge ({m['userRight']:.0f} > {m['vw']})")
    if m["wrappedItems"]:
        out.append(f"{where}: menu entries wrap {m['wrappedItems']}")
    return out


@pytest.mark.parametrize("size", DESKTOPS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_key_columns_in_view_at_each_desktop_width(app, page_as, seeded, size):
    """Every list at 1280, 1366 and 1440 px: the top bar on one line, the declared key columns
    left of the fixed row actions, amounts right-aligned in the money format."""
    page = page_as("admin")
    page.set_viewport_size({"width": size[0], "height": size[1]})
    problems: list[str] = []
    visited = 0
    for endpoint, url, is_list in _screens(app):
        response = page.goto(page.base + url)
        if response is None or response.status != 200:
            continue
        visited += 1
        _check(page, f"{endpoint} at {size[0]}", problems)
    page.goto(page.base + "/query_overdue/")
    page.screenshot(path=os.path.join(SHOTS, f"query_overdue-{size[0]}x{size[1]}.png"))
    assert visited > 40
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_top_bar_and_menu_never_wrap_for_each_role(app, page_as, seeded, role):
    """The frame as each role sees it (its own menu, name and role label) at every desktop width:
    the top bar on one line with the user and 退出登录 inside the window, no menu entry on two
    lines, the current screen highlighted."""
    os.makedirs(SHOTS, exist_ok=True)
    page = page_as(role)
    problems: list[str] = []
    links = None
    for width, height in DESKTOPS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(page.base + "/")
        if links is None:
            # the role's own screens: the first entry of each menu group
            links = page.eval_on_selector_all("#sidebar .menu-cat details ul li:first-child a.menu-item",
                                              "els => els.map(e => [e.getAttribute('href'), e.textContent.trim()])")
            assert links, f"{role} has no menu"
        problems += _frame_problems(page, f"{role} 首页 at {width}")
        for href, name in links:
            page.goto(page.base + href)
            problems += _frame_problems(page, f"{role} {name} at {width}")
            active = page.evaluate(FRAME)["active"]
            if active != [name]:
                problems.append(f"{role} {name} at {width}: menu highlights {active}")
        page.screenshot(path=os.path.join(SHOTS, f"frame-{role}-{width}x{height}.png"))
    assert not problems, "\n".join(problems)
