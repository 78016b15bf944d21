"""The message telling mirror owners that the master has a new series.

A new series the master scan finds is expected at once of the mirrors that
pick up new series by themselves; the owner of every other archive mirror
of the distribution is told that it exists, once per series, in the
transaction that records the series (see `queue_new_series`).  Composing
the message is a pure function of plain values, as in
mirrorkeeper.mail.notifications, whose MailSettings it takes.
"""

import textwrap
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from mirrorkeeper.enums import MirrorContent
from mirrorkeeper.mail.notifications import MailSettings
from mirrorkeeper.mail.outbox import queue
from mirrorkeeper.timeutil import utcnow

__all__ = ["new_series_message", "queue_new_series"]

WIDTH = 72


def _paragraph(text):
    return textwrap.fill(" ".join(text.split()), WIDTH,
                         break_on_hyphens=False, break_long_words=False)


def new_series_message(sender, recipient, distribution_name, series_name,
                       series_version, suites_path, mirrors,
                       site_name="mirrorkeeper"):
    """The message telling `recipient` ((display name, address)) that the
    master of `distribution_name` has the new series `series_name`
    (`series_version`), whose suites lie under `suites_path` (e.g.
    'dists/trixie*'), and that `mirrors` ((name, base URL) pairs, the
    recipient's mirrors that do not pick up new series by themselves) are
    not expected to carry it until they take it on."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(recipient)
    message["Subject"] = "%s: %s has a new series, %s" % (
        site_name, distribution_name, series_name)
    message["Message-ID"] = make_msgid(
        domain=sender.rsplit("@", 1)[-1].rstrip(">") or "localhost")
    message["X-Mirrorkeeper-Series"] = series_name
    several = len(mirrors) > 1
    lines = [
        "Dear %s," % (recipient[0],),
        "",
        _paragraph(
            "The master archive of %s now has a new series, %s%s, under %s "
            "(with the pool files its indexes list)."
            % (distribution_name, series_name,
               " (%s)" % (series_version,) if series_version else "",
               suites_path)),
        "",
        _paragraph(
            "%s not said to pick up new series by %s, so %s not "
            "expected to carry it yet:"
            % ("These mirrors of yours have" if several else
               "Your mirror has",
               "themselves" if several else "itself",
               "they are" if several else "it is")),
        "",
    ]
    lines += ["    %s  %s" % (name, url) for name, url in mirrors]
    lines += [
        "",
        _paragraph(
            "To carry it, sync the new series as well; then ask the mirror "
            "admins of %s to add it to what your mirror is expected to "
            "carry, or to note that your mirror picks up new series by "
            "itself, so that the next ones are expected of it at once.  "
            "Until then the prober does not ask your mirror for it."
            % (distribution_name,)),
        "",
        "You receive this message as the owner of %s." % (
            ", ".join(name for name, _ in mirrors),),
        "",
        "-- ",
        site_name,
    ]
    message.set_content("\n".join(lines) + "\n")
    return message


def queue_new_series(store, series, config=None):
    """Tell the owners of the archive mirrors of the series' distribution
    that do not pick up new series by themselves that `series` exists: one
    message per recipient, naming each of their mirrors; uncommitted, in
    the caller's transaction, with series.date_announced set.  Return the
    recipients; a series announced already queues nothing, so the owners
    are told once however often this runs.

    `config`: a mirrorkeeper.config.Config or a MailSettings (default: the
    configuration load_config() finds)."""
    if series.date_announced is not None:
        return []
    if config is None:
        from mirrorkeeper.config import load_config
        config = load_config()
    settings = MailSettings.from_config(config)
    distribution = series.distribution
    mirrors_of = {}
    for mirror in distribution.mirrors:
        if mirror.content is not MirrorContent.ARCHIVE or \
                mirror.picks_up_new_series:
            continue
        for recipient in mirror.owner.recipients():
            mirrors_of.setdefault(recipient, []).append(
                (mirror.name, mirror.base_url))
    suites_path = "%sdists/%s*" % (series.root, series.name)
    for recipient, mirrors in mirrors_of.items():
        queue(store, new_series_message(
            settings.sender, recipient, distribution.display_name,
            series.name, series.version, suites_path, mirrors,
            settings.site_name))
    series.date_announced = utcnow()
    return list(mirrors_of)
