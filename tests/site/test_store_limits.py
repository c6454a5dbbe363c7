"""The store's bookkeeping for the limits: a unit's uploads counted, refused files pruned (never an
accepted one, the current return or a file another row still needs), sessions ended, ids checked."""

from __future__ import annotations

from pathlib import Path

from xxgk.site.store import Store


def _add(store: Store, unit: int, data: bytes, *, valid: bool, via: str = "unit") -> int:
    digest, rel = store.put_file(data, ".xlsx")
    with store.transaction() as db:
        cur = db.execute(
            "INSERT INTO uploads (unit, at, name, size, sha256, path, via, valid, errors, warnings, unexplained, report)"
            " VALUES (?, datetime('now', 'localtime'), 'x.xlsx', ?, ?, ?, ?, ?, 0, 0, 0, '{}')",
            (unit, len(data), digest, rel, via, int(valid)))
    return int(cur.lastrowid or 0)


def test_refused_files_past_the_newest_are_pruned(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    try:
        with store.transaction() as db:
            db.executemany("INSERT INTO units (code, name, token_hash) VALUES (?, ?, ?)", [("1", "甲", "a"), ("2", "乙", "b")])
        shared = _add(store, 2, b"shared", valid=False)  # the same bytes another unit also sent
        ids = [_add(store, 1, b"shared", valid=False), _add(store, 1, b"old", valid=False),
               _add(store, 1, b"good", valid=True), _add(store, 1, b"r1", valid=False), _add(store, 1, b"r2", valid=False)]
        assert store.sent_since(1, 3600) == (5, len(b"sharedoldgoodr1r2"))
        assert store.sent_since(2, 3600) == (1, 6)
        assert store.prune_refused(1, 2) == 1  # "old" deleted; "shared" is still another unit's file
        pruned = {u.id: u.pruned for u in store.uploads()}
        assert pruned == {shared: False, ids[0]: True, ids[1]: True, ids[2]: False, ids[3]: False, ids[4]: False}
        assert [store.path(u).exists() for u in store.uploads() if u.id in ids] == [True, False, True, True, True]
        assert store.consistency() == []
        assert store.prune_refused(1, 2) == 0
        assert store.upload(2**63) is None and store.unit(10**30) is None and store.upload(0) is None
    finally:
        store.close()


def test_sessions_end_together(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    try:
        store.add_session("s1", 10**12)
        store.add_session("s2", 10**12)
        assert store.session_alive("s1", 0) and store.session_alive("s2", 0)
        with store.transaction() as db:
            store.end_sessions(db)
        assert not store.session_alive("s1", 0) and not store.session_alive("s2", 0)
    finally:
        store.close()
