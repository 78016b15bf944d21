"""The revisions the database keeps of each mirror (schema patch 0024),
which tell the web's caches that an answer no longer holds: every kind
of change raises the revisions of the mirrors it concerns and of no
other, one statement of many rows as well as one row, on both backends.
"""

import pytest

from mirrorkeeper.model.mirrorstate import states_version


def _revisions(store):
    return dict(store.execute(
        "SELECT id, revision FROM distribution_mirror").get_all())


def _raised(store, statement, params=()):
    """The mirrors whose revision the committed statement raised, and
    whether the states' version grew."""
    before, version = _revisions(store), states_version(store)
    store.execute(statement, params)
    store.commit()
    after = _revisions(store)
    grew = states_version(store)[1] > version[1]
    return {m for m in after if after[m] > before.get(m, after[m])}, grew


@pytest.fixture
def mirrors(sample_store):
    first, second = sorted(_revisions(sample_store))[:2]
    return sample_store, first, second


def _checks(store, mirror, labels):
    values = ", ".join(
        "(%d, 'timestamp', '%s', 1, 'n', '2026-12-01 00:00:00')"
        % (mirror, label) for label in labels)
    return _raised(
        store, "INSERT INTO mirror_freshness_check (distribution_mirror, "
        "detector, label, freshness, note, date_checked) VALUES " + values)


def test_many_rows_of_one_statement_raise_their_mirror(mirrors):
    store, first, second = mirrors
    assert _checks(store, first, ["a", "b", "c"]) == ({first}, True)
    assert _raised(
        store, "UPDATE mirror_freshness_check SET freshness = 2 "
        "WHERE distribution_mirror = ?", (first,)) == ({first}, True)
    assert _raised(
        store, "DELETE FROM mirror_freshness_check "
        "WHERE distribution_mirror = ?", (first,)) == ({first}, True)


def test_a_record_moved_between_mirrors_raises_both(mirrors):
    store, first, second = mirrors
    _checks(store, first, ["a"])
    assert _raised(
        store, "UPDATE mirror_freshness_check SET distribution_mirror = ?",
        (second,)) == ({first, second}, True)


def test_a_statement_of_no_rows_raises_nothing(mirrors):
    store, first, second = mirrors
    assert _raised(
        store, "UPDATE mirror_freshness_check SET freshness = 3 "
        "WHERE distribution_mirror = ?", (first,)) == (set(), False)


def test_the_mirror_row_and_the_names_it_shows(mirrors):
    store, first, second = mirrors
    assert _raised(
        store, "UPDATE distribution_mirror SET display_name = 'Renamed' "
        "WHERE id = ?", (first,)) == ({first}, True)
    (site,), = store.execute(
        "SELECT site FROM distribution_mirror WHERE id = ?", (second,))
    assert _raised(
        store, "UPDATE site SET display_name = 'Another name' "
        "WHERE id = ?", (site,))[0] == {
            m for m, in store.execute(
                "SELECT id FROM distribution_mirror WHERE site = ?",
                (site,))}
    (owner,), = store.execute(
        "SELECT owner FROM distribution_mirror WHERE id = ?", (first,))
    raised, grew = _raised(
        store, "UPDATE person SET name = 'renamed-owner' WHERE id = ?",
        (owner,))
    assert first in raised and grew


def test_a_deleted_mirror_still_raises_the_version(mirrors):
    store, first, second = mirrors
    version = states_version(store)
    store.execute("DELETE FROM distribution_mirror WHERE id = ?", (first,))
    store.commit()
    assert states_version(store)[0] == version[0] - 1
    assert states_version(store)[1] > version[1]
