"""Business operations (commands): each validates, then runs, raising a typed error whose
message the view shows. Views stay thin; tests and the seeder call the same functions."""


class BusinessError(Exception):
    """A refused operation; `str(err)` is the Chinese message for the user."""
