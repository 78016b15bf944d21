"""Mirrors, what they carry, and the records of probing them."""

from zope.interface import Attribute, Interface


class IDistributionMirror(Interface):
    """A mirror of one distribution's archive or of its CD images."""

    id = Attribute("The database id.")
    distribution = Attribute("The IDistribution mirrored.")
    owner = Attribute("The IPerson who runs the mirror.")
    reviewer = Attribute("The IPerson who last reviewed it, or None.")
    name = Attribute("The unique short name, e.g. 'mirror-br-1'.")
    display_name = Attribute("The name people read, or None.")
    title = Attribute("display_name, or else name.")
    description = Attribute("Free text from the owner, or None.")
    http_base_url = Attribute("The normalised http:// URL, or None.")
    https_base_url = Attribute("The normalised https:// URL, or None.")
    ftp_base_url = Attribute("The normalised ftp:// URL, or None.")
    rsync_base_url = Attribute("The normalised rsync:// URL, or None.")
    base_url = Attribute(
        "The URL the prober uses: https, else http, else ftp.")
    enabled = Attribute(
        "True while the prober finds the mirror carrying content; only "
        "enabled mirrors are listed for users.")
    speed = Attribute("A MirrorSpeed.")
    country = Attribute("The ICountry the mirror is in.")
    content = Attribute("A MirrorContent: ARCHIVE or RELEASE.")
    pulse_type = Attribute("A MirrorPulseType.")
    pulse_source = Attribute("Where the mirror syncs from, or None.")
    official_candidate = Attribute("The owner asks for official status.")
    picks_up_new_series = Attribute(
        "True if the mirror picks up new series of its distribution by "
        "itself: a new series the master scan finds is expected of it at "
        "once (else its owner is told, and it takes the series on).  False "
        "by default, as MirrorManager's always_up2date.")
    status = Attribute("A MirrorStatus: where the mirror is in review.")
    whiteboard = Attribute("The reviewers' notes, or None.")
    date_created = Attribute("When it was registered (UTC).")
    date_reviewed = Attribute("When it was last reviewed (UTC), or None.")
    bandwidth_mbps = Attribute(
        "Declared bandwidth in Mbps; the weight of the mirror in the random "
        "order of mirror lists.  Defaults to the speed's figure.")
    private = Attribute(
        "A private mirror serves only clients in its netblocks or ASN.")
    internet2 = Attribute("The mirror is on Internet2.")
    asn = Attribute("The mirror's autonomous system number, or None.")
    asn_clients = Attribute("Serve clients of the same ASN first.")
    owner_paused = Attribute(
        "The owner's own switch: True while the mirror is down for "
        "maintenance; a paused mirror is neither probed nor listed.")
    date_disabled_notified = Attribute(
        "When the owner was last told the mirror is disabled; None once it "
        "is enabled again.")
    has_ipv4 = Attribute(
        "True if the mirror answered over IPv4 when last probed (as "
        "measured, not as DNS said); None until probed.")
    has_ipv6 = Attribute("As has_ipv4, for IPv6.")
    failed_runs = Attribute(
        "How many trusted prober runs in a row could not reach the mirror "
        "at all (every request failed at the network level); 0 once one "
        "does.")
    unreachable = Attribute(
        "True while failed_runs is above 0: the mirror lists leave it out, "
        "its records are kept, and it is disabled once failed_runs reaches "
        "[prober] disable_after_failed_runs.")
    date_disabled = Attribute(
        "When the mirror was last disabled; None once it is enabled again.")
    http_answered = Attribute(
        "Whether the mirror's HTTP URL answered its last probe (None: no "
        "such URL, or not probed yet); the mirror lists offer only URLs "
        "that did.")
    https_answered = Attribute("As http_answered, for its HTTPS URL.")
    ftp_answered = Attribute("As http_answered, for its FTP URL.")
    rsync_answered = Attribute("As http_answered, for its rsync URL.")
    netblocks = Attribute("The CIDR netblocks the mirror serves first.")
    acl_addresses = Attribute(
        "Addresses allowed to rsync from the master for this mirror.")
    countries_allowed = Attribute(
        "The ICountries the mirror may serve; empty means all.")
    arch_series = Attribute(
        "The IMirrorDistroArchSeries records: binary content carried.")
    source_series = Attribute(
        "The IMirrorDistroSeriesSource records: source content carried.")
    cdimage_series = Attribute(
        "The IMirrorCDImageDistroSeries records: CD images carried.")
    rpm_repositories = Attribute(
        "The IMirrorRPMRepository records: RPM repositories carried.")
    freshness_checks = Attribute(
        "The IMirrorFreshnessCheck records: what the trace, timestamp and "
        "checksum detectors last made of the mirror.")
    last_probe_record = Attribute("The newest IMirrorProbeRecord, or None.")
    probe_records = Attribute("Every IMirrorProbeRecord, newest first.")

    def isOfficial():
        """True if the mirror is an official candidate approved as
        OFFICIAL."""

    def ensureMirrorDistroArchSeries(distro_arch_series, pocket, component):
        """The record saying the mirror carries that arch series, pocket and
        component, created (with UNKNOWN freshness) if missing."""

    def deleteMirrorDistroArchSeries(distro_arch_series, pocket, component):
        """Forget that the mirror carries it (no error if it did not)."""

    def ensureMirrorDistroSeriesSource(distro_series, pocket, component):
        """As ensureMirrorDistroArchSeries, for source packages."""

    def deleteMirrorDistroSeriesSource(distro_series, pocket, component):
        """As deleteMirrorDistroArchSeries, for source packages."""

    def ensureMirrorCDImageSeries(distro_series, flavour):
        """The record saying the mirror carries that series' CD images of
        `flavour` (e.g. 'ubuntu', 'kubuntu'), created if missing."""

    def deleteMirrorCDImageSeries(distro_series, flavour):
        """Forget that the mirror carries those images."""

    def newProbeRecord(log, date_created=None, duration_seconds=None):
        """Record a probe of the mirror with its full log (a string, or a
        file-like object that is read from its start) and how many seconds
        it took, if measured, and return it."""

    def getState():
        """The mirror's IMirrorState, from the read model every reader
        uses (mirrorkeeper.model.mirrorstate)."""

    def getOverallFreshness():
        """getState().freshness: for an archive mirror, the worst freshness
        that is known among its content records, its RPM repository records
        and its detectors' checks, or UNKNOWN when none is known; for a CD
        image mirror, UP when it carries images, else UNKNOWN."""

    def getLag():
        """getState().lag_seconds: how far behind the master the mirror
        is, in seconds, or None when unknown: the largest lag a detector
        measured, else the upper bound of the overall freshness band
        (publishing history tells a band, not a lag)."""

    def shouldDisable(expected_cdimage_series=None):
        """True if the mirror should not be listed: an archive mirror that
        carries no content record (Debian series nor RPM repository), or a
        CD image mirror that lacks one of `expected_cdimage_series`
        ((IDistroSeries, flavour) pairs)."""

    def disable(notify_owner=True, log=None, why=(), config=None):
        """Disable the mirror.  With `notify_owner`, queue one message to the
        owner and one to each of the distribution's mirror admins, each
        saying `why` (sentences) and quoting the first lines of `log`
        (default: the last probe's log), composed with `config` (default:
        the configuration loaded as usual).
        The messages leave with the transaction: see mirrorkeeper.mail."""

    def enable():
        """Enable the mirror, and forget that its owner was told it was
        disabled."""

    def disableAndNotifyOwner(log=None):
        """disable(notify_owner=True, log=log)."""

    def expectedSeries():
        """[IDistroSeries] of the distribution expected of the mirror
        (IDistroSeries.isExpectedOf)."""

    def guessPackagesPaths(series=None):
        """[(IDistroArchSeries, pocket, IComponent, path)] of every
        Packages.gz the mirror should carry: every official architecture of
        every series expected of it (`series`, default expectedSeries()),
        every pocket, every component of the series, as
        <root>dists/<suite>/<component>/binary-<arch>/Packages.gz under the
        series' root."""

    def guessSourcesPaths(series=None):
        """[(IDistroSeries, pocket, IComponent, path)] of every Sources.gz,
        as <root>dists/<suite>/<component>/source/Sources.gz."""


class IMirrorContentRecord(Interface):
    """Says that a mirror carries one part of the archive, and how fresh."""

    distribution_mirror = Attribute("The IDistributionMirror.")
    component = Attribute("The IComponent.")
    pocket = Attribute("A PackagePublishingPocket.")
    freshness = Attribute("A MirrorFreshness, UNKNOWN until probed.")

    def getURLsToCheckUpdateness(when=None):
        """{MirrorFreshness: URL} of the files whose presence on the mirror
        tells how fresh it is, freshest band first.

        For each band, the newest upload published in it (by its age at
        `when`, default now) gives one URL on the mirror.  When nothing was
        published in the last week, the newest upload there is gives the
        single URL, for UP.  Empty when nothing was ever published there.
        Binary records skip .udeb files; source records use the .dsc.
        """


class IMirrorDistroArchSeries(IMirrorContentRecord):
    distro_arch_series = Attribute("The IDistroArchSeries.")


class IMirrorDistroSeriesSource(IMirrorContentRecord):
    distro_series = Attribute("The IDistroSeries.")


class IMirrorCDImageDistroSeries(Interface):
    distribution_mirror = Attribute("The IDistributionMirror.")
    distro_series = Attribute("The IDistroSeries.")
    flavour = Attribute("e.g. 'ubuntu', 'kubuntu'.")


class IMirrorFreshnessCheck(Interface):
    """What one freshness detector (trace, timestamp, checksum) last made of
    one file on a mirror."""

    distribution_mirror = Attribute("The IDistributionMirror.")
    detector = Attribute("'trace', 'timestamp' or 'checksum'.")
    label = Attribute("The file, e.g. 'project/trace/master'.")
    freshness = Attribute(
        "A MirrorFreshness, or None when the detector could not judge.")
    lag_seconds = Attribute(
        "The lag the detector measured, in seconds, or None.")
    syncing = Attribute("True if the mirror was syncing at the time.")
    note = Attribute("What the detector saw, in a sentence.")
    date_checked = Attribute("When (UTC).")


class IMirrorRPMRepository(Interface):
    """Says that a mirror carries one of the master's RPM repositories."""

    distribution_mirror = Attribute("The IDistributionMirror.")
    rpm_repository = Attribute("The IRPMRepository.")
    freshness = Attribute(
        "A MirrorFreshness from the mirror's repomd.xml against the master's "
        "history of it.")


class IMirrorProbeRecord(Interface):
    """One probe of one mirror, with everything it asked and heard."""

    distribution_mirror = Attribute("The IDistributionMirror probed.")
    log = Attribute("The full log of the probe, as text.")
    date_created = Attribute("When the probe finished (UTC).")
    duration_seconds = Attribute(
        "How many seconds the probe took, as the prober measured it, or None "
        "(not measured: `mirrorkeeper db upgrade` times records from before "
        "it was by their log's first and last timestamps, once).")

    def destroySelf():
        """Remove the record."""


class IDistributionMirrorSet(Interface):
    """Every mirror of every distribution."""

    def get(mirror_id):
        """The mirror with that id, or NotFoundError."""

    def getByName(name):
        """The mirror called `name`, or None."""

    def __getitem__(name):
        """The mirror called `name`, or NotFoundError."""

    def getByURL(url):
        """The mirror with that http, https, ftp or rsync base URL (after
        normalisation), or None."""

    def getMirrorsToProbe(content_type=None, ignore_last_probe=False,
                          limit=None, mirror_ids=None):
        """The mirrors the prober should probe now, as MirrorToProbe values
        (id, name, base URLs).

        These are the mirrors of `content_type` (default ARCHIVE) of
        distributions that support mirrors, that were reviewed as OFFICIAL
        or UNOFFICIAL, enabled or not (so a mirror the prober disabled is
        probed again and comes back when it recovers; one pending review or
        found BROKEN is not probed), that their owner has not paused, and
        that have no probe record of the last 24 hours unless
        `ignore_last_probe`, and that are not private (the prober cannot
        reach those: their check-ins say what they carry).  Never-probed
        mirrors come first, then the ones probed longest ago.  `limit` caps
        how many; `mirror_ids`, when given, keeps only those mirrors.
        """


class IMirrorState(Interface):
    """What state one mirror is in, as every reader (web pages, the API,
    the command line, /metrics, the mirror list snapshot) shows it: plain
    values, computed for many mirrors at once by IMirrorStateSet."""

    id = Attribute("The mirror's database id.")
    name = Attribute("Its name.")
    title = Attribute("Its display name, or else its name.")
    display_name = Attribute("Its display name, or None.")
    distribution = Attribute("The name of its distribution.")
    content = Attribute("A MirrorContent.")
    status = Attribute("Its review status, a MirrorStatus.")
    official_candidate = Attribute("Whether its owner asked it be official.")
    official = Attribute(
        "An official candidate approved as OFFICIAL (the one place this "
        "rule is written).")
    enabled = Attribute("Whether it is enabled.")
    date_disabled = Attribute("When it was last disabled, or None.")
    owner_paused = Attribute("Whether its owner paused it.")
    owner = Attribute("Its owner's name.")
    country_code = Attribute("Its country's ISO 3166 alpha-2 code.")
    country_name = Attribute("Its country's name.")
    continent_code = Attribute("Its continent's code.")
    continent_name = Attribute("Its continent's name.")
    http_url = Attribute("Its http base URL, or None.")
    https_url = Attribute("Its https base URL, or None.")
    ftp_url = Attribute("Its ftp base URL, or None.")
    rsync_url = Attribute("Its rsync base URL, or None.")
    urls = Attribute("[(scheme, URL)] of the URLs it has, https first.")
    speed = Attribute("Its declared speed's title, e.g. '1 Gbps'.")
    speed_item = Attribute("Its declared speed, a MirrorSpeed.")
    bandwidth_mbps = Attribute(
        "The bandwidth it weighs in mirror lists: as its admin set it, else "
        "its declared speed, at least 1 Mbps.")
    freshness = Attribute(
        "Its overall MirrorFreshness: for an archive mirror, the worst known "
        "freshness of its content records, its RPM repository records and "
        "its detectors' checks, UNKNOWN when "
        "none is known; for a CD image mirror, UP when it carries images, "
        "else UNKNOWN.")
    detected = Attribute(
        "The worst known freshness its trace, timestamp and checksum "
        "detectors measured (the age of its last complete sync), or None.")
    measured_lag_seconds = Attribute(
        "The largest lag, in seconds, a detector measured, or None.")
    lag_seconds = Attribute(
        "How far behind the master it is, in seconds: measured_lag_seconds, "
        "else the upper bound of its freshness band (0 when up to date), "
        "None when unknown.")
    last_probe = Attribute("When its newest probe record was written, or "
                           "None when never probed.")
    last_probe_duration = Attribute(
        "How many seconds that probe took, as the prober recorded it, or "
        "None.")
    last_applied_probe = Attribute(
        "When its newest probe whose findings took effect was written, or "
        "None: what it is known to carry is as of then.")
    failed_runs = Attribute(
        "Consecutive trusted prober runs that could not reach it.")
    unreachable = Attribute("failed_runs above zero.")
    answered = Attribute(
        "(http, https, ftp, rsync): whether each URL answered the last "
        "probe, None when not probed.")
    published_urls = Attribute(
        "{scheme: URL} of its URLs that did not fail the last probe: those "
        "the mirror lists offer.")
    lists = Attribute(
        "The site's listings it is in: names among 'archive', 'cdimage', "
        "'disabled', 'unofficial', 'pending'.")
    listed = Attribute("published() under the default policy.")
    site = Attribute("The name of the site (the organisation) that runs "
                     "it, or None.")
    site_title = Attribute("That site's display name, or None.")

    def why_unpublished(policy=None):
        """Why package managers are not offered it under `policy` (a
        PublicationPolicy, default: official mirrors only), as a tuple of
        short reasons: not official, disabled, paused by its owner,
        unreachable, no URL answering.  Empty when it is published."""

    def published(policy=None):
        """Whether the mirror list snapshot publishes it under `policy`."""


class IMirrorStateSet(Interface):
    """The states of a store's mirrors, a few queries for any number."""

    def where(*conditions):
        """[IMirrorState] of the mirrors matching `conditions` (on
        DistributionMirror's columns), by country name then registration."""

    def of(mirror_ids):
        """{mirror id: IMirrorState} of `mirror_ids`; unknown ids are left
        out."""

    def lastProbeDurations(mirror_ids):
        """{mirror id: seconds} of the mirrors whose newest probe says how
        long it took."""
