def test_login_then_bank_cards_list_in_chinese(client_for):
    c = client_for("officer")
    page = c.get("/bank_cards/").get_data(as_text=True)
    assert "查询" in page and "重置" in page and "客户名称" in page


def test_reviewer_is_refused_bank_cards(client_for):
    assert client_for("reviewer").get("/bank_cards/").status_code == 403


def test_anonymous_is_sent_to_login(client_for):
    r = client_for().get("/bank_cards/")
    assert r.status_code == 302 and "/login" in r.location


def test_the_app_serves_its_own_chinese_font(app):
    """Pages read in Chinese on a browser without a Chinese system font: app.css names the
    app's font, which is served from /static as WOFF2."""
    client = app.test_client()
    css = client.get("/static/app.css").get_data(as_text=True)
    assert 'url("fonts/NotoSansSC-app.woff2")' in css and '"App Noto Sans SC"' in css
    font = client.get("/static/fonts/NotoSansSC-app.woff2")
    assert font.status_code == 200 and font.data[:4] == b"wOF2"


def test_the_menu_shows_each_role_its_own_screens_and_marks_the_current_one(client_for):
    """The menu is rendered once per (roles, screen) and reused (admin_app.menu): a reused
    menu must still be the user's own, with the screen being shown marked active."""
    import re

    def active(menu_html):
        return re.findall(r'class="menu-item active" href="([^"]+)"', menu_html)

    def menu(role, url):
        page = client_for(role).get(url).get_data(as_text=True)
        return page[page.index('id="sidebar"'):page.index('id="main-content"')]

    for _ in range(2):  # the second round is served from the cache
        admin, officer = menu("admin", "/bank_cards/"), menu("officer", "/bank_cards/")
        assert "系统管理" in admin and "系统管理" not in officer
        assert "客户银行卡账户管理" in officer and "五级分类审核" not in officer
        assert active(officer) == ["/bank_cards/"]
        assert active(menu("officer", "/contract_change/")) == ["/contract_change/"]
