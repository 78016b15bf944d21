"""How fresh a mirror is: the pure computation, with no database or network.

The master publishes uploads over time.  A mirror that carries an upload
published at time T has synced since T.  So to tell how far behind a mirror
is, we pick, for each freshness band, the newest upload whose age falls in
that band, and ask the mirror for it; the freshest band whose upload the
mirror has is the mirror's freshness.
"""

from mirrorkeeper.enums import MirrorFreshness


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
    """The freshest band whose URL the mirror answered, or UNKNOWN.

    `urls_by_band` is what uploads_to_check chose, turned into URLs;
    `found_urls` the set of those the mirror has.  A URL that failed never
    counts as found.
    """
    for band, url in urls_by_band.items():
        if url in found_urls:
            return band
    return MirrorFreshness.UNKNOWN


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
    """As lag_by_history, for versions that are times (trace files, planted
    timestamps): a mirror whose time is not in the history is behind since
    the first master version newer than it; with no history at all, by its
    own age (oVirt's mirrorchecker)."""
    newer = [date for version, date in history if version > mirror_time]
    if not history:
        return max(now - mirror_time, now - now)
    if not newer:
        return now - now
    return max(now - min(newer), now - now)
