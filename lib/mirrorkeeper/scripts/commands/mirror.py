"""`mirror`: register, list, show, review, enable and disable mirrors."""

import json

from zope.component import getUtility

from mirrorkeeper.addresspolicy import AddressPolicy
from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed, MirrorStatus)
from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.interfaces.country import ICountrySet
from mirrorkeeper.interfaces.distributionmirror import IDistributionMirrorSet
from mirrorkeeper.interfaces.site import ISiteSet
from mirrorkeeper.mail.outbox import deliver_pending
from mirrorkeeper.mirrorjson import mirror_json
from mirrorkeeper.scripts.commands.common import (
    add_actions, add_command, enum_choices, find_distribution, find_mirror,
    find_person, format_date, parse_enum, parse_speed,
    print_table, speed_label)
from mirrorkeeper.timeutil import utcnow
from mirrorkeeper.validators import valid_mirror_fields, valid_text

REGISTER_HELP = """\
Register a mirror of DIST.  It starts pending review and disabled: a mirror
admin reviews it (`mirrorkeeper mirror review`) and the prober enables it once
it finds the mirror carrying content.  At least one of --http, --https and
--ftp is required; URLs are normalised (a trailing slash added) and must not
belong to another mirror.

example:
  mirrorkeeper mirror register ubuntu mirror-br-1 --owner mark --country BR \\
      --speed 1G --content archive --pulse-type pull \\
      --http http://mirror.example.com.br/ubuntu/
"""


def register(subparsers, common):
    mirror = add_actions(subparsers, "mirror",
                         "register, list, review, enable or disable mirrors")
    _add_register(mirror, common)

    parser = add_command(
        mirror, "list", "list mirrors in a table, or as JSON",
        "List the mirrors of DIST (default: of every distribution), by "
        "name: country,\ncontent, review status, whether enabled, overall "
        "freshness and base URL.",
        parents=[common], run=mirror_list)
    parser.add_argument("distribution", metavar="DIST", nargs="?",
                        help="the distribution, e.g. 'ubuntu'")
    parser.add_argument(
        "--enabled", action="store_true",
        help="only the mirrors users are offered: enabled, not paused")
    parser.add_argument("--official", action="store_true",
                        help="only the official mirrors")
    parser.add_argument("--content", help="archive or release")
    parser.add_argument("--status", help="one of %s"
                        % (enum_choices(MirrorStatus),))
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of objects")

    parser = add_command(
        mirror, "show",
        "show everything about a mirror: details, content, last probe",
        parents=[common], run=mirror_show)
    parser.add_argument("name", metavar="NAME", help="the mirror's name")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON object")

    parser = add_command(
        mirror, "review", "record a mirror admin's review of a mirror",
        "Set the mirror's review status, its reviewer and the date of the "
        "review.  The\nreviewer must be one of the distribution's mirror "
        "admins or its owner.  A mirror\nis official when it is OFFICIAL "
        "and its owner asked for official status.",
        parents=[common], run=mirror_review)
    parser.add_argument("name", metavar="NAME", help="the mirror's name")
    parser.add_argument("--status", required=True,
                        help="one of %s" % (enum_choices(MirrorStatus),))
    parser.add_argument("--reviewer", metavar="PERSON", required=True,
                        help="who reviewed it: a mirror admin")
    parser.add_argument("--whiteboard", metavar="TEXT",
                        help="the reviewers' notes (replace the old ones)")

    parser = add_command(
        mirror, "enable", "enable a mirror: list it for users",
        parents=[common], run=mirror_enable)
    parser.add_argument("name", metavar="NAME", help="the mirror's name")

    parser = add_command(
        mirror, "disable", "disable a mirror: take it out of users' lists",
        "Disable a mirror.  With --notify, a message to its owner and to "
        "each of the\ndistribution's mirror admins is queued, quoting the "
        "mirror's last probe log;\nit leaves with the mail outbox.",
        parents=[common], run=mirror_disable)
    parser.add_argument("name", metavar="NAME", help="the mirror's name")
    parser.add_argument("--notify", action="store_true",
                        help="tell the owner and the mirror admins by mail")


def _add_register(mirror, common):
    parser = add_command(mirror, "register", "register a mirror",
                         REGISTER_HELP, parents=[common], run=mirror_register)
    parser.add_argument("distribution", metavar="DIST",
                        help="the distribution, e.g. 'ubuntu'")
    parser.add_argument("name", metavar="NAME",
                        help="the unique short name, e.g. 'mirror-br-1'")
    required = parser.add_argument_group("required")
    required.add_argument("--owner", metavar="PERSON", required=True,
                          help="the person who runs the mirror")
    required.add_argument("--country", required=True,
                          help="an ISO 3166 code ('BR', 'BRA') or a name")
    required.add_argument(
        "--speed", required=True,
        help="the uplink: one of %s (also 'S100M', '100 Mbps')"
             % (", ".join(speed_label(s) for s in MirrorSpeed),))
    required.add_argument("--content", required=True,
                          help="archive (packages) or release (CD images)")
    required.add_argument("--pulse-type", required=True,
                          help="push (the master triggers syncs) or pull")
    urls = parser.add_argument_group("URLs (at least one)")
    for scheme in ("http", "https", "ftp", "rsync"):
        urls.add_argument("--%s" % scheme, metavar="URL",
                          help="the %s:// base URL" % scheme)
    details = parser.add_argument_group("details")
    details.add_argument("--display-name", help="the name people read")
    details.add_argument("--site", metavar="SITE",
                         help="the site (organisation) that runs it, whose "
                              "admins may change it (default: a site of "
                              "its own; see `mirrorkeeper site`)")
    details.add_argument("--description", help="free text from the owner")
    details.add_argument("--official-candidate", action="store_true",
                         help="the owner asks for official status")
    details.add_argument("--enabled", action="store_true",
                         help="list it at once, without waiting for a probe")
    details.add_argument("--picks-up-new-series", action="store_true",
                         help="it syncs a new series as soon as the master "
                         "has one (expected of it from then on)")
    details.add_argument("--paused", action="store_true",
                         help="the owner paused it for maintenance")
    details.add_argument("--whiteboard", metavar="TEXT",
                         help="the reviewers' notes")
    details.add_argument("--bandwidth", metavar="MBPS",
                         help="declared bandwidth in Mbps (default: the "
                              "speed's)")
    details.add_argument("--private", action="store_true",
                         help="serves only its netblocks or ASN")
    details.add_argument("--internet2", action="store_true",
                         help="the mirror is on Internet2")
    details.add_argument("--asn", metavar="N",
                         help="its autonomous system number")
    details.add_argument("--asn-clients", action="store_true",
                         help="serve clients of the same ASN first")
    details.add_argument("--netblock", metavar="CIDR", action="append",
                         default=[], help="a netblock it serves first "
                                          "(repeat for more)")
    details.add_argument("--acl-address", metavar="A", action="append",
                         default=[], help="an address allowed to rsync from "
                                          "the master (repeat for more)")
    details.add_argument("--country-allowed", metavar="CODE",
                         action="append", default=[],
                         help="a country it may serve; none means all "
                              "(repeat for more)")
    details.add_argument("--pulse-source", metavar="URL",
                         help="where the mirror syncs from")


def mirror_register(script):
    options = script.options
    distribution = find_distribution(options.distribution)
    if not distribution.supports_mirrors:
        raise InvalidValueError("%s does not support mirrors"
                                % (distribution.name,))
    countries = getUtility(ICountrySet)
    # Where the prober may not go, no mirror may be registered; its
    # values are checked as the web's forms check them.
    policy = AddressPolicy(script.config.allowed_networks())
    fields = valid_mirror_fields({
        "name": options.name, "display_name": options.display_name,
        "description": options.description, "http_base_url": options.http,
        "https_base_url": options.https, "ftp_base_url": options.ftp,
        "rsync_base_url": options.rsync,
        "pulse_source": options.pulse_source,
        "whiteboard": options.whiteboard,
        "bandwidth_mbps": options.bandwidth, "asn": options.asn}, policy)
    site = getUtility(ISiteSet)[options.site] if options.site else None
    mirror = distribution.newMirror(
        find_person(options.owner), fields.pop("name"),
        parse_speed(options.speed), countries.lookup(options.country),
        parse_enum(MirrorContent, options.content, "--content"),
        parse_enum(MirrorPulseType, options.pulse_type, "--pulse-type"),
        official_candidate=options.official_candidate,
        enabled=options.enabled,
        netblocks=options.netblock,
        acl_addresses=options.acl_address,
        countries_allowed=[countries.lookup(code)
                           for code in options.country_allowed],
        private=options.private, internet2=options.internet2,
        asn_clients=options.asn_clients, owner_paused=options.paused,
        picks_up_new_series=options.picks_up_new_series, site=site,
        **fields)
    print("Registered the %s mirror %s (%s, %s), pending review."
          % (distribution.display_name, mirror.name, mirror.country.name,
             mirror.base_url))


# Listing and showing.

def _states(mirrors):
    """{mirror id: IMirrorState} of `mirrors`, from the read model."""
    from mirrorkeeper.model.base import store_of
    from mirrorkeeper.model.mirrorstate import states_of
    if not mirrors:
        return {}
    return states_of(store_of(mirrors[0]), [m.id for m in mirrors])


def _enabled_label(state):
    if state.owner_paused:
        return "paused"
    if state.enabled and state.unreachable:
        return "yes, but unreachable in the last %d probe runs" % (
            state.failed_runs,)
    return "yes" if state.enabled else "no"


def mirror_list(script):
    options = script.options
    content = options.content and parse_enum(
        MirrorContent, options.content, "--content")
    status = options.status and parse_enum(
        MirrorStatus, options.status, "--status")
    if options.distribution:
        mirrors = find_distribution(options.distribution).mirrors
    else:
        mirrors = list(getUtility(IDistributionMirrorSet))
    if options.enabled:
        mirrors = [m for m in mirrors if m.enabled and not m.owner_paused]
    if options.official:
        mirrors = [m for m in mirrors if m.isOfficial()]
    if content:
        mirrors = [m for m in mirrors if m.content is content]
    if status:
        mirrors = [m for m in mirrors if m.status is status]
    states = _states(mirrors)
    if options.json:
        print(json.dumps([mirror_json(states[m.id]) for m in mirrors],
                         indent=2))
        return
    if not mirrors:
        print("No mirror matches.")
        return
    print_table(
        ("NAME", "COUNTRY", "CONTENT", "STATUS", "ENABLED", "FRESHNESS",
         "BASE URL"),
        [(s.name, s.country_code, s.content.title, s.status.title,
          _enabled_label(s), s.freshness.title, s.base_url)
         for s in (states[m.id] for m in mirrors)])


def mirror_show(script):
    mirror = find_mirror(script.options.name)
    state = mirror.getState()
    info = mirror_json(state, mirror, private=True)
    if script.options.json:
        print(json.dumps(info, indent=2))
        return
    yes_no = {True: "yes", False: "no", None: "-"}

    def show(label, value):
        if isinstance(value, bool) or value is None:
            value = yes_no[value]
        print("  %-20s %s" % (label + ":", value))

    print("Mirror %s of %s" % (mirror.name, mirror.distribution.title))
    show("display name", mirror.display_name)
    show("description", mirror.description)
    show("owner", "%s (%s)" % (mirror.owner.name, mirror.owner.display_name))
    show("country", "%s (%s)" % (mirror.country.name,
                                 mirror.country.iso3166code2))
    for scheme in ("http", "https", "ftp", "rsync"):
        show("%s URL" % scheme, getattr(mirror, "%s_base_url" % scheme))
    show("content", mirror.content.title)
    show("speed", mirror.speed.title)
    show("bandwidth", "%d Mbps" % state.bandwidth_mbps)
    show("pulse", "%s%s" % (mirror.pulse_type.title, " from %s"
                            % mirror.pulse_source if mirror.pulse_source
                            else ""))
    show("status", mirror.status.title)
    show("official candidate", mirror.official_candidate)
    show("picks up new series", mirror.picks_up_new_series)
    show("official", state.official)
    show("enabled", _enabled_label(state))
    show("listed", "yes" if state.listed else "no: %s" % ", ".join(
        state.why_unpublished()))
    show("freshness", state.freshness.title)
    show("lag", "-" if state.lag_seconds is None
         else "%d s" % state.lag_seconds)
    show("reviewer", info["reviewer"])
    show("date reviewed", format_date(mirror.date_reviewed))
    show("date created", format_date(mirror.date_created))
    show("whiteboard", mirror.whiteboard)
    show("private", mirror.private)
    show("internet2", mirror.internet2)
    show("ASN", "%s%s" % (mirror.asn or "-", " (serves its clients first)"
                          if mirror.asn_clients else ""))
    show("netblocks", ", ".join(mirror.netblocks) or "-")
    show("rsync ACL", ", ".join(mirror.acl_addresses) or "-")
    show("countries allowed", ", ".join(info["countries_allowed"]) or "all")
    print("Content (freshness):")
    for record in info["arch_series"]:
        print("  %s/%s %s %s: %s" % (
            record["series"], record["architecture"], record["pocket"],
            record["component"], record["freshness"]))
    for record in info["source_series"]:
        print("  %s source %s %s: %s" % (
            record["series"], record["pocket"], record["component"],
            record["freshness"]))
    for record in info["cdimage_series"]:
        print("  %s CD images: %s" % (record["series"], record["flavour"]))
    if not (info["arch_series"] or info["source_series"]
            or info["cdimage_series"]):
        print("  (nothing recorded yet)")
    print("Last probe: %s" % (format_date(state.last_probe)
                              if state.last_probe else "never"))


# Reviewing, enabling, disabling.

def mirror_review(script):
    options = script.options
    mirror = find_mirror(options.name)
    status = parse_enum(MirrorStatus, options.status, "--status")
    reviewer = find_person(options.reviewer)
    distribution = mirror.distribution
    if not (reviewer.inTeam(distribution.mirror_admin)
            or reviewer.inTeam(distribution.owner)):
        raise InvalidValueError(
            "%s cannot review mirrors of %s: only its mirror admins (%s) "
            "and its owner (%s) can" % (
                reviewer.name, distribution.name,
                distribution.mirror_admin.name, distribution.owner.name))
    mirror.status = status
    mirror.reviewer = reviewer
    mirror.date_reviewed = utcnow()
    if options.whiteboard is not None:
        mirror.whiteboard = valid_text(options.whiteboard, "whiteboard")
    if status is MirrorStatus.OFFICIAL and not mirror.official_candidate:
        script.logger.warning(
            "%s did not ask for official status: it is not listed as "
            "official", mirror.name)
    print("Reviewed %s: %s (by %s)." % (mirror.name, status.title,
                                        reviewer.name))


def mirror_enable(script):
    mirror = find_mirror(script.options.name)
    mirror.enable()
    print("Enabled %s." % (mirror.name,))
    if mirror.owner_paused:
        script.logger.warning("%s is paused by its owner: users are not "
                              "offered it until the owner resumes it",
                              mirror.name)


def mirror_disable(script):
    mirror = find_mirror(script.options.name)
    mirror.disable(notify_owner=script.options.notify)
    print("Disabled %s." % (mirror.name,))
    if script.options.notify:
        # The messages leave once the change they report is committed.
        script.store.commit()
        sent, failed = deliver_pending(script.store, script.mail_delivery())
        print("Sent %d message(s) to its owner and the mirror admins." % (
            sent,))
        if failed:
            script.logger.warning(
                "%d message(s) could not be sent; they wait in the outbox",
                failed)
