"""How fresh a mirror is: the pure computation, with no database or network.

The master publishes uploads over time.  A mirror that carries an upload
published at time T has synced since T.  So to tell how far behind a mirror
is, we pick, for each freshness band, the newest upload whose age falls in
that band, and ask the mirror for them (Launchpad's way).  What the mirror
has then tells its lag, which freshness_found turns into a band:

- a mirror carrying the newest upload of a place has all the master has:
  it is UP, however old that upload is;
- one lacking it has been behind since the master published the first
  upload it lacks, and that lag is what its band says (never UP);
- one carrying none of the uploads asked for, though it has the place's
  index, is older than anything they tell: ONEWEEKBEHIND, the stalest band.

Trace files and planted timestamps say their own date: a mirror's lag is
how much older its copy is than the master's (lag_by_time).
"""

from mirrorkeeper.enums import MirrorFreshness

# The ways of telling a mirror's freshness ([freshness] in the
# configuration chooses them per distribution; mirrorkeeper.prober plans
# and judges each).
DETECTORS = ("publishing", "trace", "timestamp", "checksum")


def uploads_to_check(uploads, when):
    """{MirrorFreshness: upload} of the uploads that tell freshness at
    `when`, freshest band first.

    `uploads` is a sequence of (date_published, upload) pairs, newest
    first, none published after `when`.  A band covers the ages from the
    previous band's threshold to its own, both ends included; within a band
    the newest upload counts.  When no upload is younger than the last
    band's threshold, the newest upload of all is the one to check, for UP:
    a mirror that has it is as fresh as the master.
    """
    chosen = {}
    lower_age = None
    for band, threshold in MirrorFreshness.bands():
        for published, upload in uploads:
            age = when - published
            if age > threshold:
                break
            if lower_age is None or age >= lower_age:
                chosen[band] = upload
                break
        lower_age = threshold
    if not chosen and uploads:
        chosen[MirrorFreshness.UP] = uploads[0][1]
    return chosen


def freshness_found(urls_by_band, found_urls):
    """The freshness of a mirror's copy of one place: which band the uploads
    it has put it in, or UNKNOWN when there was nothing to ask for.

    `urls_by_band` is what uploads_to_check chose, turned into URLs
    (freshest band first); `found_urls` the set of those the mirror has.  A
    URL that failed never counts as found.

    - The mirror has the newest upload (the freshest band's URL): UP.
    - It lacks the newest upload but has an older one: the band listed just
      before the freshest band whose URL it has.  It has been behind since
      the master published the first upload it lacks, which is newer than
      the freshest upload it has and no newer than the one listed before
      it; uploads_to_check asks for the newest upload of every band that
      has any, so every upload in between lies in that band, and so does
      the lag: at least the age of the newest upload it lacks, never
      fresher than that upload's band.  And never UP: ONEHOURBEHIND at
      best, so that "Up to date" means the newest upload is there.
    - It has none of them (the caller asks only once the place's index is
      there): it is older than anything the uploads checked tell, and
      reads ONEWEEKBEHIND, the stalest band, never UNKNOWN, which the
      overall freshness would pass over.
    """
    bands = sorted(urls_by_band, key=lambda band: band.value)
    if not bands:
        return MirrorFreshness.UNKNOWN
    for index, band in enumerate(bands):
        if urls_by_band[band] in found_urls:
            if index == 0:
                return MirrorFreshness.UP
            return max(bands[index - 1], MirrorFreshness.ONEHOURBEHIND,
                       key=lambda freshness: freshness.value)
    return MirrorFreshness.ONEWEEKBEHIND


def overall_freshness(freshnesses):
    """The worst of `freshnesses` that is not UNKNOWN; UNKNOWN if none."""
    known = [f for f in freshnesses if f is not MirrorFreshness.UNKNOWN]
    if not known:
        return MirrorFreshness.UNKNOWN
    return max(known, key=lambda f: f.value)


def band_for_lag(lag):
    """The freshness band of a mirror `lag` (a timedelta) behind the master:
    the first band whose threshold the lag does not pass, else
    ONEWEEKBEHIND (a week or more behind)."""
    for band, threshold in MirrorFreshness.bands():
        if lag <= threshold:
            return band
    return MirrorFreshness.ONEWEEKBEHIND


def lag_by_history(history, version, now):
    """How far behind the master a mirror carrying `version` is, or None if
    the history does not know that version.

    `history` is the master's versions of one thing (a trace file's time, a
    control file's checksum, a planted timestamp), newest first, each a
    (version, date the master had it) pair.  A mirror carrying the newest
    version is not behind; one carrying an older version has been behind
    since the master moved past it, at the date of the next newer version.
    """
    for index, (known, _) in enumerate(history):
        if known == version:
            if index == 0:
                return now - now
            return max(now - history[index - 1][1], now - now)
    return None


def lag_by_time(history, mirror_time, now):
    """How far behind the master a mirror whose copy of a time file (a trace
    file, a planted timestamp) says `mirror_time` is: how much older that
    time is than the newest the master's `history` knows, as lag_by_history
    takes it; nothing when it is that new or newer.  The date inside the
    file is what tells, not the dates of the master versions recorded after
    it: a history kept for a day knows nothing of what a mirror three days
    behind missed.  With no history at all, a mirror is as far behind as
    its time is old (oVirt's mirrorchecker)."""
    zero = now - now
    if not history:
        return max(now - mirror_time, zero)
    master_time = max(version for version, _ in history)
    return max(master_time - mirror_time, zero)


def band_lag(band):
    """The lag, in seconds, a mirror of freshness `band` is known to be
    within when no detector measured it: none for an up-to-date mirror (it
    carries the master's newest upload), the band's bound for the others,
    None when unknown."""
    if band is MirrorFreshness.UP:
        return 0
    threshold = band.threshold
    return None if threshold is None else int(threshold.total_seconds())
