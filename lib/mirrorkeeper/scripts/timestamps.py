"""The timestamp planter, as cron runs it ([timestamps] interval apart).

    cronscripts/plant-timestamps.py [--distribution NAME]...

Writes the current time into every target of [timestamps] targets, all at
once (see mirrorkeeper.timestampfile for the file, mirrorkeeper.timestamps
for the targets), records each successful planting in the history, prunes
the history older than [timestamps] keep_history_days, and reports one line
per target.  Exits 1 if any target failed (what did succeed is recorded all
the same); a target that failed has its old file, whole, or none.
"""

import sys
from datetime import timedelta

from mirrorkeeper.errors import ConfigurationError, NotFoundError
from mirrorkeeper.model.distribution import DistributionSet
from mirrorkeeper.model.timestamps import PlantedTimestampSet
from mirrorkeeper.scripts.base import (
    EXIT_ERROR, MirrorKeeperScript, add_json_option, print_json, run_reactor)
from mirrorkeeper.timestampfile import timestamp_file_body
from mirrorkeeper.timestamps import plant_all, target_from_spec
from mirrorkeeper.timestamps.local import check_file_name
from mirrorkeeper.timeutil import utcnow


def parse_targets(text):
    """[(distribution name, target spec)] from [timestamps] targets: one
    pair a line, separated by white space."""
    pairs = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise ConfigurationError(
                "[timestamps] targets: %r is not a distribution's name and "
                "a target (local:/path or sftp://user@host[:port]/path)"
                % (line.strip(),))
        pairs.append(tuple(words))
    return pairs


class PlantTimestampsScript(MirrorKeeperScript):
    name = "plant-timestamps"
    description = ("Plant the current time into the master's timestamp "
                   "files (the targets of [timestamps] targets), whose "
                   "copies on the mirrors tell how far behind they are.")

    def add_my_options(self, parser):
        parser.add_argument(
            "--distribution", action="append", metavar="NAME",
            help="plant only into this distribution's targets (repeat "
                 "for more)")
        add_json_option(parser)

    def main(self):
        config = self.config
        self.lock(config.get("timestamps", "lock_file"))
        file_name = config.get("timestamps", "file_name")
        try:
            check_file_name(file_name)
        except ValueError as error:
            raise ConfigurationError("[timestamps] file_name: %s"
                                     % (error,)) from None
        pairs = self._wanted(parse_targets(config.get("timestamps",
                                                      "targets")))
        if not pairs:
            self.logger.info("No timestamp targets are configured "
                             "([timestamps] targets).")
            print_json(self.options, {"targets": 0, "planted": [],
                                      "failed": [], "stamp": None})
            return 0
        planted = self._targets(pairs)
        when = utcnow().replace(microsecond=0)
        self.logger.info("Planting %s (%s) into %d target(s).",
                         timestamp_file_body(when).decode().strip(), when,
                         len(planted))
        outcomes = run_reactor(lambda: plant_all(
            [target for _, target in planted], file_name,
            timestamp_file_body(when)))
        failed = self._record(planted, outcomes, when)
        self._prune()
        self.store.commit()
        print_json(self.options, {
            "targets": len(planted), "stamp": timestamp_file_body(
                when).decode().strip(),
            "planted": ["%s %s" % (d.name, t.description)
                        for (d, t), (_, e) in zip(planted, outcomes)
                        if e is None],
            "failed": ["%s %s" % (d.name, t.description)
                       for (d, t), (_, e) in zip(planted, outcomes)
                       if e is not None]})
        if failed:
            self.logger.info("Done: %d of %d target(s) failed.",
                             failed, len(planted))
            return EXIT_ERROR
        self.logger.info("Done.")
        return 0

    def _wanted(self, pairs):
        wanted = self.options.distribution
        if not wanted:
            return pairs
        missing = sorted(set(wanted) - {name for name, _ in pairs})
        if missing:
            raise ConfigurationError(
                "[timestamps] targets has none for %s" % (", ".join(missing),))
        return [(name, spec) for name, spec in pairs if name in wanted]

    def _targets(self, pairs):
        """[(distribution, ITimestampTarget)], every one checked before
        anything is planted."""
        config = self.config
        distributions = DistributionSet(self.store)
        private_key = config.get("timestamps", "private_key")
        known_hosts = config.get("timestamps", "known_hosts")
        if any(spec.startswith("sftp://") for _, spec in pairs):
            # Read once, for every SFTP target.
            from mirrorkeeper.timestamps.sftp import (
                load_known_hosts, load_private_key)
            if private_key:
                private_key = load_private_key(private_key)
            if known_hosts:
                known_hosts = load_known_hosts(known_hosts)
        timeout = config.getfloat("timestamps", "timeout")
        targets = []
        for name, spec in pairs:
            try:
                distribution = distributions[name]
            except NotFoundError:
                raise ConfigurationError(
                    "[timestamps] targets names %r, which is no "
                    "distribution" % (name,)) from None
            targets.append((distribution, target_from_spec(
                spec, private_key, known_hosts, timeout)))
        return targets

    def _record(self, planted, outcomes, when):
        """Record and report each target's outcome; return how many
        failed."""
        history = PlantedTimestampSet(self.store)
        interval = self.config.getint("timestamps", "interval")
        failed = 0
        for (distribution, target), (_, error) in zip(planted, outcomes):
            if error is not None:
                failed += 1
                self.logger.error("%s %s", distribution.name, error)
                continue
            previous = history.getLatest(distribution, target.description)
            history.record(distribution, target.description, when, utcnow())
            self.logger.info("Planted into %s %s.", distribution.name,
                             target.description)
            if previous is not None and \
                    when - previous.date_stamp > timedelta(
                        seconds=2 * interval):
                self.logger.warning(
                    "%s %s: the previous timestamp was planted at %s, more "
                    "than twice [timestamps] interval (%d s) ago; until "
                    "now mirrors looked staler than they were",
                    distribution.name, target.description,
                    previous.date_stamp, interval)
        return failed

    def _prune(self):
        days = self.config.getint("timestamps", "keep_history_days")
        pruned = PlantedTimestampSet(self.store).prune(
            utcnow() - timedelta(days=days))
        if pruned:
            self.logger.info("Pruned %d planted timestamp(s) older than %d "
                             "days.", pruned, days)


def main(argv=None):
    return PlantTimestampsScript().run(argv)


if __name__ == "__main__":
    sys.exit(main())
