"""The messages mirrorkeeper sends about mirrors.

Composing a message is a pure function of plain values; queueing it is the
only step that touches the database (see mirrorkeeper.mail.outbox).  What a
message needs from the configuration (the sender, the site's name, the web
site's public URL) comes in as a MailSettings, made from the configuration
of the run that sends it: the prober's --config, say.
"""

import textwrap
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import quote

from mirrorkeeper.mail.outbox import queue
from mirrorkeeper.settings import Mail, Web

__all__ = ["LOG_LINES_QUOTED", "MailSettings", "mirror_disabled_message",
           "queue_mirror_disabled"]

# How much of a probe log a notification quotes; the whole log stays with
# the mirror's probe records.
LOG_LINES_QUOTED = 20

WIDTH = 72


@dataclass(frozen=True)
class MailSettings:
    """What composing a message takes from the configuration; the
    defaults are the settings' (mirrorkeeper.settings)."""

    sender: str = Mail.from_address.default
    site_name: str = Mail.site_name.default
    base_url: str = Web.base_url.default  # e.g. https://mirrors.example.org

    @classmethod
    def from_config(cls, config):
        """From a mirrorkeeper.config.Config; a MailSettings is returned as
        it is."""
        if isinstance(config, cls):
            return config
        return cls(sender=config.get("mail", "from_address"),
                   site_name=config.get("mail", "site_name"),
                   base_url=config.get("web", "base_url").strip().rstrip("/"))


def _paragraph(text, **options):
    return textwrap.fill(" ".join(text.split()), WIDTH,
                         break_on_hyphens=False, break_long_words=False,
                         **options)


def _every(interval):
    if interval is None:
        return "regularly"
    hours = interval / timedelta(hours=1)
    if hours == 24:
        return "about once a day"
    if hours < 24:
        return "about every %g hours" % (hours,)
    return "about every %g days" % (hours / 24,)


def mirror_disabled_message(sender, recipient, reason, distribution_name,
                            mirror_name, mirror_title, mirror_url, log,
                            site_name="mirrorkeeper", why=(), base_url="",
                            mirror_path=None, probe_log_path=None,
                            probe_interval=None):
    """The message telling `recipient` ((display name, address)) that a
    mirror was disabled; `reason` says why they receive it.

    `why`: the prober's sentences saying what it found, shown first;
    without them the message says the mirror lacks its content.
    `mirror_path` and `probe_log_path`: the paths of the mirror's page and
    of its last probe's log on the web site, made links with `base_url`
    (the site's public URL) or, without one, named as paths.
    `probe_interval`: a timedelta, how often the prober looks at a mirror.
    """
    quoted = log.splitlines()[:LOG_LINES_QUOTED]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(recipient)
    message["Subject"] = "%s: the %s mirror %s has been disabled" % (
        site_name, distribution_name, mirror_name)
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message["X-Mirrorkeeper-Mirror"] = mirror_name
    sentences = [" ".join(sentence.split()) for sentence in why]
    sentences = [sentence for sentence in sentences if sentence]
    lines = [
        "Dear %s," % (recipient[0],),
        "",
        _paragraph(
            "The %s mirror %s (%s) has been disabled: users are no longer "
            "sent to it.  %s"
            % (distribution_name, mirror_title, mirror_url,
               "The last probe found:" if sentences else
               "The last probe found it missing the content it is "
               "expected to carry.")),
        "",
    ]
    for sentence in sentences:
        lines += [_paragraph(sentence, initial_indent="- ",
                             subsequent_indent="  "), ""]
    lines += [
        _paragraph(
            "How it comes back: once the mirror answers and carries its "
            "content again, the next probe finds it so and enables the "
            "mirror again; nothing else needs doing.  The prober looks at "
            "each mirror %s, so allow up to that long after the fix."
            % (_every(probe_interval),)),
        "",
        _paragraph(
            "To check the mirror yourself, fetch from %s the files the "
            "probe asked for (its log lists each request and the answer), "
            "for example with curl -I: each should answer 200, as on the "
            "master archive." % (mirror_url,)),
        "",
        # Probe me now (issue 16 section 2, mirrorkeeper.model.checkin).
        _paragraph(
            "To have it probed within a minute once it is fixed, rather "
            "than at the prober's next look: make a token on the mirror's "
            "page (+token), then run mirrorkeeper-report-mirror --probe on "
            "the mirror host after its sync, or POST to %s/api/1/mirrors/"
            "%s/+probe%s with the header 'Authorization: Bearer TOKEN'."
            % (base_url, mirror_name,
               "" if base_url else " of the %s web site" % (site_name,))),
        "",
    ]
    lines += _where_the_logs_are(site_name, base_url, mirror_path,
                                 probe_log_path)
    lines += ["The first lines of the last probe's log:", ""]
    lines += ["    " + line for line in quoted] or ["    (the log is empty)"]
    lines += ["", "You receive this message %s." % (reason,), "",
              "-- ", site_name]
    message.set_content("\n".join(lines) + "\n")
    return message


def _where_the_logs_are(site_name, base_url, mirror_path, probe_log_path):
    if mirror_path is None:
        return []
    if base_url:
        lines = [_paragraph(
            "The full log of this probe, and of every probe of the mirror, "
            "is on the web site (log in as the mirror's owner or a mirror "
            "admin to read it):"), ""]
        if probe_log_path is not None:
            lines.append("    %s%s" % (base_url, probe_log_path))
        lines += ["    %s%s" % (base_url, mirror_path), ""]
        return lines
    # Without the site's public URL, a host would be a guess: say where.
    where = ("under %s (this probe: %s)" % (mirror_path, probe_log_path)
             if probe_log_path is not None else "under %s" % (mirror_path,))
    return [_paragraph(
        "The full log of this probe, and of every probe of the mirror, is "
        "on the %s web site, on the mirror's page %s; log in as the "
        "mirror's owner or a mirror admin to read it." % (site_name, where)),
        ""]


def _domain_of(sender):
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] or "localhost"


def mirror_path(distribution_name, mirror_name):
    """The path of a mirror's page on the web site (see
    mirrorkeeper.web.app.MIRROR)."""
    return "/%s/+mirror/%s" % (quote(distribution_name), quote(mirror_name))


def queue_mirror_disabled(store, mirror, log, why=(), config=None):
    """Queue the mirror-disabled message for the mirror's owner and for each
    of its distribution's mirror admins: one message per recipient, each
    recipient once; return the recipients.

    `log`: the probe log whose first lines the message quotes.  `why`: the
    prober's plain sentences saying what it found (shown first, in that
    order).  `config`: the mirrorkeeper.config.Config of the run (or a
    MailSettings), for the sender, the site's name and its public URL;
    without one, the configuration load_config() finds, so a caller with a
    --config of its own must pass it.  The message links to the mirror's
    last probe record, so record the probe before calling this.
    """
    from mirrorkeeper.model.distributionmirror import PROBE_INTERVAL
    if config is None:
        from mirrorkeeper.config import load_config
        config = load_config()
    settings = MailSettings.from_config(config)
    distribution = mirror.distribution
    recipients = [(recipient, "as the owner of the mirror %s" % mirror.name)
                  for recipient in mirror.owner.recipients()]
    for recipient in distribution.mirror_admin.recipients():
        if recipient not in [known for known, _ in recipients]:
            recipients.append((
                recipient, "as a mirror admin of %s"
                % (distribution.display_name,)))
    # Tiers (mirrorkeeper.model.tiers): a mirror whose upstream is behind
    # is told so, not blamed alone.
    from mirrorkeeper.model.tiers import upstream_trouble
    trouble = upstream_trouble(mirror)
    why = tuple(why) + ((trouble,) if trouble else ())
    page = mirror_path(distribution.name, mirror.name)
    record = mirror.last_probe_record
    probe_log_path = ("%s/+probe/%d" % (page, record.id)
                      if record is not None and record.id is not None
                      else None)
    for recipient, reason in recipients:
        queue(store, mirror_disabled_message(
            settings.sender, recipient, reason, distribution.display_name,
            mirror.name, mirror.title, mirror.base_url, log,
            settings.site_name, why=tuple(why), base_url=settings.base_url,
            mirror_path=page, probe_log_path=probe_log_path,
            probe_interval=PROBE_INTERVAL))
    return [recipient for recipient, _ in recipients]
