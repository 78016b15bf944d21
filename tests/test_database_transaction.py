"""Work that loses to a concurrent transaction runs again
(mirrorkeeper.database.transaction), the prober's records included: on
PostgreSQL's repeatable read, writing a mirror's probe record raises the
mirror's revision (schema patch 0024), so it meets an admin's edit of
the same mirror."""

import pytest
from storm.exceptions import IntegrityError

from mirrorkeeper.database.store import open_store
from mirrorkeeper.database.transaction import committed
from mirrorkeeper.enums import ProbeRecordState
from mirrorkeeper.model.distributionmirror import DistributionMirrorSet
from mirrorkeeper.prober.record import write_report
from mirrorkeeper.sampledata import load_sample_data
from tests.test_prober_record import report_for


@pytest.fixture
def postgres_uri(postgres_databases):
    uri = postgres_databases.new()
    store = open_store(uri)
    load_sample_data(store)
    store.commit()
    store.close()
    yield uri
    postgres_databases.drop(uri)


def test_a_probe_record_written_while_an_admin_edits_the_mirror(
        postgres_uri):
    prober, admin = open_store(postgres_uri), open_store(postgres_uri)
    mirror = DistributionMirrorSet(prober)["valid-mirror"]
    mirror_id, report = mirror.id, report_for(mirror, "probed\n")
    prober.rollback()
    attempts = []

    def write(store):
        attempts.append(store.execute(
            "SELECT revision FROM distribution_mirror WHERE id = ?",
            (mirror_id,)).get_one()[0])
        if len(attempts) == 1:
            # The admin's edit commits after the prober's transaction
            # began, before it writes.
            admin.execute(
                "UPDATE distribution_mirror SET display_name = 'Edited' "
                "WHERE id = ?", (mirror_id,))
            admin.commit()
        return write_report(store, report)

    try:
        record_id = committed(prober, write)
        assert len(attempts) == 2 and attempts[1] > attempts[0]
        (state, name), = admin.execute(
            "SELECT r.state, m.display_name FROM mirror_probe_record r "
            "JOIN distribution_mirror m ON m.id = r.distribution_mirror "
            "WHERE r.id = ?", (record_id,))
        assert (state, name) == (ProbeRecordState.PENDING.value, "Edited")
    finally:
        prober.close()
        admin.close()


def test_other_errors_are_raised_at_once_and_rolled_back(sample_store):
    store = sample_store
    attempts = []

    def duplicate(store):
        attempts.append(1)
        store.execute("UPDATE person SET display_name = 'Changed'")
        store.execute("INSERT INTO person (id, name, display_name) "
                      "SELECT id, name, display_name FROM person")

    with pytest.raises(IntegrityError):
        committed(store, duplicate)
    assert attempts == [1]
    assert "Changed" not in {
        name for name, in store.execute("SELECT display_name FROM person")}
