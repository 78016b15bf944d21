"""What a probe found, as rows beside its IMirrorProbeRecord: written by
the prober's recording step, read by the propagation page, a mirror's
freshness history and why a mirror is disabled, never from the log."""

from zope.interface import Attribute, Interface


class IMirrorProbeResult(Interface):
    """What one probe came to as a whole."""

    probe_record = Attribute("The IMirrorProbeRecord.")
    requests = Attribute("How many requests the probe made.")
    unreachable = Attribute(
        "True when every request failed at the network level.")
    lies = Attribute(
        "The URL of a file that cannot exist that the mirror answered 200 "
        "for, or None.")
    base_url = Attribute("The base URL the content was probed at, or None.")


class IMirrorProbeOutcome(Interface):
    """How many of a probe's requests ended one way."""

    outcome = Attribute("The ProbeOutcome's stored name, e.g. 'not-found'.")
    requests = Attribute("How many requests ended so.")


class IMirrorProbePlace(Interface):
    """One place a probe checked."""

    probe_record = Attribute("The IMirrorProbeRecord.")
    kind = Attribute(
        "'binary' (distro_arch_series, pocket, component), 'source' "
        "(distro_series, pocket, component), 'cdimage' (distro_series, "
        "flavour), 'detector' (a file a freshness detector fetched; "
        "rpm_repository_id names the RPM repository of a repomd.xml) or "
        "'release' (the mirror's copy of a suite's InRelease or Release, "
        "or of a repomd.xml, the label its path on the master).")
    label = Attribute("The place in words, e.g. 'warty/i386 main RELEASE'.")
    url = Attribute("The index file asked for, or None.")
    found = Attribute(
        "True, False, or None when the network kept the probe from "
        "telling.")
    freshness = Attribute("A MirrorFreshness, or None when nothing judged.")
    detector = Attribute(
        "The detector that judged the freshness ('publishing', 'trace', "
        "'timestamp', 'checksum'), or None.")
    lag_seconds = Attribute(
        "The lag the detector measured, in seconds, or None (publishing "
        "history tells a band only).")
    outcome = Attribute(
        "How the probe of the index file ended (a ProbeOutcome's stored "
        "name), or None.")
    images = Attribute("CD images: how many were asked for.")
    missing = Attribute("CD images: how many were missing.")
    sha256 = Attribute(
        "'release' and checksum 'detector' rows: the SHA-256 of the "
        "mirror's copy, or None when it served none that counts or the "
        "network kept the probe from seeing it.")
