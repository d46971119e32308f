#!/usr/bin/env python3
"""What the network namespaces hold, read by this script itself and not by topo: a witness
for kernel tests that must read many namespaces (the expand oracle of star-1000.toml reads a
thousand, twice), where one `ip` per namespace and kind costs minutes.

    netns_state.py [--settle]

The caller's namespace ("host") and each of /run/netns, in name order: links, addresses and
the main table's routes by rtnetlink, `net.ipv4.ip_forward` and
`net.ipv6.conf.all.forwarding`, and `nft list ruleset` where nftables has a table. Left out,
as what differs from one apply to the next: ifindexes, MACs, IPv6 link-local addresses and
their routes, multicast routes. --settle first waits (at most 10 s a namespace) until no
link has carrier without being up yet and no IPv6 address is tentative."""
import ctypes
import os
import socket
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
NETLINK_NETFILTER = 12
NLM_F_REQUEST, NLM_F_DUMP, NLM_F_DUMP_INTR = 0x1, 0x300, 0x10
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE = 18, 22, 26
NFT_MSG_GETTABLE = (10 << 8) | 1
IFF_UP, IFF_LOWER_UP = 0x1, 0x10000
IFA_F_TENTATIVE = 0x40
RT_TABLE_MAIN = 254

libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def attrs(buf, off=0):
    """{type: payload} of the netlink attributes in buf from off (the last of a type wins)."""
    out = {}
    while off + 4 <= len(buf):
        length, kind = struct.unpack_from("=HH", buf, off)
        if length < 4:
            break
        out[kind & 0x3fff] = buf[off + 4:off + length]
        off += (length + 3) & ~3
    return out


def dump(sock, msg_type, header):
    """The payloads of a dump's answers; dumped again whole when the kernel says it was
    interrupted (the namespace changed meanwhile)."""
    for _ in range(20):
        sock.send(struct.pack("=LHHLL", 16 + len(header), msg_type, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + header)
        out, interrupted, done = [], False, False
        while not done:
            data = sock.recv(1 << 20)
            off = 0
            while off + 16 <= len(data):
                length, kind, flags, _, _ = struct.unpack_from("=LHHLL", data, off)
                interrupted = interrupted or bool(flags & NLM_F_DUMP_INTR)
                if kind == NLMSG_DONE:
                    done = True
                elif kind == NLMSG_ERROR:
                    code = struct.unpack_from("=i", data, off + 16)[0]
                    if code:
                        raise OSError(-code, os.strerror(-code))
                else:
                    out.append(data[off + 16:off + length])
                off += (length + 3) & ~3
        if not interrupted:
            return out
    raise RuntimeError("a dump kept being interrupted")


def cstr(b):
    return b.split(b"\0", 1)[0].decode(errors="replace")


def links(sock):
    """{ifindex: dict} of the namespace's links."""
    out = {}
    for m in dump(sock, RTM_GETLINK, struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)):
        _, _, index, flags, _ = struct.unpack_from("=BxHiII", m)
        a = attrs(m, 16)
        info = attrs(a.get(18, b""))  # IFLA_LINKINFO
        af = attrs(attrs(a.get(26, b"")).get(socket.AF_INET6, b""))  # IFLA_AF_SPEC
        out[index] = {
            "name": cstr(a.get(3, b"?")),
            "kind": cstr(info.get(1, b"")) or "device",
            "mtu": struct.unpack("=I", a[4])[0] if 4 in a else 0,
            "flags": flags,
            "operstate": a.get(16, b"\0")[0],
            "master": struct.unpack("=I", a[10])[0] if 10 in a else 0,
            "group": struct.unpack("=I", a[27])[0] if 27 in a else 0,
            "alias": cstr(a.get(20, b"")),
            "addrgenmode": af[8][0] if 8 in af else None,
        }
    return out


def addresses(sock):
    out = []
    for m in dump(sock, RTM_GETADDR, struct.pack("=BBBBI", socket.AF_UNSPEC, 0, 0, 0, 0)):
        family, length, flags, scope, index = struct.unpack_from("=BBBBI", m)
        a = attrs(m, 8)
        raw = a.get(2 if family == socket.AF_INET and 2 in a else 1, b"")
        if 8 in a:  # IFA_FLAGS: all 32 bits
            flags = struct.unpack("=I", a[8])[0]
        out.append({"family": family, "address": socket.inet_ntop(family, raw), "length": length,
                    "flags": flags, "scope": scope, "index": index})
    return out


def routes(sock):
    out = []
    for m in dump(sock, RTM_GETROUTE, struct.pack("=BBBBBBBBI", socket.AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0, 0)):
        family, dst_len, _, _, table, proto, scope, kind, _ = struct.unpack_from("=BBBBBBBBI", m)
        a = attrs(m, 12)
        table = struct.unpack("=I", a[15])[0] if 15 in a else table
        if table != RT_TABLE_MAIN:
            continue
        ip = (lambda k: socket.inet_ntop(family, a[k]) if k in a else None)
        out.append({"family": family, "dst": "%s/%d" % (ip(1) or ("0.0.0.0" if family == socket.AF_INET else "::"),
                                                          dst_len),
                    "via": ip(5), "oif": struct.unpack("=I", a[4])[0] if 4 in a else 0, "prefsrc": ip(7),
                    "metric": struct.unpack("=I", a[6])[0] if 6 in a else 0, "proto": proto, "scope": scope,
                    "type": kind, "multipath": 9 in a})
    return out


def nft_tables():
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER) as s:
        return [cstr(attrs(m, 4).get(1, b"?")) for m in dump(s, NFT_MSG_GETTABLE, struct.pack("=BBH", 0, 0, 0))]


def sysctl(path):
    try:
        with open("/proc/sys/" + path) as f:
            return f.read().strip()
    except OSError as e:
        return "unreadable (%s)" % e.strerror


def unsettled(sock):
    busy = any(l["flags"] & IFF_LOWER_UP and l["operstate"] == 2 for l in links(sock).values())
    return busy or any(a["flags"] & IFA_F_TENTATIVE for a in addresses(sock))


def local_ll(a):
    return a["family"] == socket.AF_INET6 and a["address"].startswith("fe80:")


def describe(label, settle):
    lines = ["== " + label]
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as s:
        end = time.monotonic() + 10
        while settle and unsettled(s) and time.monotonic() < end:
            time.sleep(0.05)
        ls = links(s)
        name = (lambda i: ls[i]["name"] if i in ls else "if%d" % i)
        for l in sorted(ls.values(), key=lambda l: l["name"]):
            lines.append("link %s %s mtu %d %s master %s group %d alias '%s' addrgenmode %s" % (
                l["name"], l["kind"], l["mtu"], "up" if l["flags"] & IFF_UP else "down",
                name(l["master"]) if l["master"] else "-", l["group"], l["alias"], l["addrgenmode"]))
        for a in sorted((a for a in addresses(s) if not local_ll(a)),
                        key=lambda a: (name(a["index"]), a["family"], a["address"])):
            lines.append("addr %s %s/%d scope %d" % (name(a["index"]), a["address"], a["length"], a["scope"]))
        for r in sorted(routes(s), key=lambda r: (r["family"], r["dst"], r["metric"], name(r["oif"]))):
            if r["dst"].startswith("fe80:") or r["dst"] == "ff00::/8":
                continue
            lines.append("route %s via %s dev %s metric %d proto %d scope %d type %d src %s%s" % (
                r["dst"], r["via"], name(r["oif"]) if r["oif"] else "-", r["metric"], r["proto"], r["scope"],
                r["type"], r["prefsrc"], " multipath" if r["multipath"] else ""))
    lines.append("sysctl net.ipv4.ip_forward = " + sysctl("net/ipv4/ip_forward"))
    lines.append("sysctl net.ipv6.conf.all.forwarding = " + sysctl("net/ipv6/conf/all/forwarding"))
    if nft_tables():
        nft = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True)
        lines += ["nft " + l for l in (nft.stdout + nft.stderr).splitlines()]
    return lines


def main():
    settle = "--settle" in sys.argv[1:]
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    names = sorted(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else []
    out = describe("host", settle)
    try:
        for ns in names:
            fd = os.open("/run/netns/" + ns, os.O_RDONLY)
            try:
                setns(fd)
            finally:
                os.close(fd)
            out += describe(ns, settle)
    finally:
        setns(home)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
