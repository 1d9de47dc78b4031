"""The main menu, rendered once per (roles, current screen) and reused: the menu walks every
view's permission and URL (about a third of a list page's own time), and its HTML depends only
on which screens the user's roles may open and which screen is active."""
from __future__ import annotations

from flask import current_app, render_template_string
from flask_login import current_user
from markupsafe import Markup

MENU_TEMPLATE = "{% import 'admin/_frame.html' as frame with context %}{{ frame.menu() }}"


def cached_menu(admin_view) -> Markup:
    roles = tuple(sorted(current_user.roles)) if current_user.is_authenticated else ()
    key = (roles, admin_view.endpoint)
    cache = current_app.extensions.setdefault("postloan_menu_cache", {})
    html = cache.get(key)
    if html is None:
        html = cache[key] = Markup(render_template_string(MENU_TEMPLATE, admin_view=admin_view))
    return html
