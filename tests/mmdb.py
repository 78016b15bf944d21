"""A small writer of MaxMind DB files, for tests: the maxminddb package
only reads them.

The format (MaxMind DB File Format Specification 2.0): a binary search
tree over the bits of IPv6 addresses (IPv4 lives at ::/96), 32-bit
records, a 16-byte separator, the data section, then the metadata after
the marker b"\\xab\\xcd\\xefMaxMind.com".  Data are maps, strings,
unsigned integers, arrays, booleans.
"""

import ipaddress
import struct
import time

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"


def _control(type_number, size):
    """The control byte(s) of a field of `type_number` and `size`."""
    if size < 29:
        head, extra = size, b""
    elif size < 285:
        head, extra = 29, bytes([size - 29])
    elif size < 65821:
        head, extra = 30, struct.pack(">H", size - 285)
    else:
        head, extra = 31, struct.pack(">I", size - 65821)[1:]
    if type_number <= 7:
        return bytes([(type_number << 5) | head]) + extra
    return bytes([head, type_number - 7]) + extra


class UInt:
    """An unsigned integer of a stated width (16, 32, 64 or 128 bits):
    libmaxminddb checks the types of the metadata's fields."""

    TYPES = {16: 5, 32: 6, 64: 9, 128: 10}

    def __init__(self, value, bits):
        self.value, self.bits = value, bits


def encode(value):
    """The MaxMind DB encoding of a Python value."""
    if isinstance(value, UInt):
        data = value.value.to_bytes((value.value.bit_length() + 7) // 8,
                                    "big")
        return _control(UInt.TYPES[value.bits], len(data)) + data
    if isinstance(value, bool):
        return _control(14, int(value))
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _control(2, len(data)) + data
    if isinstance(value, bytes):
        return _control(4, len(value)) + value
    if isinstance(value, int):
        if value < 0:
            raise ValueError("only unsigned integers are written")
        data = value.to_bytes((value.bit_length() + 7) // 8, "big")
        if value < 1 << 16:
            return _control(5, len(data)) + data
        if value < 1 << 32:
            return _control(6, len(data)) + data
        return _control(9, len(data)) + data
    if isinstance(value, float):
        return _control(3, 8) + struct.pack(">d", value)
    if isinstance(value, dict):
        out = _control(7, len(value))
        for key, item in value.items():
            out += encode(str(key)) + encode(item)
        return out
    if isinstance(value, (list, tuple)):
        out = _control(11, len(value))
        for item in value:
            out += encode(item)
        return out
    raise TypeError("cannot encode %r" % (value,))


class _Node:
    __slots__ = ("children",)

    def __init__(self):
        # Each child is a _Node, a data record (a bytes key), or None.
        self.children = [None, None]


def _bits(network):
    """The (bits, prefix length) of a network in the IPv6 tree."""
    if network.version == 4:
        value = int(network.network_address)
        return value, 96 + network.prefixlen
    return int(network.network_address), network.prefixlen


def write_mmdb(path, networks, database_type="mirrorkeeper-test"):
    """Write a MaxMind DB to `path` mapping each network (a string such as
    '192.0.2.0/24' or '2001:db8::/32') of the dict `networks` to its record
    (a dict, e.g. {"country": {"iso_code": "DE"}, "continent": {"code":
    "EU"}, "autonomous_system_number": 64500}).  More specific networks
    may lie inside less specific ones."""
    root = _Node()
    data_section, offsets = b"", {}
    for text, record in sorted(
            networks.items(),
            key=lambda item: ipaddress.ip_network(item[0]).prefixlen
            + (96 if ipaddress.ip_network(item[0]).version == 4 else 0)):
        network = ipaddress.ip_network(text)
        encoded = encode(record)
        if encoded not in offsets:
            offsets[encoded] = len(data_section)
            data_section += encoded
        value, length = _bits(network)
        node = root
        for depth in range(length):
            bit = (value >> (127 - depth)) & 1
            if depth == length - 1:
                node.children[bit] = ("data", encoded)
                break
            child = node.children[bit]
            if not isinstance(child, _Node):
                # A less specific network's data goes down both ways.
                new = _Node()
                new.children = [child, child]
                node.children[bit] = child = new
            node = child
    nodes, queue = [], [root]
    numbers = {}
    while queue:
        node = queue.pop(0)
        numbers[id(node)] = len(nodes)
        nodes.append(node)
        queue.extend(c for c in node.children if isinstance(c, _Node))
    count = len(nodes)

    def record(child):
        if child is None:
            return count
        if isinstance(child, _Node):
            return numbers[id(child)]
        return count + 16 + offsets[child[1]]

    tree = b"".join(struct.pack(">II", record(node.children[0]),
                                record(node.children[1]))
                    for node in nodes)
    metadata = encode({
        "node_count": UInt(count, 32), "record_size": UInt(32, 16),
        "ip_version": UInt(6, 16), "database_type": database_type,
        "languages": ["en"],
        "binary_format_major_version": UInt(2, 16),
        "binary_format_minor_version": UInt(0, 16),
        "build_epoch": UInt(int(time.time()), 64),
        "description": {"en": "written by mirrorkeeper's tests"}})
    with open(path, "wb") as f:
        f.write(tree + b"\x00" * 16 + data_section + METADATA_MARKER +
                metadata)
    return path
