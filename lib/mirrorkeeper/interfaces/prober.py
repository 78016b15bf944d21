"""The network side of the prober: asking mirrors whether a file is there."""

from zope.interface import Attribute, Interface


class IProbeClient(Interface):
    """Probes URLs on mirrors for one prober run.

    A probe client owns everything a run learns about the network: the
    global and per-host concurrency limits, kept-alive connections, which
    hosts time out too often or showed a bad certificate, and what each host
    name resolved to.  Create one per run and L{close} it at the end; two
    clients share nothing.

    Every Deferred a probe client returns fires with a
    L{mirrorkeeper.prober.result.ProbeResult} and never fails: refused
    connections, DNS failures, timeouts, TLS failures, hostile answers
    (endless redirects, huge headers) and bugs are all results, each with
    its own L{mirrorkeeper.enums.ProbeOutcome} and log lines.
    """

    stats = Attribute(
        "A snapshot of the run so far, a "
        "L{mirrorkeeper.prober.client.ProbeStats}: probes finished, requests "
        "sent, connections opened, and results counted by outcome."
    )

    def probe(url):
        """Ask whether the file at C{url} is there, without fetching it.

        http and https URLs are asked with HEAD, ftp URLs with SIZE (or a
        directory listing where the server has no SIZE).  Only a 200 answer
        (213 for FTP) is FOUND, as apt sees it.  Redirects (301, 302, 303,
        307, 308, relative or absolute) are followed up to the client's
        limit; a redirect loop, too many redirects, a redirect to a scheme
        the client does not speak, or a redirect to a different file name
        (the error page that answers 200) each end the probe with their own
        outcome.

        The probe waits for a free slot under the global limit and under the
        per-host limit of the host it actually contacts (after a redirect,
        the redirect target's).  The timeout covers connecting, the TLS
        handshake and the response, not the wait for a slot.  A refused
        connection or a DNS failure is reported at once.

        Before connecting, the host name is resolved and the probe refused
        (FORBIDDEN_ADDRESS) if any address it resolves to is not global
        (loopback, link-local, private, shared, unspecified, multicast,
        documentation, reserved, or an IPv6 form of such an IPv4 address;
        see mirrorkeeper.addresspolicy), unless it is inside the client's
        allowed networks; every redirect target is checked the same way.

        A host that has timed out too often (after a threshold of requests,
        fewer than a given number of requests per timeout), or whose
        certificate failed verification once, is skipped for the rest of
        the run: probes to it end HOST_SKIPPED at once and say why.

        @param url: the absolute URL, str.
        @return: a Deferred firing with a ProbeResult.
        """

    def probe_then(url, callback, *args):
        """Probe C{url} as L{probe} does, and call C{callback(result,
        *args)} with its ProbeResult instead of firing a Deferred: the
        form the prober's own run uses, one Deferred less a probe.

        C{callback} is called once, perhaps before this returns; what it
        raises is logged and goes no further.

        @return: None.
        """

    def fetch(url, max_size, headers=(), keep_body=True):
        """Fetch a body (an image manifest, a trace file, a control file)
        with GET.

        Redirects, limits, timeouts, address policy and host skipping work
        as for L{probe}.  The result is FOUND, with the body's SHA-256 (hex)
        in its C{sha256} attribute and, if C{keep_body}, the body in its
        C{body} attribute, only for a 200 answer whose body is at most
        C{max_size} bytes; a larger one ends TOO_LARGE without being read
        further.  A body not kept is hashed as it arrives and let go, so
        that a mirror sending C{max_size} bytes costs no more memory than
        a read of them.  FTP URLs are not fetched (INVALID_URL).

        @param url: the absolute http or https URL, str.
        @param max_size: the most bytes of body accepted, int.
        @param headers: extra request headers, (name, value) pairs of str,
            e.g. ("Cache-Control", "no-cache").
        @param keep_body: False when only the body's SHA-256 is wanted.
        @return: a Deferred firing with a ProbeResult.
        """

    def address_families(host):
        """Which IP families C{host} resolved to during this run.

        @param host: a host name as it appears in probed URLs, str.
        @return: an object with boolean C{ipv4} and C{ipv6} attributes, or
            None if the host has not been resolved in this run.
        """

    def skipped_hosts():
        """The hosts this run skips and why.

        @return: a dict of "scheme://host:port" to a sentence saying why.
        """

    def forget(urls):
        """The run is done with the sites (scheme, host and port) of
        C{urls}: close their idle connections and let go of what the
        client learnt of them, so that a run's memory follows the mirrors
        in flight, not all it probed.  A site with a request in flight or
        waiting is kept, as is one the run skips (L{skipped_hosts} still
        names it, and it stays skipped).  A site asked again afterwards
        is looked up and measured afresh.

        @param urls: an iterable of str; one that cannot be probed is
            ignored.
        """

    def close():
        """Close every kept-alive connection and FTP session.

        @return: a Deferred firing with None once all are closed.
        """
