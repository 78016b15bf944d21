"""A mirror as JSON: the one writer behind the API (/api/1/mirrors...) and
the command line's --json, and the spelling of the values in it.

Enum items are spelt as the command line takes them ('pending-review',
'onedaybehind'), times in ISO 8601 UTC ('2025-01-05T10:00:00Z').  Both
the web layer and the scripts import this module; it imports neither.
"""


def enum_label(item):
    """How the command line spells an enum item: 'pending-review'."""
    return item.name.lower().replace("_", "-")


def json_date(when):
    """A UTC time in ISO 8601, or None."""
    if when is None:
        return None
    return when.isoformat(timespec="seconds") + "Z"


def speed_label(speed):
    """'100M' for MirrorSpeed.S100M: what --speed takes."""
    return speed.name[1:]


def site_json(state):
    """The site (the organisation) that runs the mirror whose state this
    is: its name and display name; None for none."""
    if state.site is None:
        return None
    return {"name": state.site, "display_name": state.site_title}


# What the JSON of every mirror says, from its state alone: each field
# and how it is read, in order.
SUMMARY = {
    "name": lambda state: state.name,
    "distribution": lambda state: state.distribution,
    "display_name": lambda state: state.display_name,
    "title": lambda state: state.title,
    "site": site_json,
    "country": lambda state: state.country_code,
    "country_name": lambda state: state.country_name,
    "continent": lambda state: state.continent_code,
    "content": lambda state: enum_label(state.content),
    "status": lambda state: enum_label(state.status),
    "official": lambda state: state.official,
    "enabled": lambda state: state.enabled,
    "owner_paused": lambda state: state.owner_paused,
    "unreachable": lambda state: state.unreachable,
    "listed": lambda state: state.listed,
    "lists": lambda state: list(state.lists),
    "freshness": lambda state: enum_label(state.freshness),
    "lag_seconds": lambda state: state.lag_seconds,
    "base_url": lambda state: state.base_url,
    "http_base_url": lambda state: state.http_url,
    "https_base_url": lambda state: state.https_url,
    "ftp_base_url": lambda state: state.ftp_url,
    "rsync_base_url": lambda state: state.rsync_url,
    "bandwidth_mbps": lambda state: state.bandwidth_mbps,
    "last_probe": lambda state: json_date(state.last_probe),
    "last_probe_duration_seconds": lambda state: state.last_probe_duration,
}


def mirror_json(state, mirror=None, private=False, fields=None):
    """The JSON object (a dict of JSON values) of one mirror.

    `state` is its IMirrorState: what the mirror lists and the status say
    (SUMMARY), or only the `fields` of it named, in that order, for an
    answer that needs few.  With `mirror` (its IDistributionMirror) come
    its registration details and content records, what a mirror's own
    page shows; with `private` too, what only its owner and the admins
    read (whiteboard, rsync ACL, netblocks and the other publication
    settings).
    """
    if fields is not None:
        return {name: SUMMARY[name](state) for name in fields}
    result = {name: read(state) for name, read in SUMMARY.items()}
    if mirror is None:
        return result
    reviewer = mirror.reviewer
    result.update({
        "owner": state.owner,
        "speed": speed_label(state.speed_item),
        "pulse_type": enum_label(mirror.pulse_type),
        "pulse_source": mirror.pulse_source,
        "official_candidate": state.official_candidate,
        "description": mirror.description,
        "reviewer": reviewer.name if reviewer is not None else None,
        "date_created": json_date(state.date_created),
        "date_reviewed": json_date(mirror.date_reviewed),
        "has_ipv4": mirror.has_ipv4,
        "has_ipv6": mirror.has_ipv6,
        "arch_series": [{
            "series": record.distro_arch_series.distro_series.name,
            "architecture": record.distro_arch_series.architecture_tag,
            "pocket": enum_label(record.pocket),
            "component": record.component.name,
            "freshness": enum_label(record.freshness),
        } for record in mirror.arch_series],
        "source_series": [{
            "series": record.distro_series.name,
            "pocket": enum_label(record.pocket),
            "component": record.component.name,
            "freshness": enum_label(record.freshness),
        } for record in mirror.source_series],
        "cdimage_series": [{
            "series": record.distro_series.name,
            "flavour": record.flavour,
        } for record in mirror.cdimage_series],
    })
    if private:
        result.update({
            "whiteboard": mirror.whiteboard,
            "private": mirror.private,
            "internet2": mirror.internet2,
            "asn": mirror.asn,
            "asn_clients": mirror.asn_clients,
            "netblocks": mirror.netblocks,
            "acl_addresses": mirror.acl_addresses,
            "countries_allowed": [country.iso3166code2
                                  for country in mirror.countries_allowed],
            "probe_count": mirror.probe_records.count(),
        })
    return result
