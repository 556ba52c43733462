"""Classic pcap files read and written, and the damage the decoder tests do to them.

Only what the tests need: records as (ts_ns, data, wire_len); Ethernet captures re-framed as other
link layers; packets parsed down to TCP to reorder, drop, duplicate or cut the ones of one
connection.  The format is libpcap's (pcap-savefile(5)): a 24-byte file header, then per packet a
16-byte record header and the captured bytes.
"""
import struct

MAGIC_US, MAGIC_NS = 0xA1B2C3D4, 0xA1B23C4D
LINKTYPES = {"EN10MB": 1, "LINUX_SLL": 113, "LINUX_SLL2": 276, "NULL": 0, "LOOP": 108, "RAW": 101}


def read(path):
    data = open(path, "rb").read()
    magic, = struct.unpack("<I", data[:4])
    if magic in (MAGIC_US, MAGIC_NS):
        end = "<"
    else:
        end = ">"
        magic, = struct.unpack(">I", data[:4])
    ns = magic == MAGIC_NS
    _, _, _, _, snaplen, linktype = struct.unpack(end + "HHiIII", data[4:24])
    recs, at = [], 24
    while at + 16 <= len(data):
        sec, frac, caplen, wire = struct.unpack(end + "IIII", data[at:at + 16])
        recs.append([sec * 10 ** 9 + (frac if ns else frac * 1000), data[at + 16:at + 16 + caplen], wire])
        at += 16 + caplen
    return linktype, recs


def write(path, linktype, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", MAGIC_NS, 2, 4, 0, 0, 262144, linktype))
        for ts, data, wire in recs:
            f.write(struct.pack("<IIII", ts // 10 ** 9, ts % 10 ** 9, len(data), wire))
            f.write(data)


def relink(recs, linktype):
    """Ethernet records re-framed as another link layer (same IP packets)."""
    out = []
    for ts, data, wire in recs:
        ethertype = data[12:14]
        ip = data[14:]
        v6 = ethertype == b"\x86\xdd"
        if linktype == LINKTYPES["LINUX_SLL"]:
            head = struct.pack(">HHH8s", 0, 772, 6, b"") + ethertype
        elif linktype == LINKTYPES["LINUX_SLL2"]:
            head = ethertype + struct.pack(">HIHBB8s", 0, 1, 772, 0, 6, b"")
        elif linktype == LINKTYPES["NULL"]:
            head = struct.pack("<I", 30 if v6 else 2)
        elif linktype == LINKTYPES["LOOP"]:
            head = struct.pack(">I", 30 if v6 else 2)
        elif linktype == LINKTYPES["RAW"]:
            head = b""
        else:
            raise ValueError(linktype)
        out.append([ts, head + ip, wire - 14 + len(head)])
    return out


def tcp_of(data):
    """(src port, dst port, seq, flags, payload offset, payload length) of an Ethernet TCP record, or None."""
    et = data[12:14]
    if et == b"\x08\x00":
        ihl = (data[14] & 15) * 4
        total, = struct.unpack(">H", data[16:18])
        if data[23] != 6:
            return None
        tcp, end = 14 + ihl, 14 + total
    elif et == b"\x86\xdd":
        if data[20] != 6:
            return None
        plen, = struct.unpack(">H", data[18:20])
        tcp, end = 54, 54 + plen
    else:
        return None
    sport, dport, seq = struct.unpack(">HHI", data[tcp:tcp + 8])
    hl = (data[tcp + 12] >> 4) * 4
    flags = data[tcp + 13]
    return sport, dport, seq, flags, tcp + hl, max(0, min(end, len(data)) - tcp - hl)


def data_packets(recs, port=None):
    """Indexes of the records with TCP payload (to or from port)."""
    out = []
    for i, (ts, data, wire) in enumerate(recs):
        t = tcp_of(data)
        if t and t[5] > 0 and (port is None or port in (t[0], t[1])):
            out.append(i)
    return out
