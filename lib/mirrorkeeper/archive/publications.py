"""Bringing one place's publishing history in line with its index.

A place is (arch series, component, pocket) for binaries, (series,
component, pocket) for sources.  Its PUBLISHED records are compared with
the index by (name, version): what the index adds is published, what it no
longer lists is SUPERSEDED (the index has another version of the name) or
DELETED (it has none), with the time of the scan as date_removed.  Rows are
never deleted.

The rows are the ones model/publishing.py maps, with the same meaning as
PublishingSet.publishBinary/publishSource give them; they are written here
in multi-row statements because an Ubuntu-sized first scan writes a
million of them, which one ORM object at a time would take an hour to do.
"""

import attrs

from mirrorkeeper.enums import PackagePublishingStatus

PUBLISHED = PackagePublishingStatus.PUBLISHED.value
SUPERSEDED = PackagePublishingStatus.SUPERSEDED
DELETED = PackagePublishingStatus.DELETED

# Rows per INSERT: well under SQLite's limit of 32,766 parameters for the
# widest table (7 columns), and large enough that statement overhead is
# negligible.
BATCH = 500


@attrs.frozen
class Table:
    """The names of one kind's tables and columns."""

    release: str
    release_columns: tuple
    file: str
    publication: str
    place_column: str


BINARY = Table("binary_package_release", ("name", "version", "source_name"),
               "binary_package_file", "binary_package_publishing_history",
               "distro_arch_series")
SOURCE = Table("source_package_release", ("name", "version"),
               "source_package_file", "source_package_publishing_history",
               "distro_series")


@attrs.frozen
class NewPublication:
    """What to publish: the release columns (name, version[, source name]),
    its files as (filename, filetype item, path, size, sha256), and the
    date it was published."""

    release: tuple
    files: tuple
    date_published: object


@attrs.define
class PlaceChanges:
    added: int = 0
    superseded: int = 0
    deleted: int = 0

    @property
    def rows(self):
        return self.added + self.superseded + self.deleted


def _values(row_count, width):
    row = "(" + ", ".join(["?"] * width) + ")"
    return ", ".join([row] * row_count)


def _batches(items, size=BATCH):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class PlaceSynchroniser:
    """Reads and writes the publishing history of places, on `store`."""

    def __init__(self, store):
        self.store = store

    def published(self, table, place_id, component_id, pocket):
        """{(name, version): publication id} of the place's PUBLISHED
        records."""
        result = self.store.execute(
            "SELECT p.id, r.name, r.version FROM %s p, %s r "
            "WHERE p.%s = r.id AND p.%s = ? AND p.component = ? "
            "AND p.pocket = ? AND p.status = ?" % (
                table.publication, table.release, table.release,
                table.place_column),
            (place_id, component_id, pocket.value, PUBLISHED))
        return {(name, version): pub_id
                for pub_id, name, version in result.get_all()}

    def synchronise(self, table, place_id, component_id, pocket, entries,
                    date_for, when):
        """Bring the place in line with `entries` ({(name, version):
        entry}); `date_for(entry)` gives a new entry's NewPublication.
        Returns the PlaceChanges."""
        current = self.published(table, place_id, component_id, pocket)
        changes = PlaceChanges()
        new = [date_for(entry) for key, entry in entries.items()
               if key not in current]
        if new:
            self._add(table, place_id, component_id, pocket, new)
            changes.added = len(new)
        names = {name for name, _ in entries}
        superseded, deleted = [], []
        for key, pub_id in current.items():
            if key not in entries:
                (superseded if key[0] in names else deleted).append(pub_id)
        for status, ids in ((SUPERSEDED, superseded), (DELETED, deleted)):
            for batch in _batches(ids):
                self.store.execute(
                    "UPDATE %s SET status = ?, date_removed = ? "
                    "WHERE id IN (%s)" % (table.publication,
                                          ", ".join(["?"] * len(batch))),
                    [status.value, when] + batch, noresult=True)
        changes.superseded, changes.deleted = len(superseded), len(deleted)
        return changes

    def _add(self, table, place_id, component_id, pocket, new):
        width = len(table.release_columns)
        for batch in _batches(new):
            params = [value for publication in batch
                      for value in publication.release]
            # RETURNING gives the ids with the key columns, so that each id
            # is matched to its release whatever order the rows come in.
            # (name, version) is unique within a place's index.
            returned = self.store.execute(
                "INSERT INTO %s (%s) VALUES %s RETURNING id, name, version"
                % (table.release, ", ".join(table.release_columns),
                   _values(len(batch), width)), params).get_all()
            ids = {(name, version): release_id
                   for release_id, name, version in returned}
            file_params, publication_params = [], []
            file_rows = 0
            for publication in batch:
                release_id = ids[tuple(publication.release[:2])]
                for filename, filetype, path, size, sha256 in \
                        publication.files:
                    file_params += [release_id, filename, filetype.value,
                                    path, size, sha256]
                    file_rows += 1
                publication_params += [
                    release_id, place_id, component_id, pocket.value,
                    PUBLISHED, publication.date_published]
            for start in range(0, file_rows, BATCH):
                rows = min(BATCH, file_rows - start)
                self.store.execute(
                    "INSERT INTO %s (%s, filename, filetype, path, size, "
                    "sha256) VALUES %s" % (table.file, table.release,
                                           _values(rows, 6)),
                    file_params[start * 6:(start + rows) * 6],
                    noresult=True)
            self.store.execute(
                "INSERT INTO %s (%s, %s, component, pocket, status, "
                "date_published) VALUES %s" % (
                    table.publication, table.release, table.place_column,
                    _values(len(batch), 6)),
                publication_params, noresult=True)
