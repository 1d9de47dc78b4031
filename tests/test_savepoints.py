"""A savepoint never commits on its own (admin_app.database): on SQLite, Python's driver
opened a transaction only before a write, so a savepoint taken first started the transaction
itself and releasing it committed — a later rollback of the same unit of work left the
savepoint's rows behind (imports, classification, write-off and collection use savepoints)."""
from models import Setting


def _keys(db):
    return sorted(s.key for s in db.session.query(Setting).filter(Setting.key.like("sp.%")))


def test_a_released_savepoint_is_undone_by_the_rollback_of_its_transaction(db):
    db.session.scalar(db.select(Setting).limit(1))  # a read first, as a request does
    with db.session.begin_nested():
        db.session.add(Setting(key="sp.first", value="1"))
    db.session.add(Setting(key="sp.second", value="2"))
    db.session.flush()
    db.session.rollback()
    assert _keys(db) == []


def test_a_rolled_back_savepoint_keeps_what_came_before_and_the_commit_keeps_the_rest(db):
    db.session.add(Setting(key="sp.kept", value="1"))
    db.session.flush()
    try:
        with db.session.begin_nested():
            db.session.add(Setting(key="sp.undone", value="2"))
            db.session.flush()
            raise ValueError
    except ValueError:
        pass
    with db.session.begin_nested():
        db.session.add(Setting(key="sp.after", value="3"))
    db.session.commit()
    assert _keys(db) == ["sp.after", "sp.kept"]
