"""Hand-built mirror list snapshots and a test GeoIP database, for the
tests of selection, the daemon and real clients."""

from mirrorkeeper.publish.snapshot import FORMAT
from tests.mmdb import write_mmdb

# Where test clients are: each network's country, continent and ASN.
GEOIP = {
    "192.0.2.0/24": ("DE", "EU", 64500),
    "198.51.100.0/24": ("FR", "EU", 64501),
    "203.0.113.0/24": ("BR", "SA", 64502),
    "100.64.0.0/16": ("IL", "AS", 64503),
    "2001:db8::/32": ("DE", "EU", 64500),
}

CONTINENTS = {"DE": "EU", "FR": "EU", "NL": "EU", "BR": "SA", "AR": "SA",
              "US": "NA", "IL": "AS", "JP": "AS"}

PLACES = [["noble", "amd64", "main", "release"],
          ["noble", "amd64", "main", "updates"],
          ["noble", "arm64", "main", "release"],
          ["noble", "source", "main", "release"],
          ["jammy", "amd64", "main", "release"]]

REPOSITORIES = [
    {"name": "releases-40-everything", "arch": "x86_64", "version": "40",
     "path": "releases/40/Everything/x86_64/os"},
    {"name": "releases-40-everything", "arch": "aarch64", "version": "40",
     "path": "releases/40/Everything/aarch64/os"},
]


def write_geoip(path, networks=GEOIP):
    """A MaxMind DB at `path` giving each network its country, continent
    and ASN."""
    return write_mmdb(path, {
        network: {"country": {"iso_code": country},
                  "continent": {"code": continent},
                  "autonomous_system_number": asn}
        for network, (country, continent, asn) in networks.items()})


def mirror(name, country, bandwidth=100, freshness=1, places=None,
           repositories=(0, 1), urls=None, **fields):
    """A snapshot mirror carrying `places` (indexes into PLACES, default
    all) and `repositories` at `freshness`; `fields` override the rest."""
    data = {
        "id": abs(hash(name)) % 100000, "name": name,
        "urls": urls or {"http": "http://%s.example/ubuntu/" % name},
        "country": country, "continent": CONTINENTS[country],
        "bandwidth": bandwidth, "private": False, "internet2": False,
        "asn": None, "asn_clients": False, "netblocks": [],
        "countries_allowed": [], "has_ipv4": True, "has_ipv6": True,
        "content": "archive", "freshness": freshness,
        "archive": {str(freshness): list(range(len(PLACES)) if places is None
                                         else places)},
        "repositories": {str(freshness): list(repositories)},
        "cdimages": [],
    }
    data.update(fields)
    return data


def snapshot(mirrors, serial=1, files=None, places=PLACES,
             repositories=REPOSITORIES):
    return {"format": FORMAT, "serial": serial,
            "generated": "2024-06-01T12:00:00Z", "distribution": "ubuntu",
            "continents": dict(CONTINENTS), "places": places,
            "repositories": repositories, "files": files or {},
            "mirrors": mirrors}
