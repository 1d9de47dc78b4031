"""Start-up checks of the screen declarations (Django-style): a mistake in a declaration
fails the app factory, not a user's click."""
from admin_app import flask_admin_compat
from admin_app.permissions import permission_table
from admin_app.screens import PermissionMixin


class DeclarationError(RuntimeError):
    pass


def check_declarations(app, admin) -> None:
    table = permission_table()
    errors = []
    for view in flask_admin_compat.registered_views(admin):
        key = view.endpoint
        if key not in table:
            errors.append(f"{key}: no entry in admin_app.permissions")
            continue
        if not isinstance(view, PermissionMixin):
            continue
        for url, name, methods in flask_admin_compat.view_url_rules(view):
            verb = view.verb_for(name)
            if verb is None:
                errors.append(f"{key}.{name}: exposed without a verb (declare it in `verbs`)")
            elif verb not in table[key] and verb not in ("create", "edit", "delete", "export"):
                errors.append(f"{key}.{name}: verb '{verb}' missing from the permission table")
        for f in getattr(view, "search_fields", ()):
            if f.column is None:
                errors.append(f"{key}: search field {f.name} has no column")
    if errors:
        raise DeclarationError("Screen declarations are wrong:\n" + "\n".join(errors))
