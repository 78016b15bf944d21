"""Where a client is: its country and autonomous system, from
MaxMind-format databases (GeoLite2-Country or -City, GeoLite2-ASN, or one
file carrying both), read with the maxminddb package."""

import ipaddress

import maxminddb

from mirrorkeeper.errors import ConfigurationError


class Locator:
    """Looks addresses up in a country database and an ASN database
    (either may be None, or both the same file).  The files are mapped
    with libmaxminddb's C extension where it is installed (a lookup in a
    few microseconds; the pure Python reader takes ten times that); a
    database replaced on disk by a rename is only seen by a new Locator."""

    def __init__(self, country_path=None, asn_path=None):
        self._country = self._open(country_path)
        if asn_path and asn_path == country_path:
            self._asn = self._country
        else:
            self._asn = self._open(asn_path)

    @staticmethod
    def _open(path):
        if not path:
            return None
        try:
            return maxminddb.open_database(path)
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as error:
            raise ConfigurationError("cannot read the GeoIP database %s: %s"
                                     % (path, error)) from None

    def locate(self, address):
        """(country code or None, ASN or None) of an ipaddress address."""
        country = asn = None
        if self._country is not None:
            record = self._country.get(address)
            if isinstance(record, dict):
                found = record.get("country") or \
                    record.get("registered_country") or {}
                country = found.get("iso_code")
        if self._asn is not None:
            record = self._asn.get(address)
            if isinstance(record, dict):
                asn = record.get("autonomous_system_number")
        return country, asn

    def close(self):
        for reader in {id(r): r for r in (self._country, self._asn)
                       if r is not None}.values():
            reader.close()


def parse_address(text):
    """The ipaddress of `text`; an IPv4-mapped IPv6 address (what a
    dual-stack socket reports) is its IPv4 address.  ValueError if it is
    not an address."""
    address = ipaddress.ip_address(text.strip().strip("[]"))
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
