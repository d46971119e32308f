#!/usr/bin/env python3
"""evolve: a property-based test of topo (issue 18, item 16).

From a seed it generates a random valid lab (namespaces made and adopted by path, bridges,
veths, VXLAN, macvlan, [[link]]s, IPv4 and IPv6 addresses, routes and routing = "static",
NAT, filters, policies, sysctls in host and namespaces, dns and hosts files), applies it in a
sandbox (scripts/sandbox), then edits it step by step (add/remove/rename a namespace or
link, change an address or a prefix, change a link's kind, move a port between bridges or a
link into another namespace, add or remove mtu/mac/sysctl keys, NAT, filter and route
changes, [[link]]s added and removed, routing turned on and off) and applies each version.
After every apply it checks the promises of docs/design.md:

  - apply exits 0 and `topo plan --detailed-exitcode` exits 0 (nothing left to do);
  - the kernel equals a fresh apply of the same file in a second, new sandbox (a dump of
    links, addresses, routes, bridge ports, net.* sysctls, nftables, /etc/netns files and
    /run/topo, normalised: ifindexes, netns ids, bridge port numbers, timers, IPv6
    link-local addresses and the random MACs of links the file gives no `mac` are left out);
  - at random steps a step of the apply fails (TOPO_TEST_FAIL_STEP) or a NAT batch is
    refused (TOPO_TEST_FAIL_NFT): apply exits 1 and the kernel is exactly as before; or topo
    is killed before a random step (TOPO_TEST_KILL_STEP): the next apply converges;
  - at the end `topo destroy` leaves the sandbox exactly as it was before the first apply.

On a failure it shrinks the case (drops earlier lab versions, then lab elements and keys,
while the same check still fails) and prints a minimal reproduction, also written to
--repro (default evolve-repro-SEED.md).

Usage (as root, from anywhere):
  tests/evolve/evolve.py --seed N --steps K [--topo PATH] [--enable NAME]... [--no-shrink]
  tests/evolve/evolve.py --list-known-failing
The ctest entry `evolve` runs a fixed seed (tests/CMakeLists.txt). Long runs: any seed, any
number of steps; the summary line gives the seed, steps, injected faults and how often the
generator and the edits had to be repaired to stay valid.

Edit kinds and lab features that still fail on main for a known reason are off by default
(KNOWN_FAILING below, with the issue item); --enable NAME (or --enable all) turns them on.
Only the Python standard library is used.
"""

import argparse
import copy
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SANDBOX = os.path.join(ROOT, "scripts", "sandbox")
LAB = "ev"
ADOPT_DIR = "/run/adopt"
ADOPT_PATHS = [ADOPT_DIR + "/c1", ADOPT_DIR + "/c2"]

# Features that fail on main for a reason an issue item names; off unless --enable NAME.
KNOWN_FAILING = {
}



def is_on(name, enabled):
    """A feature is on unless it is known to fail and not --enable'd: once its fix is on main,
    deleting its KNOWN_FAILING entry turns it on everywhere."""
    return name not in KNOWN_FAILING or name in enabled


# Edit kinds that stay off until the feature they need is enabled.
EDIT_GATES = {"change-address": "address-edits", "change-prefix": "address-edits",
              "remove-address": "address-edits", "change-kind": "relink-routes",
              "rename-link": "relink-routes", "move-netns": "relink-routes",
              "rename-netns": "relink-routes", "vxlan-id": "relink-routes"}
# Edit kinds during which no fault is injected unless the feature is enabled.
FAULT_GATES = {"rename-netns": "netns-fault", "remove-netns": "netns-fault"}


# ---------------------------------------------------------------------------------------
# The sandbox worker: runs inside scripts/sandbox, reads JSON requests on stdin, answers on
# stdout. It makes what a machine would have before any lab (two namespaces mounted at
# ADOPT_PATHS as containers' would be, a dummy interface in host and in c1) and dumps state.

def sh(argv, env=None, timeout=120):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def must(argv):
    rc, out, err = sh(argv)
    if rc != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), rc, err.strip()))
    return out


def worker_setup():
    os.makedirs(ADOPT_DIR, exist_ok=True)
    for path in ADOPT_PATHS:
        open(path, "w").close()
        must(["unshare", "--net=" + path, "true"])
        must(["nsenter", "--net=" + path, "ip", "link", "set", "lo", "up"])
    # A machine's own interfaces (fixed MACs: they are the same in every sandbox).
    # (A veth into c1 as a container runtime makes: the dummy module may not be there.)
    must(["ip", "link", "add", "eth9", "address", "02:99:00:00:00:01", "type", "veth", "peer",
          "name", "dm0", "address", "02:99:00:00:00:02", "netns", ADOPT_PATHS[0]])
    must(["ip", "link", "set", "eth9", "up"])
    must(["nsenter", "--net=" + ADOPT_PATHS[0], "ip", "link", "set", "dm0", "up"])


def namespaces():
    """(label, namespace file) of every namespace to dump: host, the named, the adopted."""
    out = [("host", HOME_NS)]
    try:
        named = sorted(os.listdir("/run/netns"))
    except OSError:
        named = []
    for name in named:
        out.append((name, "/run/netns/" + name))
    for path in ADOPT_PATHS:
        out.append(("adopted:" + os.path.basename(path), path))
    return out


_libc = None


HOME_NS = "/proc/self/fd/%d" % os.open("/proc/self/ns/net", os.O_RDONLY)


def enter(path):
    """Moves this (single-threaded) worker into the network namespace at path (the sandbox's
    own: HOME_NS); `ip`, `nft` and /proc/sys/net then see that namespace."""
    global _libc
    if _libc is None:
        import ctypes
        _libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
            raise OSError("setns %s failed" % path)
    finally:
        os.close(fd)


def jcall(argv):
    rc, out, err = sh(argv)
    if rc != 0:
        return {"error": err.strip()}
    try:
        return json.loads(out) if out.strip() else []
    except ValueError:
        return {"unparsable": out}


SYSCTL_FILES = ["ipv4/ip_forward", "ipv4/ip_default_ttl", "ipv4/icmp_echo_ignore_all",
                "ipv4/icmp_echo_ignore_broadcasts", "core/somaxconn"]
SYSCTL_DIRS = ["ipv4/conf", "ipv6/conf"]


def read_sysctls():
    out = []
    files = list(SYSCTL_FILES)
    for d in SYSCTL_DIRS:
        for dev in sorted(os.listdir("/proc/sys/net/" + d)):
            for k in sorted(os.listdir("/proc/sys/net/%s/%s" % (d, dev))):
                files.append("%s/%s/%s" % (d, dev, k))
    for f in files:
        try:
            with open("/proc/sys/net/" + f) as fh:
                v = fh.read().strip()
        except OSError:
            continue
        out.append("net.%s = %s" % (f.replace("/", "."), v))
    return "\n".join(out)


def tentative(addrs):
    """Whether the kernel is still settling a link with carrier: an IPv6 address other than
    link-local still tentative (duplicate address detection: its local route comes when it
    ends), or a carrier the link watcher has not passed on yet (operstate still down, a
    bridge port still disabled)."""
    for link in addrs if isinstance(addrs, list) else []:
        flags = link.get("flags", [])
        if "LOWER_UP" in flags and "UP" in flags:
            for a in link.get("addr_info", []):
                if a.get("tentative") and not a.get("local", "").startswith("fe80"):
                    return True
            if link.get("operstate") in ("DOWN", "LOWERLAYERDOWN"):
                return True
            port = link.get("linkinfo", {}).get("info_slave_data", {})
            if link.get("linkinfo", {}).get("info_slave_kind") == "bridge" and port.get("state") == "disabled":
                return True
    return False


def unrouted(ns):
    """Whether an IPv6 address of an up link still waits for its local route: the kernel
    inserts it from a work queue once the address leaves (or, with nodad, skips) duplicate
    address detection, a moment after the address is added (evolve seed 75 dumped a fresh
    apply in that moment on a loaded machine)."""
    routes = ns["routes6"] if isinstance(ns["routes6"], list) else []
    local = {(r.get("dst"), r.get("dev")) for r in routes if r.get("type") == "local"}
    for link in ns["addrs"] if isinstance(ns["addrs"], list) else []:
        if "UP" not in link.get("flags", []):
            continue
        for a in link.get("addr_info", []):
            if (a.get("family") == "inet6" and not a.get("tentative") and not a.get("local", "").startswith("fe80")
                    and (a.get("local"), link.get("ifname")) not in local):
                return True
    return False


def dump():
    """Waits (at most 5 s) for IPv6 duplicate address detection to end and the local routes
    of IPv6 addresses to come, then dumps."""
    for _ in range(50):
        state = dump_once()
        if not any(tentative(ns["addrs"]) or unrouted(ns) for ns in state["namespaces"].values()):
            break
        time.sleep(0.1)
    return state


def gen_modes():
    """Each link's addrgenmode (whether it has a link-local address), which `ip addr` leaves out."""
    links = jcall(["ip", "-d", "-j", "link"])
    return {l.get("ifname"): l.get("inet6_addr_gen_mode") for l in links} if isinstance(links, list) else links


def dump_once():
    nss = namespaces()
    home = nss[0][1]
    state = {"namespaces": {}}
    try:
        for label, path in nss:
            enter(path)
            rc, nft, nft_err = sh(["nft", "list", "ruleset"])
            state["namespaces"][label] = {
                "addrs": jcall(["ip", "-d", "-j", "addr"]),
                "gen_modes": gen_modes(),
                "routes4": jcall(["ip", "-4", "-j", "route", "show", "table", "all"]),
                "routes6": jcall(["ip", "-6", "-j", "route", "show", "table", "all"]),
                "sysctl": read_sysctls(),
                "nft": nft if rc == 0 else "error: " + nft_err,
                "qdiscs": jcall(["tc", "-j", "qdisc", "show"]),
            }
    finally:
        enter(home)
    files = {}
    for top in ("/etc/netns", "/run/topo"):
        for d, _, names in os.walk(top):
            for n in names:
                p = os.path.join(d, n)
                if n == "lock":
                    continue
                try:
                    with open(p) as f:
                        files[p] = f.read()
                except OSError as e:
                    files[p] = "unreadable: %s" % e
    state["files"] = files
    return state


def serve():
    worker_setup()
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "run":
                env = dict(os.environ)
                env.update(req.get("env", {}))
                rc, o, e = sh(req["argv"], env=env, timeout=300)
                res = {"rc": rc, "out": o, "err": e}
            elif req["op"] == "dump":
                res = {"dump": dump()}
            else:
                res = {"error": "unknown op"}
        except Exception as e:  # reported to the orchestrator, which fails the check
            res = {"error": "%s: %s" % (type(e).__name__, e)}
        out.write(json.dumps(res) + "\n")
        out.flush()


# The worker runs a copy of this file taken at the start (main), so that editing the file
# does not break a long run.
WORKER_SCRIPT = os.path.abspath(__file__)


class Sandbox:
    """One scripts/sandbox with a worker in it; gone with everything in it when closed."""

    def __init__(self):
        self.p = subprocess.Popen([SANDBOX, sys.executable, WORKER_SCRIPT, "--serve"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, req):
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox worker died")
        res = json.loads(line)
        if "error" in res:
            raise RuntimeError("sandbox worker: " + res["error"])
        return res

    def run(self, argv, env=None):
        r = self.call({"op": "run", "argv": argv, "env": env or {}})
        return r["rc"], r["out"], r["err"]

    def dump(self):
        return self.call({"op": "dump"})["dump"]

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=60)
        except Exception:
            self.p.kill()


# ---------------------------------------------------------------------------------------
# Normalising a dump to text lines that two sandboxes can share.

# (gso/gro/tso limits a link inherits from its lower links at creation: history, not topo's.)
DROP_LINK_KEYS = {"ifindex", "link_index", "link_netnsid", "stats", "stats64", "operstate",
                  "linkmode", "event", "parentbus", "parentdev", "altnames", "tso_max_size",
                  "tso_max_segs", "gso_max_size", "gso_max_segs", "gro_max_size",
                  "gso_ipv4_max_size", "gro_ipv4_max_size"}
DROP_FLAGS = {"LOWER_UP", "NO-CARRIER", "M-DOWN", "DORMANT"}
# Spanning-tree state, which topo does not run; and a port's STP path `cost`, which the bridge
# derives from the port's speed as it joins (a VXLAN's is its underlay's, a bridge's its
# fastest port's, so it depends on what had joined what before: history; seed 51).
DROP_INFO_KEYS = {"bridge_id", "root_id", "root_port", "root_path_cost", "topology_change",
                  "topology_change_detected", "designated_root", "designated_bridge",
                  "designated_port", "designated_cost", "id", "no", "topology_change_ack",
                  "config_pending", "cost"}


def clean_info(d):
    if isinstance(d, dict):
        return {k: clean_info(v) for k, v in d.items()
                if k not in DROP_INFO_KEYS and not k.endswith("_timer")}
    if isinstance(d, list):
        return [clean_info(x) for x in d]
    return d


ZERO_MAC_COUNTS = True  # set from --enable bridge-mac


def is_mac(v):
    return isinstance(v, str) and re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", v) is not None


def normalize(state, keep_macs, file_contents=True):
    """Text lines of a dump. keep_macs(ns_label, ifname) says whether a link's MAC counts;
    a MAC of all zeros always counts (a bridge that lost its address)."""
    lines = []
    for label in sorted(state["namespaces"]):
        ns = state["namespaces"][label]
        lines.append("== " + label)
        links = ns["addrs"] if isinstance(ns["addrs"], list) else [ns["addrs"]]
        for link in sorted(links, key=lambda l: l.get("ifname", "")):
            name = link.get("ifname", "?")
            l = {k: v for k, v in link.items() if k not in DROP_LINK_KEYS and k != "addr_info"}
            if "flags" in l:
                l["flags"] = [f for f in l["flags"] if f not in DROP_FLAGS]
            if "linkinfo" in l:
                l["linkinfo"] = clean_info(l["linkinfo"])
            if not keep_macs(label, name):
                for k in ("address", "perm_address"):
                    if k in l and is_mac(l[k]) and (l[k] != "00:00:00:00:00:00" or not ZERO_MAC_COUNTS):
                        l[k] = "<mac>"
            if name == "lo" or l.get("link_type") == "none":
                l.pop("address", None)
            l["addrgenmode"] = ns.get("gen_modes", {}).get(name)
            lines.append("link %s %s" % (name, json.dumps(l, sort_keys=True)))
        addrs = ns["addrs"] if isinstance(ns["addrs"], list) else [ns["addrs"]]
        for link in sorted(addrs, key=lambda l: l.get("ifname", "")):
            v4, v6 = [], []
            for a in link.get("addr_info", []):
                if a.get("family") == "inet6" and a.get("local", "").startswith("fe80"):
                    continue
                a = {k: v for k, v in a.items()
                     if k not in ("valid_life_time", "preferred_life_time", "tentative")}
                (v6 if a.get("family") == "inet6" else v4).append(json.dumps(a, sort_keys=True))
            # Sorted: the order of primaries of different subnets follows the history of the
            # link (the "secondary" flag still tells a subnet's first address from the rest).
            for a in sorted(v4) + sorted(v6):
                lines.append("addr %s %s" % (link.get("ifname"), a))
        for fam in ("routes4", "routes6"):
            routes = ns[fam] if isinstance(ns[fam], list) else [ns[fam]]
            out = []
            for r in routes:
                # Link-local routes and the multicast route of each IPv6 link come when the
                # kernel's link watcher sees the carrier (up to a second later): not topo's.
                if str(r.get("dst", "")).startswith("fe80") or str(r.get("prefsrc", "")).startswith("fe80") \
                        or r.get("dst") == "ff00::/8":
                    continue
                r = {k: v for k, v in r.items() if k not in ("expires",)}
                if "flags" in r:
                    r["flags"] = [f for f in r["flags"] if f != "linkdown"]
                out.append(json.dumps(r, sort_keys=True))
            lines += ["route " + r for r in sorted(out)]
        # Root qdiscs (shapes), without the handles the kernel numbers them by as made.
        qdiscs = ns.get("qdiscs", [])
        for q in sorted((json.dumps({k: v for k, v in q.items() if k != "handle"}, sort_keys=True)
                         for q in (qdiscs if isinstance(qdiscs, list) else [qdiscs]))):
            lines.append("qdisc " + q)
        for s in ns["sysctl"].splitlines():
            lines.append("sysctl " + s)
        for s in ns["nft"].splitlines():
            lines.append("nft " + re.sub(r"\s*# handle \d+", "", s))
    for p in sorted(state["files"]):
        if not file_contents and p.startswith("/run/topo/"):
            continue  # topo's own bookkeeping may follow the history (checked after destroy)
        for s in state["files"][p].splitlines() or [""]:
            lines.append("file %s: %s" % (p, s))
    return lines


def diff_lines(a, b, label_a, label_b):
    import difflib
    return "\n".join(difflib.unified_diff(a, b, label_a, label_b, n=1, lineterm=""))


# ---------------------------------------------------------------------------------------
# The lab model: plain dicts as in the file, each element with a hidden "_id" (keys that
# start with "_" are not written). Rendering keeps which lines belong to which element,
# so that validation errors can be mapped back to what to drop.

def bare(k):
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k)


def tval(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(tval(x) for x in v) + "]"
    if isinstance(v, dict):
        items = [(k, x) for k, x in v.items() if not k.startswith("_") and x != []]
        if not items:
            return "{}"
        return "{ " + ", ".join("%s = %s" % (bare(k), tval(x)) for k, x in items) + " }"
    raise TypeError(v)


KINDS = ["netns", "bridge", "veth", "vxlan", "macvlan", "route", "nat", "filter", "link"]


def render(lab):
    """(text, owners): owners[i] is (kind, element) of line i+1, or None."""
    lines, owners = ['lab = "%s"' % LAB], [None]
    if lab.get("routing"):
        lines.append('routing = "static"')
        owners.append(("routing", None))
    host = lab["host"]
    if host.get("sysctl") or host.get("policy"):
        lines.append("[host]")
        owners.append(None)
        for k in ("sysctl", "policy"):
            if host.get(k):
                lines.append("%s = %s" % (k, tval(host[k])))
                owners.append(("host", k))
    for kind in KINDS:
        for e in lab[kind]:
            lines.append("[[%s]]" % kind)
            owners.append((kind, e))
            for k, v in e.items():
                if k.startswith("_"):
                    continue
                if isinstance(v, dict) and not v and k in ("sysctl", "hosts", "policy"):
                    continue
                if isinstance(v, list) and not v:
                    continue
                lines.append("%s = %s" % (bare(k), tval(v)))
                owners.append((kind, e))
    return "\n".join(lines) + "\n", owners


def empty_lab():
    lab = {k: [] for k in KINDS}
    lab["host"] = {"sysctl": {}, "policy": {}}
    return lab


class Ids:
    n = 0

    @classmethod
    def next(cls):
        cls.n += 1
        return cls.n


def new(kind_fields):
    kind_fields["_id"] = Ids.next()
    return kind_fields


# ---------------------------------------------------------------------------------------
# Queries over the model.

def ns_names(lab):
    return ["host"] + [n["name"] for n in lab["netns"]]


def interfaces(lab):
    """Every interface the file makes: (netns, name, kind, holder, end) where holder is the
    element and end is "a"/"b" for a veth end (the dict holding name/addresses), else None."""
    out = []
    for b in lab["bridge"]:
        out.append((b.get("netns", "host"), b["name"], "bridge", b, None))
    for v in lab["veth"]:
        for end in ("a", "b"):
            out.append((v[end].get("netns", "host"), v[end]["name"], "veth", v, end))
    for kind in ("vxlan", "macvlan"):
        for x in lab[kind]:
            out.append((x.get("netns", "host"), x["name"], kind, x, None))
    return out


def iface_dict(holder, end):
    return holder[end] if end else holder


def names_in(lab, ns):
    names = {i[1] for i in interfaces(lab) if i[0] == ns}
    names.add("lo")
    if ns == "host":
        names.add("eth9")
    return names


def all_addresses(lab):
    out = []
    for i in interfaces(lab):
        out += iface_dict(i[3], i[4]).get("addresses", [])
    return out


def subnet_twice(lab):
    """Whether two links of one namespace have addresses on one subnet (KNOWN_FAILING)."""
    import ipaddress
    seen = {}
    for ns, name, kind, holder, end in interfaces(lab):
        for a in iface_dict(holder, end).get("addresses", []):
            net = (ns, str(ipaddress.ip_interface(a).network))
            if seen.setdefault(net, name) != name:
                return True
    return False


def used_subnets(lab):
    used = set()
    for a in all_addresses(lab):
        m = re.match(r"10\.(\d+)\.", a) or re.match(r"fd00:(\d+)::", a)
        if m:
            used.add(int(m.group(1)))
    return used


def bridges_in(lab, ns):
    return [b["name"] for b in lab["bridge"] if b.get("netns", "host") == ns]


def mac_set(lab):
    """(ns label as dumped, name) of every link whose MAC the file sets."""
    out = set()
    labels = {"host": "host"}
    for n in lab["netns"]:
        labels[n["name"]] = ("adopted:" + os.path.basename(n["path"])) if n.get("path") else n["name"]
    for ns, name, kind, holder, end in interfaces(lab):
        if iface_dict(holder, end).get("mac"):
            out.add((labels.get(ns, ns), name))
    return out


def replaced_address(i, d, a, na, what):
    """Puts address na in the place of a on interface i (its keys d), and says so."""
    d["addresses"] = [na if x == a else x for x in d["addresses"]]
    return "%s of %s/%s: %s -> %s" % (what, i[0], i[1], a, na)


def find_by_id(lab, uid):
    for kind in KINDS:
        for e in lab[kind]:
            if e["_id"] == uid:
                return kind, e
    return None, None


# ---------------------------------------------------------------------------------------
# Validation and repair through `topo validate`.

class Stats:
    def __init__(self):
        self.gen_valid = self.gen_repaired = self.gen_regenerated = 0
        self.edit_valid = self.edit_repaired = self.edit_discarded = 0
        self.faults = {"fail": 0, "kill": 0, "nft": 0}
        self.applies = 0
        self.steps = 0


ERR_RE = re.compile(r"^[^:\n]+:(\d+):(\d+): error: (.*)$", re.M)


def validate(topo, lab, tmpdir):
    text, owners = render(lab)
    path = os.path.join(tmpdir, "validate.toml")
    with open(path, "w") as f:
        f.write(text)
    rc, out, err = sh([topo, "validate", "-q", path])
    if rc == 0:
        return []
    errs = [(int(m.group(1)), int(m.group(2)), m.group(3)) for m in ERR_RE.finditer(err)]
    if not errs:
        errs = [(0, 0, err.strip() or "invalid")]
    return [(line, col, msg, owners[line - 1] if 0 < line <= len(owners) else None, text)
            for line, col, msg in errs]


DROPPABLE_KEYS = ("master", "mtu", "mac", "dev", "local", "metric", "in", "out", "shape")


def drop_offender(lab, line, col, msg, owner, text):
    """Drops what a validation error points at: an optional key when the line is that key,
    else the whole element. Returns False when it cannot tell."""
    if owner is None:
        return False
    kind, e = owner
    if kind == "routing":  # a computed route the validator refuses: routing goes
        lab.pop("routing", None)
        return True
    if kind == "host":
        lab["host"][e] = {}
        return True
    src = text.splitlines()[line - 1]
    key = src.split("=", 1)[0].strip()
    if key in ("a", "b") and kind == "veth":
        end = e[key]
        # The column tells which key of the inline table.
        inner = src[:col - 1]
        m = re.findall(r"([A-Za-z_]+)\s*=", inner)
        k = m[-1] if m else None
        if k in DROPPABLE_KEYS and k in end:
            del end[k]
            return True
        if k == "addresses" and end.get("addresses"):
            end["addresses"] = []
            return True
    elif key in DROPPABLE_KEYS and key in e and kind != "route":
        del e[key]
        return True
    elif key == "addresses" and e.get("addresses"):
        e["addresses"] = []
        return True
    elif key in ("sysctl", "dns", "hosts", "policy") and kind == "netns":
        e[key] = {} if key != "dns" else []
        return True
    remove_element(lab, kind, e)
    return True


def remove_element(lab, kind, e):
    lab[kind] = [x for x in lab[kind] if x is not e]


MACHINE_LINKS = {"host": {"eth9"}}


def drop_dangling(lab):
    """In host and adopted namespaces a route's dev, a macvlan's parent and a VXLAN's dev may
    name the machine's own interfaces, so the validator cannot tell a dangling one (plan
    reports it as a conflict). Drops those that name neither the file's nor the machine's."""
    n = 0
    adopted = {x["name"]: os.path.basename(x["path"]) for x in lab["netns"] if x.get("path")}

    def exists(ns, name):
        if name in names_in(lab, ns):
            return True
        return ns in adopted and adopted[ns] == "c1" and name == "dm0" or \
            name in MACHINE_LINKS.get(ns, ())
    made = {n["name"] for n in lab["netns"] if not n.get("path")}
    for rt in list(lab["route"]):
        ns = rt.get("netns", "host")
        if rt.get("dev") and not exists(ns, rt["dev"]):
            remove_element(lab, "route", rt)
            n += 1
        elif rt.get("via") and ns not in made and not on_subnet(lab, ns, rt["via"], rt.get("dev")):
            remove_element(lab, "route", rt)
            n += 1
    for holder, ns in [(lab["host"], "host")] + [(x, x["name"]) for x in lab["netns"]]:
        for k in list(holder.get("sysctl", {})):
            m = re.match(r"net\.ipv[46]\.conf\.([^.]+)\.", k)
            if m and m.group(1) not in ("all", "default") and not exists(ns, m.group(1)):
                del holder["sysctl"][k]
                n += 1
    for m in list(lab["macvlan"]):
        if not exists(m.get("parent_netns", "host"), m["parent"]):
            remove_element(lab, "macvlan", m)
            n += 1
    for x in list(lab["vxlan"]):
        if x.get("dev") and not exists(x.get("netns", "host"), x["dev"]):
            remove_element(lab, "vxlan", x)
            n += 1
    return n + drop_above_machine(lab)


def vxlan_headers(x):
    return 70 if any(":" in x.get(k, "") for k in ("local", "remote", "group")) else 50


def drop_above_machine(lab):
    """Drops the mtu of a VXLAN or macvlan above what the machine's eth9 leaves through the
    lab's links without an mtu between them (a macvlan over eth9 under a VXLAN, seed 94):
    the validator cannot know eth9's, and plan refuses it as a conflict."""
    links = {(i[0], i[1]): iface_dict(i[3], i[4]) for i in interfaces(lab) if i[2] in ("vxlan", "macvlan")}

    def machine_mtu(ns, name, depth=0):
        if name in MACHINE_LINKS.get(ns, ()):
            return 1500
        d = links.get((ns, name))
        if d is None or "mtu" in d or depth > 8:
            return None
        if "parent" in d:
            return machine_mtu(d.get("parent_netns", "host"), d["parent"], depth + 1)
        under = machine_mtu(ns, d["dev"], depth + 1) if d.get("dev") else None
        return under - vxlan_headers(d) if under else None
    n = 0
    for (ns, name), d in links.items():
        if "mtu" not in d:
            continue
        if "parent" in d:
            limit = machine_mtu(d.get("parent_netns", "host"), d["parent"])
        else:
            under = machine_mtu(ns, d["dev"]) if d.get("dev") else None
            limit = under - vxlan_headers(d) if under else None
        if limit and d["mtu"] > limit:
            del d["mtu"]
            n += 1
    return n


def on_subnet(lab, ns, via, dev=None):
    """Whether a gateway is on a subnet of the file's links in ns (of dev, when given): the
    validator checks this in the namespaces the lab makes only."""
    import ipaddress
    gw = ipaddress.ip_address(via)
    for i in interfaces(lab):
        if i[0] != ns or (dev and i[1] != dev):
            continue
        for a in iface_dict(i[3], i[4]).get("addresses", []):
            net = ipaddress.ip_interface(a).network
            if net.version == gw.version and gw in net:
                return True
    return False


def repair(topo, lab, tmpdir, rounds=12):
    """Drops offenders until the lab validates. (ok, number of repairs)."""
    n = 0
    for _ in range(rounds):
        n += drop_dangling(lab)
        errs = validate(topo, lab, tmpdir)
        if not errs:
            k = drop_dangling(lab)
            if not k:
                return True, n
            n += k
            continue
        line, col, msg, owner, text = errs[0]
        if not drop_offender(lab, line, col, msg, owner, text):
            return False, n
        n += 1
    return False, n


# ---------------------------------------------------------------------------------------
# Random labs.

class Gen:
    def __init__(self, rng, enabled):
        self.rng = rng
        self.enabled = enabled
        self.counter = 0

    def on(self, name):
        return is_on(name, self.enabled)

    def fresh(self, prefix):
        self.counter += 1
        return "%s%d" % (prefix, self.counter)

    def subnet(self, lab):
        used = used_subnets(lab)
        free = [s for s in range(1, 200) if s not in used]
        return self.rng.choice(free)

    def addrs(self, s, host, v4=None, v6=None):
        r = self.rng
        v4 = r.random() < 0.8 if v4 is None else v4
        v6 = r.random() < 0.5 if v6 is None else v6
        out = []
        if v4:
            out.append("10.%d.0.%d/24" % (s, host))
        if v6:
            out.append("fd00:%d::%x/64" % (s, host))
        return out

    def iface_name(self, lab, ns, prefix):
        if ns == "host" and prefix == "eth":
            return self.fresh("he")  # not eth9, the machine's own
        if ns != "host" and prefix == "eth":
            taken = names_in(lab, ns)
            for i in range(10):
                if "eth%d" % i not in taken:
                    return "eth%d" % i
        return self.fresh(prefix)

    def mac(self):
        return "02:%02x:%02x:%02x:%02x:%02x" % tuple(self.rng.randrange(256) for _ in range(5))

    def maybe_mtu_mac(self, d, ns_has_v6=True):
        r = self.rng
        if r.random() < 0.15:
            d["mtu"] = r.choice([1280, 1400, 1500, 9000])
        if r.random() < 0.15:
            d["mac"] = self.mac()

    # -- elements
    def add_netns(self, lab, adopt_ok=True):
        r = self.rng
        used_paths = {n.get("path") for n in lab["netns"]}
        free_paths = [p for p in ADOPT_PATHS if p not in used_paths]
        n = new({"name": self.fresh("n")})
        if adopt_ok and free_paths and r.random() < 0.25:
            n["path"] = r.choice(free_paths)
            n["name"] = self.fresh("c")
            if not self.on("adopted-leftovers"):
                lab["netns"].append(n)
                return n
        if r.random() < 0.3:
            self.add_sysctl(lab, n)
        if r.random() < 0.2:
            n["dns"] = ["10.%d.0.1" % r.randrange(1, 200)]
        if r.random() < 0.2:
            n["hosts"] = {self.fresh("h"): "10.%d.0.%d" % (r.randrange(1, 200), r.randrange(2, 250))}
        if r.random() < 0.1:
            n["policy"] = {r.choice(["forward", "input", "output"]): r.choice(["drop", "accept"])}
        lab["netns"].append(n)
        return n

    def new_link(self, lab, ns, prefix):
        """A new interface's keys, named PREFIXn, in namespace ns (a random one of the lab's if
        None): the namespace and the keys."""
        ns = ns or self.rng.choice(ns_names(lab))
        d = new({"name": self.fresh(prefix)})
        if ns != "host":
            d["netns"] = ns
        return ns, d

    def add_bridge(self, lab, ns=None):
        r = self.rng
        ns, b = self.new_link(lab, ns, "br")
        if r.random() < 0.7:
            b["addresses"] = self.addrs(self.subnet(lab), 1)
        if r.random() < 0.15 and self.on("bridge-mtu"):
            b["mtu"] = r.choice([1400, 1500, 9000])
        if r.random() < 0.15:
            b["mac"] = self.mac()
        if r.random() < 0.1:
            b["isolate"] = True
        lab["bridge"].append(b)
        return b

    def bridge_subnet(self, lab, br):
        for a in br.get("addresses", []):
            m = re.match(r"10\.(\d+)\.", a) or re.match(r"fd00:(\d+)::", a)
            if m:
                return int(m.group(1))
        # a port's peer's address tells the bridge's segment
        for v in lab["veth"]:
            for end, other in (("a", "b"), ("b", "a")):
                if v[end].get("master") == br["name"] and \
                        v[end].get("netns", "host") == br.get("netns", "host"):
                    for a in v[other].get("addresses", []):
                        m = re.match(r"10\.(\d+)\.", a)
                        if m:
                            return int(m.group(1))
        return None

    def add_veth(self, lab, a_ns=None, to_bridge=None):
        """A veth from a_ns to a bridge (a port), or to another namespace (point to point)."""
        r = self.rng
        nss = ns_names(lab)
        a_ns = a_ns or r.choice(nss)
        brs = lab["bridge"]
        v = new({})
        if (to_bridge is not False) and brs and r.random() < 0.6:
            br = to_bridge or r.choice(brs)
            s = self.bridge_subnet(lab, br) or self.subnet(lab)
            b_ns = br.get("netns", "host")
            if a_ns == b_ns:
                a_ns = r.choice(nss)
            a = {"name": self.iface_name(lab, a_ns, "eth")}
            if a_ns != "host":
                a["netns"] = a_ns
            a["addresses"] = self.addrs(s, r.randrange(10, 250))
            b = {"name": self.fresh("vp"), "master": br["name"]}
            if b_ns != "host":
                b["netns"] = b_ns
        else:
            b_ns = r.choice(nss)
            s = self.subnet(lab)
            a = {"name": self.iface_name(lab, a_ns, "eth")}
            if a_ns != "host":
                a["netns"] = a_ns
            b = {"name": self.iface_name(lab, b_ns, "eth") if b_ns != a_ns else self.fresh("ve")}
            if b_ns != "host":
                b["netns"] = b_ns
            v6 = r.random() < 0.5
            a["addresses"] = self.addrs(s, 1, v6=v6)
            b["addresses"] = self.addrs(s, 2, v6=v6)
        if a["name"] == b["name"] and a.get("netns", "host") == b.get("netns", "host"):
            b["name"] = self.fresh("ve")
        for end in (a, b):
            self.maybe_mtu_mac(end)
        if r.random() < 0.1:
            v["mtu"] = r.choice([1400, 1500, 9000])
        v["a"], v["b"] = a, b
        lab["veth"].append(v)
        return v

    def add_vxlan(self, lab, ns=None):
        r = self.rng
        ns, x = self.new_link(lab, ns, "vx")
        used = {(v.get("netns", "host"), v.get("port", 4789), v["id"]) for v in lab["vxlan"]}
        while True:
            x["id"] = r.randrange(0, 1 << 24) if r.random() < 0.5 else r.randrange(1, 100)
            if (ns, 4789, x["id"]) not in used:
                break
        if r.random() < 0.7:
            x["remote"] = "192.0.2.%d" % r.randrange(1, 255)
        else:
            x["group"] = "239.1.1.%d" % r.randrange(1, 255)
        devs = [i for i in interfaces(lab) if i[0] == ns and i[2] != "vxlan"]
        if "group" in x or r.random() < 0.3:
            if ns == "host" and (not devs or r.random() < 0.5):
                x["dev"] = "eth9"
            elif devs:
                x["dev"] = r.choice(devs)[1]
            else:
                x.pop("group", None)
                x["remote"] = "192.0.2.%d" % r.randrange(1, 255)
        if r.random() < 0.2:
            x["port"] = r.choice([4789, 8472, 4790])
        x["addresses"] = self.addrs(self.subnet(lab), 1, v6=False if not self.on("vxlan-v6") else None)
        brs = bridges_in(lab, ns)
        if brs and r.random() < 0.3:
            x["master"] = r.choice(brs)
            x["addresses"] = []
        if r.random() < 0.15 and ("dev" not in x or self.on("vxlan-mtu")):
            x["mtu"] = r.choice([1280, 1400, 1450])
        lab["vxlan"].append(x)
        return x

    def add_macvlan(self, lab, ns=None):
        r = self.rng
        ns, m = self.new_link(lab, ns, "mv")
        pns = r.choice(ns_names(lab))
        parents = [i for i in interfaces(lab) if i[0] == pns
                   and not iface_dict(i[3], i[4]).get("master") and i[2] != "macvlan"]
        if pns == "host" and (not parents or r.random() < 0.4):
            m["parent"] = "eth9"
        elif parents:
            m["parent"] = r.choice(parents)[1]
        else:
            return None
        if pns != "host":
            m["parent_netns"] = pns
        if r.random() < 0.5:
            m["mode"] = r.choice(["bridge", "private", "vepa"])
        m["addresses"] = self.addrs(self.subnet(lab), r.randrange(2, 250))
        if r.random() < 0.1:
            m["mtu"] = r.choice([1280, 1400])
        if r.random() < 0.15:
            m["mac"] = self.mac()
        lab["macvlan"].append(m)
        return m

    def gateway_for(self, lab, ns, family):
        """A (via, dev) on one of ns's links' subnets, or None."""
        r = self.rng
        cands = []
        for i in interfaces(lab):
            if i[0] != ns:
                continue
            for a in iface_dict(i[3], i[4]).get("addresses", []):
                if (":" in a) == (family == 6):
                    cands.append((i[1], a))
        if not cands:
            return None
        dev, a = r.choice(cands)
        ip, plen = a.split("/")
        if family == 4:
            o = ip.split(".")
            host = r.choice([1, 2, 254, r.randrange(3, 250)])
            if int(plen) < 24 or str(host) != o[3]:
                via = "%s.%s.%s.%d" % (o[0], o[1], o[2], host)
            else:
                via = "%s.%s.%s.%d" % (o[0], o[1], o[2], 253)
        else:
            base = ip.split("::")[0]
            via = "%s::%x" % (base, r.choice([1, 2, 0xfe, r.randrange(3, 250)]))
            if via == ip:
                via = base + "::fd"
        return via, dev

    def add_route(self, lab, ns=None):
        r = self.rng
        ns = ns or r.choice(ns_names(lab))
        fam = 4 if r.random() < 0.65 else 6
        g = self.gateway_for(lab, ns, fam)
        if not g:
            return None
        via, dev = g
        existing = {(x.get("netns", "host"), x["to"], x.get("metric")) for x in lab["route"]}
        if fam == 4:
            to = "default" if r.random() < 0.4 else "172.%d.%d.0/24" % (r.randrange(16, 32), r.randrange(256))
        else:
            to = "::/0" if r.random() < 0.4 else "fd99:%x::/64" % r.randrange(1, 4096)
        rt = new({"to": to})
        if ns != "host":
            rt["netns"] = ns
        how = r.random()
        if how < 0.6:
            rt["via"] = via
        elif how < 0.8:
            rt["dev"] = dev
        else:
            rt["via"], rt["dev"] = via, dev
        if r.random() < 0.3:
            choices = [10, 100, 200]
            if self.on("ipv6-metric-0") or fam == 4:
                choices.append(0)
            rt["metric"] = r.choice(choices)
        if (ns, to, rt.get("metric")) in existing:
            return None
        lab["route"].append(rt)
        return rt

    def settable(self, lab):
        """Namespaces where the lab may set sysctls, files, NAT and filters."""
        return ["host"] + [n["name"] for n in lab["netns"]
                           if not n.get("path") or self.on("adopted-leftovers")]

    def add_nat(self, lab, ns=None):
        r = self.rng
        ns = ns or r.choice(self.settable(lab))
        kind = r.choice(["masquerade", "snat", "dnat"])
        n = new({"kind": kind})
        if ns != "host":
            n["netns"] = ns
        s = r.randrange(1, 200)
        v6 = r.random() < 0.25
        out_names = sorted(names_in(lab, ns) - {"lo"}) or ["eth0"]
        if kind in ("masquerade", "snat"):
            if kind == "snat" or r.random() < 0.7:
                n["source"] = ("fd00:%d::/64" % s) if v6 else ("10.%d.0.0/24" % s)
            if r.random() < 0.5 or "source" not in n:
                o = r.choice(out_names)
                if self.on("nat-negation") and r.random() < 0.3:
                    o = "!" + o
                n["out"] = o
            if kind == "snat":
                n["to"] = ("fd00:%d::99" % s) if v6 else ("10.%d.0.99" % s)
        else:
            n["proto"] = r.choice(["tcp", "udp"])
            n["port"] = r.randrange(1000, 9000)
            t = ("[fd00:%d::5]" % s) if v6 else ("10.%d.0.5" % s)
            n["to"] = t + (":%d" % r.choice([80, 443, 8080]) if r.random() < 0.7 or v6 else "")
            if v6 and not n["to"].startswith("["):
                n["to"] = "[%s]:80" % t
            if r.random() < 0.3:
                n["in"] = r.choice(out_names)
        lab["nat"].append(n)
        return n

    def add_filter(self, lab, ns=None):
        r = self.rng
        ns = ns or r.choice(self.settable(lab))
        f = new({"chain": r.choice(["forward", "input", "output"]),
                 "action": r.choice(["accept", "drop", "reject"])})
        if ns != "host":
            f["netns"] = ns
        names = sorted(names_in(lab, ns) - {"lo"}) or ["eth0"]
        if f["chain"] != "output" and r.random() < 0.4:
            f["in"] = ("!" if r.random() < 0.2 else "") + r.choice(names)
        if f["chain"] != "input" and r.random() < 0.3:
            f["out"] = ("!" if r.random() < 0.2 else "") + r.choice(names)
        v6 = r.random() < 0.3
        if r.random() < 0.5:
            p = ("fd00:%d::/64" if v6 else "10.%d.0.0/24") % r.randrange(1, 200)
            f["source"] = ("!" if r.random() < 0.2 else "") + p
        if r.random() < 0.3:
            f["destination"] = ("fd00:%d::/64" if v6 else "10.%d.0.0/24") % r.randrange(1, 200)
        if r.random() < 0.5:
            f["proto"] = r.choice(["tcp", "udp", "icmpv6" if v6 else "icmp"])
            if f["proto"] in ("tcp", "udp") and r.random() < 0.7:
                f["port"] = r.choice([80, "1000-2000", [22, "8000-8080"]])
        if r.random() < 0.3:
            f["state"] = r.choice(["established", ["established", "related"], "new"])
        lab["filter"].append(f)
        return f

    HOST_SYSCTLS = [("net.ipv4.ip_forward", [0, 1]), ("net.ipv6.conf.all.forwarding", [0, 1]),
                    ("net.ipv4.conf.all.rp_filter", [0, 1, 2]),
                    ("net.ipv4.ip_default_ttl", [32, 64, 128]),
                    ("net.ipv4.icmp_echo_ignore_all", [0, 1])]

    def add_sysctl(self, lab, holder):
        r = self.rng
        ns = "host" if holder is lab["host"] else holder["name"]
        keys = list(self.HOST_SYSCTLS)
        if self.on("iface-sysctl"):
            for i in interfaces(lab):
                if i[0] == ns:
                    keys.append(("net.ipv4.conf.%s.rp_filter" % i[1], [0, 1, 2]))
        if self.on("disable-ipv6") and ns != "host":
            keys.append(("net.ipv6.conf.all.disable_ipv6", [0, 1]))
        k, vals = r.choice(keys)
        holder.setdefault("sysctl", {})[k] = r.choice(vals)

    def lab(self):
        r = self.rng
        lab = empty_lab()
        for _ in range(r.randrange(1, 5)):
            self.add_netns(lab)
        for _ in range(r.randrange(0, 3)):
            self.add_bridge(lab)
        for n in list(lab["netns"]):
            if r.random() < 0.8:
                self.add_veth(lab, a_ns=n["name"])
        for _ in range(r.randrange(0, 2)):
            self.add_veth(lab, to_bridge=False)
        for _ in range(r.randrange(0, 2)):
            self.add_vxlan(lab)
        for _ in range(r.randrange(0, 2)):
            self.add_macvlan(lab)
        for _ in range(r.randrange(0, 5)):
            self.add_route(lab)
        for _ in range(r.randrange(0, 3)):
            self.add_nat(lab)
        for _ in range(r.randrange(0, 3)):
            self.add_filter(lab)
        for _ in range(r.randrange(0, 3)):
            self.add_sysctl(lab, lab["host"])
        if r.random() < 0.3:
            for _ in range(r.randrange(1, 4)):
                self.add_p2p(lab)
        if r.random() < 0.3:
            lab["routing"] = True
        return lab

    def add_p2p(self, lab):
        """A [[link]] between two namespaces of the lab (host now and then), its addresses from
        the pools."""
        r = self.rng
        names = [n["name"] for n in lab["netns"]]
        if r.random() < 0.2:
            names.append("host")
        if len(names) < 2:
            return None
        p = new({"ends": r.sample(names, 2)})
        if r.random() < 0.15:
            p["mtu"] = r.choice([1400, 9000])
        lab["link"].append(p)
        return p

    # -- edits: each changes lab in place and returns a description, or None if it cannot
    def edits(self):
        return [
            ("add-netns", 3, self.e_add_netns), ("remove-netns", 2, self.e_remove_netns),
            ("rename-netns", 2, self.e_rename_netns), ("add-link", 4, self.e_add_link),
            ("remove-link", 3, self.e_remove_link), ("rename-link", 3, self.e_rename_link),
            ("change-address", 4, self.e_change_address), ("change-prefix", 2, self.e_change_prefix),
            ("add-address", 2, self.e_add_address), ("remove-address", 2, self.e_remove_address),
            ("change-kind", 3, self.e_change_kind), ("move-port", 3, self.e_move_port),
            ("move-netns", 3, self.e_move_netns), ("mtu", 3, self.e_mtu), ("mac", 2, self.e_mac),
            ("sysctl", 3, self.e_sysctl), ("nat", 3, self.e_nat), ("filter", 3, self.e_filter),
            ("policy", 1, self.e_policy), ("route", 4, self.e_route), ("files", 2, self.e_files),
            ("vxlan-id", 1, self.e_vxlan_id), ("link-local", 1, self.e_link_local),
            ("add-p2p", 2, self.e_add_p2p), ("remove-p2p", 2, self.e_remove_p2p),
            ("routing", 1, self.e_routing), ("shape", 2, self.e_shape),
        ]

    # Rates only: a tbf. netem (delay, loss...) is not in every kernel (nor in CI's).
    RATES = ["1mbit", "10mbit", "20mbit", "100mbit", "1gbit"]

    def e_shape(self, lab):
        """A rate on a veth end or a [[link]] set, changed or taken away."""
        r = self.rng
        ends = [(v, e) for v in lab["veth"] for e in ("a", "b")]
        if lab["link"] and (not ends or r.random() < 0.4):
            d = r.choice(lab["link"])
            what = "[[link]] %s - %s" % tuple(d["ends"])
        elif ends:
            v, e = r.choice(ends)
            d = v[e]
            what = "%s/%s" % (d.get("netns", "host"), d["name"])
        else:
            return None
        if "shape" in d and r.random() < 0.4:
            del d["shape"]
            return "take the shape of %s" % what
        d["shape"] = {"rate": r.choice(self.RATES)}
        return "shape %s to %s" % (what, d["shape"]["rate"])

    def e_add_p2p(self, lab):
        p = self.add_p2p(lab)
        return p and "add [[link]] %s - %s" % tuple(p["ends"])

    def e_remove_p2p(self, lab):
        if not lab["link"]:
            return None
        p = self.rng.choice(lab["link"])
        remove_element(lab, "link", p)
        return "remove [[link]] %s - %s" % tuple(p["ends"])

    def e_routing(self, lab):
        if lab.pop("routing", None):
            return "routing none"
        lab["routing"] = True
        return "routing static"

    def pick_edit(self):
        es = [e for e in self.edits() if self.on(EDIT_GATES.get(e[0], ""))]
        total = sum(w for _, w, _ in es)
        x = self.rng.uniform(0, total)
        for name, w, f in es:
            x -= w
            if x <= 0:
                return name, f
        return es[-1][0], es[-1][2]

    def e_add_netns(self, lab):
        n = self.add_netns(lab)
        self.add_veth(lab, a_ns=n["name"])
        return "add netns %s with a veth" % n["name"]

    def e_remove_netns(self, lab):
        if not lab["netns"]:
            return None
        cands = [n for n in lab["netns"] if not n.get("path") or self.on("adopted-leftovers")]
        if not cands:
            return None
        n = self.rng.choice(cands)
        remove_element(lab, "netns", n)
        return "remove netns %s" % n["name"]

    def rename_ns_refs(self, lab, old, newname):
        for kind in KINDS:
            for e in lab[kind]:
                if e.get("netns") == old:
                    e["netns"] = newname
                if e.get("parent_netns") == old:
                    e["parent_netns"] = newname
        for v in lab["veth"]:
            for end in ("a", "b"):
                if v[end].get("netns") == old:
                    v[end]["netns"] = newname
        for p in lab["link"]:
            p["ends"] = [newname if x == old else x for x in p["ends"]]

    def e_rename_netns(self, lab):
        if not lab["netns"]:
            return None
        n = self.rng.choice(lab["netns"])
        old = n["name"]
        n["name"] = self.fresh("c" if n.get("path") else "n")
        self.rename_ns_refs(lab, old, n["name"])
        return "rename netns %s -> %s" % (old, n["name"])

    def e_add_link(self, lab):
        kind = self.rng.choice(["bridge", "veth", "veth", "vxlan", "macvlan"])
        e = getattr(self, "add_" + kind)(lab)
        return e and "add %s" % kind

    def e_remove_link(self, lab):
        kind = self.rng.choice(["bridge", "veth", "vxlan", "macvlan"])
        if not lab[kind]:
            return None
        e = self.rng.choice(lab[kind])
        remove_element(lab, kind, e)
        return "remove %s %s" % (kind, e.get("name") or e["a"]["name"])

    def e_rename_link(self, lab):
        picked = self.pick_interface(lab)
        if not picked:
            return None
        ns, name, kind, holder, d = picked
        newname = self.fresh(name.rstrip("0123456789")[:4] or "x")
        d["name"] = newname
        for i in interfaces(lab):
            if i[0] == ns:
                dd = iface_dict(i[3], i[4])
                if dd.get("master") == name:
                    dd["master"] = newname
                if dd.get("dev") == name:
                    dd["dev"] = newname
        for m in lab["macvlan"]:
            if m.get("parent_netns", "host") == ns and m["parent"] == name:
                m["parent"] = newname
        for rt in lab["route"]:
            if rt.get("netns", "host") == ns and rt.get("dev") == name:
                rt["dev"] = newname
        holder = lab["host"] if ns == "host" else next((x for x in lab["netns"] if x["name"] == ns), {})
        for k in list(holder.get("sysctl", {})):
            if k.startswith("net.ipv4.conf.%s." % name):
                holder["sysctl"]["net.ipv4.conf.%s.%s" % (newname, k.rsplit(".", 1)[1])] = holder["sysctl"].pop(k)
        return "rename %s %s/%s -> %s" % (kind, ns, name, newname)

    def pick_address(self, lab):
        """A random address of one of the lab's interfaces: the interface (as interfaces()
        gives it), the address and the dict of the interface's keys; None when there is none."""
        c = [(i, a) for i in interfaces(lab) for a in iface_dict(i[3], i[4]).get("addresses", [])]
        if not c:
            return None
        i, a = self.rng.choice(c)
        return i, a, iface_dict(i[3], i[4])

    def pick_interface(self, lab, but=None):
        """A random interface of the lab, of any kind but `but`: its namespace, name and kind,
        the entry that holds it and the dict of its keys; None when there is none."""
        ifs = [i for i in interfaces(lab) if i[2] != but]
        if not ifs:
            return None
        ns, name, kind, holder, end = self.rng.choice(ifs)
        return ns, name, kind, holder, iface_dict(holder, end)

    def e_change_address(self, lab):
        picked = self.pick_address(lab)
        if not picked:
            return None
        i, a, d = picked
        ip, plen = a.split("/")
        h = self.rng.randrange(2, 250)
        if ":" in ip:
            na = "%s::%x/%s" % (ip.split("::")[0], h, plen)
        else:
            na = "%s.%d/%s" % (ip.rsplit(".", 1)[0], h, plen)
        if na in all_addresses(lab):
            return None
        return replaced_address(i, d, a, na, "change address")

    def e_change_prefix(self, lab):
        picked = self.pick_address(lab)
        if not picked:
            return None
        i, a, d = picked
        ip = a.split("/")[0]
        np = self.rng.choice([16, 20, 24, 25, 28]) if ":" not in ip else self.rng.choice([48, 56, 64, 80])
        na = "%s/%d" % (ip, np)
        return replaced_address(i, d, a, na, "change prefix")

    def e_add_address(self, lab):
        picked = self.pick_interface(lab)
        if not picked:
            return None
        ns, name, _, _, d = picked
        if d.get("master"):
            return None
        same = [a for a in d.get("addresses", []) if ":" not in a]
        if same and self.on("same-subnet") and self.rng.random() < 0.5:
            ip, plen = same[0].split("/")
            na = "%s.%d/%s" % (ip.rsplit(".", 1)[0], self.rng.randrange(2, 250), plen)
        else:
            s = self.subnet(lab)
            na = self.addrs(s, self.rng.randrange(2, 250), v4=self.rng.random() < 0.6)
            na = (na or ["fd00:%d::7/64" % s])[0]
        if na in all_addresses(lab):
            return None
        d["addresses"] = d.get("addresses", []) + [na]
        return "add address %s to %s/%s" % (na, ns, name)

    def e_remove_address(self, lab):
        picked = self.pick_address(lab)
        if not picked:
            return None
        i, a, d = picked
        d["addresses"] = [x for x in d["addresses"] if x != a]
        return "remove address %s from %s/%s" % (a, i[0], i[1])

    def e_change_kind(self, lab):
        """A single interface keeps its name, namespace, addresses and master, and becomes
        another kind: veth end -> macvlan or vxlan, macvlan/vxlan -> veth to host."""
        picked = self.pick_interface(lab, but="bridge")
        if not picked:
            return None
        ns, name, kind, holder, d = picked
        keep = {k: d[k] for k in ("addresses", "master", "mtu", "mac") if k in d}
        remove_element(lab, kind, holder)
        targets = [k for k in ("veth", "macvlan", "vxlan") if k != kind]
        is_parent = any(m["parent"] == name and m.get("parent_netns", "host") == ns for m in lab["macvlan"])
        if is_parent and not self.on("macvlan-on-macvlan"):
            targets = [k for k in targets if k != "macvlan"]
        target = self.rng.choice(targets)
        if target == "veth":
            peer_ns = self.rng.choice([n for n in ns_names(lab)])
            a = dict({"name": name}, **keep)
            if ns != "host":
                a["netns"] = ns
            b = {"name": self.fresh("ve")}
            if peer_ns != "host":
                b["netns"] = peer_ns
            lab["veth"].append(new({"a": a, "b": b}))
        elif target == "macvlan":
            m = self.add_macvlan(lab, ns=ns)
            if not m:
                return None
            m["name"] = name
            m.pop("mac", None)
            m.pop("mtu", None)
            m.update(keep)
            if m.get("parent") == "eth9" and m.get("mtu", 0) > 1500:
                m.pop("mtu")  # above the machine's eth9 (1500), which topo validate cannot know: plan refuses it
        else:
            x = self.add_vxlan(lab, ns=ns)
            x["name"] = name
            x.pop("mtu", None)
            x.update(keep)
            x.pop("mac", None)
            if x.get("dev") == "eth9" and x.get("mtu", 0) > 1450:
                x.pop("mtu")  # more than the machine's eth9 leaves (see e_mtu)
        return "change kind of %s/%s: %s -> %s" % (ns, name, kind, target)

    def e_move_port(self, lab):
        picked = self.pick_interface(lab, but="bridge")
        if not picked:
            return None
        ns, name, kind, holder, d = picked
        brs = [b for b in bridges_in(lab, ns) if b != d.get("master")]
        if brs and self.rng.random() < 0.7:
            old = d.get("master")
            d["master"] = self.rng.choice(brs)
            return "move %s/%s from bridge %s to %s" % (ns, name, old, d["master"])
        if d.get("master"):
            old = d.pop("master")
            return "take %s/%s out of bridge %s" % (ns, name, old)
        return None

    def e_move_netns(self, lab):
        picked = self.pick_interface(lab)
        if not picked:
            return None
        ns, name, kind, holder, d = picked
        other = [n for n in ns_names(lab) if n != ns]
        if not other:
            return None
        to = self.rng.choice(other)
        if name in names_in(lab, to):
            return None
        if to == "host":
            d.pop("netns", None)
        else:
            d["netns"] = to
        d.pop("master", None)
        if kind == "bridge":
            for i in interfaces(lab):
                dd = iface_dict(i[3], i[4])
                if i[0] == ns and dd.get("master") == name:
                    dd.pop("master")
        return "move %s %s from %s to %s" % (kind, name, ns, to)

    def e_mtu(self, lab):
        picked = self.pick_interface(lab)
        if not picked:
            return None
        ns, name, kind, holder, d = picked
        if kind == "bridge" and not self.on("bridge-mtu"):
            return None
        if kind == "vxlan" and d.get("dev") and not self.on("vxlan-mtu"):
            return None
        lower = any(m["parent"] == name and m.get("parent_netns", "host") == ns for m in lab["macvlan"]) or \
            any(x.get("dev") == name and x.get("netns", "host") == ns for x in lab["vxlan"])
        if lower and not self.on("key-removal"):
            return None
        if "mtu" in d and self.rng.random() < 0.5:
            if not self.on("key-removal"):
                return None
            old = d.pop("mtu")
            return "remove mtu %s of %s/%s" % (old, ns, name)
        choices = [1280, 1400, 1500, 9000] if kind != "macvlan" else [1280, 1400]
        if kind == "vxlan" and d.get("dev") == "eth9":
            # The machine's own underlay (mtu 1500): topo validate cannot know its mtu, and
            # plan refuses more than it leaves after 50 bytes of VXLAN headers.
            choices = [1280, 1400, 1450]
        d["mtu"] = self.rng.choice(choices)
        return "set mtu %d on %s/%s" % (d["mtu"], ns, name)

    def e_mac(self, lab):
        picked = self.pick_interface(lab)
        if not picked:
            return None
        ns, name, kind, holder, d = picked
        if "mac" in d and self.rng.random() < 0.5:
            old = d.pop("mac")
            return "remove mac %s of %s/%s" % (old, ns, name)
        d["mac"] = self.mac()
        return "set mac %s on %s/%s" % (d["mac"], ns, name)

    def e_link_local(self, lab):
        picked = self.pick_interface(lab)
        if not picked:
            return None
        ns, name, kind, holder, d = picked
        if d.pop("link_local", True) is False:
            return "give %s/%s its link-local address back" % (ns, name)
        d["link_local"] = False
        return "take the link-local address of %s/%s" % (ns, name)

    def holders(self, lab):
        return [lab["host"]] + [n for n in lab["netns"] if not n.get("path") or self.on("adopted-leftovers")]

    def e_sysctl(self, lab):
        holders = self.holders(lab)
        h = self.rng.choice(holders)
        where = "host" if h is lab["host"] else h["name"]
        if h.get("sysctl") and self.rng.random() < 0.4 and self.on("sysctl-removal"):
            k = self.rng.choice(sorted(h["sysctl"]))
            del h["sysctl"][k]
            return "remove sysctl %s in %s" % (k, where)
        self.add_sysctl(lab, h)
        return "set a sysctl in %s" % where

    def change_or_remove(self, lab, kind, add):
        r = self.rng
        x = r.random()
        if lab[kind] and x < 0.35:
            e = r.choice(lab[kind])
            remove_element(lab, kind, e)
            return "remove a %s" % kind
        if lab[kind] and x < 0.6:
            e = r.choice(lab[kind])
            i = lab[kind].index(e)
            remove_element(lab, kind, e)
            e2 = add(lab, ns=e.get("netns"))
            if e2 is None:
                return None
            lab[kind].remove(e2)
            lab[kind].insert(i, e2)
            e2["_id"] = e["_id"]
            return "change a %s" % kind
        return add(lab) and "add a %s" % kind

    def e_nat(self, lab):
        return self.change_or_remove(lab, "nat", self.add_nat)

    def e_filter(self, lab):
        return self.change_or_remove(lab, "filter", self.add_filter)

    def e_route(self, lab):
        return self.change_or_remove(lab, "route", self.add_route)

    def e_policy(self, lab):
        h = self.rng.choice(self.holders(lab))
        pol = h.setdefault("policy", {})
        k = self.rng.choice(["forward", "input", "output"])
        if k in pol:
            del pol[k]
        else:
            pol[k] = self.rng.choice(["drop", "accept"])
        return "policy %s" % k

    def e_files(self, lab):
        ns = self.holders(lab)[1:]
        if not ns:
            return None
        n = self.rng.choice(ns)
        r = self.rng
        if r.random() < 0.5:
            n["dns"] = [] if n.get("dns") and r.random() < 0.4 else \
                ["10.%d.0.%d" % (r.randrange(1, 200), r.randrange(1, 250)) for _ in range(r.randrange(1, 4))]
        else:
            n["hosts"] = {} if n.get("hosts") and r.random() < 0.4 else \
                {self.fresh("h"): "fd00:%d::%x" % (r.randrange(1, 200), r.randrange(1, 250))
                 for _ in range(r.randrange(1, 3))}
        return "change files of %s" % n["name"]

    def e_vxlan_id(self, lab):
        if not lab["vxlan"]:
            return None
        x = self.rng.choice(lab["vxlan"])
        x["id"] = self.rng.randrange(1, 1 << 24)
        return "change vxlan %s id to %d" % (x["name"], x["id"])


# ---------------------------------------------------------------------------------------
# Running and checking.

class Failure(Exception):
    def __init__(self, check, message, scenario):
        super().__init__(message)
        self.check = check
        self.message = message
        self.scenario = scenario


class Runner:
    def __init__(self, topo, tmpdir, log):
        self.topo = topo
        self.tmpdir = tmpdir
        self.log = log
        self.nfile = 0
        self.spare = None

    def sandbox(self):
        """A new sandbox; the next one starts meanwhile (a sandbox takes ~1 s to make)."""
        sb = self.spare or Sandbox()
        self.spare = Sandbox()
        return sb

    def close(self):
        if self.spare:
            self.spare.close()
            self.spare = None

    def write(self, lab):
        self.nfile += 1
        path = os.path.join(self.tmpdir, "lab-%d.toml" % self.nfile)
        with open(path, "w") as f:
            f.write(render(lab)[0])
        return path

    def fresh_lines(self, lab, path):
        """The normalised dump of lab applied in a new sandbox, and whether it converged."""
        sb = self.sandbox()
        try:
            rc, out, err = sb.run([self.topo, "apply", "-q", path])
            if rc != 0:
                return None, "fresh apply exited %d: %s" % (rc, (out + err).strip())
            rc, out, err = sb.run([self.topo, "plan", "--detailed-exitcode", path])
            if rc != 0:
                return None, "plan after a fresh apply exited %d:\n%s" % (rc, (out + err).strip())
            macs = mac_set(lab)
            return normalize(sb.dump(), lambda ns, n: (ns, n) in macs, False), None
        finally:
            sb.close()


def plan_steps(sb, topo, path):
    rc, out, err = sb.run([topo, "plan", "--format", "json", path])
    if rc != 0:
        return 0
    try:
        return len(json.loads(out).get("steps", []))
    except ValueError:
        return 0


def nat_batches(sb, topo, path):
    rc, out, err = sb.run([topo, "plan", "--format", "json", path])
    try:
        return sum(1 for s in json.loads(out).get("steps", []) if s.get("object") in ("nat", "nft", "table", "nat-table"))
    except ValueError:
        return 0


def run_scenario(runner, labs, final, fault, check_only=None):
    """Replays labs[0..n-1] (each applied in turn) in a new sandbox, then the final action on
    the last lab, checking what `final` names. Raises Failure; returns None when all hold.
    final: "apply" (apply labs[-1], with fault = None or (kind, k), and check it), "destroy"."""
    topo = runner.topo
    sb = runner.sandbox()
    try:
        base = None
        if final == "destroy":
            base = normalize(sb.dump(), lambda ns, n: True)
        for i, lab in enumerate(labs):
            path = runner.write(lab)
            last = i == len(labs) - 1
            if last and final == "apply":
                step_check(runner, sb, labs[i - 1] if i else None, lab, path, fault, check_only, labs)
            else:
                rc, out, err = sb.run([topo, "apply", "-q", path])
                if rc != 0:
                    raise Failure("setup", "apply of version %d exited %d: %s" % (i + 1, rc, (out + err).strip()), None)
        if final == "destroy":
            destroy_check(runner, sb, labs, base, fault)
    finally:
        sb.close()


def step_check(runner, sb, old, lab, path, fault, check_only, labs):
    """Applies lab (after an injected fault when fault is set) in sb and checks everything."""
    topo = runner.topo

    def fail(check, msg):
        raise Failure(check, msg, (labs, "apply", fault))

    if fault:
        kind, k = fault
        env = {"fail": "TOPO_TEST_FAIL_STEP", "kill": "TOPO_TEST_KILL_STEP", "nft": "TOPO_TEST_FAIL_NFT"}[kind]
        before = normalize(sb.dump(), lambda ns, n: True)
        rc, out, err = sb.run([topo, "apply", "-q", path], env={env: str(k)})
        if kind == "kill":
            if rc not in (-9, 137, 0):
                fail("kill", "apply killed before step %d exited %d: %s" % (k, rc, (out + err).strip()))
        else:
            if rc == 0:
                pass  # fewer kernel steps (or no NAT batch) than asked: an ordinary apply
            elif rc != 1:
                fail("rollback", "apply with %s=%d exited %d (not 1):\n%s" % (env, k, rc, (out + err).strip()))
            else:
                after = normalize(sb.dump(), lambda ns, n: True)
                if after != before:
                    # A link the old file makes without a MAC may come back with a new one.
                    names = lab_links(old) if old else set()
                    b2 = normalize_lines_macs(before, names)
                    a2 = normalize_lines_macs(after, names)
                    if a2 != b2:
                        fail("rollback", "apply with %s=%d rolled back (exit 1) but the kernel is not as it was:\n%s"
                             % (env, k, diff_lines(b2, a2, "before", "after rollback")))
                if old is not None:
                    oldpath = runner.write(old)
                    rc2, o2, e2 = sb.run([topo, "plan", "--detailed-exitcode", oldpath])
                    if rc2 != 0:
                        fail("rollback", "after the rollback, plan of the previous file exited %d:\n%s" % (rc2, (o2 + e2).strip()))
    if check_only == "fault-only":
        return
    rc, out, err = sb.run([topo, "apply", "-q", path])
    runner_stats.applies += 1
    if rc != 0:
        fail("apply", "apply exited %d:\n%s" % (rc, (out + err).strip()))
    rc, out, err = sb.run([topo, "plan", "--detailed-exitcode", path])
    if rc != 0:
        fail("plan", "plan after apply exited %d (changes pending):\n%s" % (rc, (out + err).strip()))
    macs = mac_set(lab)
    mine = normalize(sb.dump(), lambda ns, n: (ns, n) in macs, False)
    fresh, why = runner.fresh_lines(lab, path)
    if why:
        fail("fresh", why)
    if mine != fresh:
        fail("fresh", "the kernel differs from a fresh apply of the same file:\n%s"
             % diff_lines(fresh, mine, "fresh apply", "incremental apply"))


def lab_links(lab):
    macs = mac_set(lab)
    labels = {"host": "host"}
    for n in lab["netns"]:
        labels[n["name"]] = ("adopted:" + os.path.basename(n["path"])) if n.get("path") else n["name"]
    return {(labels.get(i[0], i[0]), i[1]) for i in interfaces(lab)} - macs


def normalize_lines_macs(lines, names):
    """Masks the MACs in link lines of the given (ns label, name)s."""
    out, ns = [], None
    for l in lines:
        if l.startswith("== "):
            ns = l[3:]
        elif l.startswith("link ") and (ns, l.split()[1]) in names:
            l = re.sub(r'"(address|perm_address)": "%s([0-9a-f]{2}:){5}[0-9a-f]{2}"'
                       % ("(?!00:00:00:00:00:00)" if ZERO_MAC_COUNTS else ""), r'"\1": "<mac>"', l)
        out.append(l)
    return out


DESTROY_CHECKS_ADOPTED = True  # off unless --enable adopted-leftovers


def without_adopted(lines):
    out, skip = [], False
    for l in lines:
        if l.startswith("== "):
            skip = l.startswith("== adopted:")
        if not skip:
            out.append(l)
    return out


def destroy_check(runner, sb, labs, base, fault=None):
    """Destroys the lab (after a failed or killed destroy when fault is set) and checks that
    the sandbox is as before the first apply."""
    path = runner.write(labs[-1])
    scenario = (labs, "destroy", fault)
    if fault:
        kind, k = fault
        env = {"fail": "TOPO_TEST_FAIL_STEP", "kill": "TOPO_TEST_KILL_STEP"}[kind]
        before = normalize(sb.dump(), lambda ns, n: True)
        rc, out, err = sb.run([runner.topo, "destroy", "-q", path], env={env: str(k)})
        if kind == "fail" and rc == 1:
            after = normalize(sb.dump(), lambda ns, n: True)
            names = lab_links(labs[-1])
            b2, a2 = normalize_lines_macs(before, names), normalize_lines_macs(after, names)
            if a2 != b2:
                raise Failure("destroy-rollback", "destroy with %s=%d rolled back (exit 1) but the kernel is "
                              "not as it was:\n%s" % (env, k, diff_lines(b2, a2, "before", "after rollback")),
                              scenario)
        elif rc not in (0, -9, 137):
            raise Failure("destroy-rollback", "destroy with %s=%d exited %d:\n%s" % (env, k, rc, (out + err).strip()),
                          scenario)
    rc, out, err = sb.run([runner.topo, "destroy", "-q", path])
    if rc != 0:
        raise Failure("destroy", "destroy exited %d:\n%s" % (rc, (out + err).strip()), scenario)
    after = normalize(sb.dump(), lambda ns, n: True)
    if not DESTROY_CHECKS_ADOPTED:
        after, base = without_adopted(after), without_adopted(base)
    if after != base:
        raise Failure("destroy", "after destroy the sandbox is not as before the first apply:\n%s"
                      % diff_lines(base, after, "before", "after destroy"), scenario)


runner_stats = Stats()


# ---------------------------------------------------------------------------------------
# Shrinking.

def still_fails(runner, labs, final, fault, check):
    for lab in labs:
        if validate(runner.topo, lab, runner.tmpdir):
            return False
    try:
        run_scenario(runner, labs, final, fault)
    except Failure as f:
        return f.check == check
    return False


def element_keys(lab):
    """(what, uid-or-key) of everything that can be dropped: elements, optional keys."""
    out = []
    if lab.get("routing"):
        out.append(("routing", None))
    for kind in KINDS:
        for e in lab[kind]:
            out.append(("elem", e["_id"]))
    for k in lab["host"].get("sysctl", {}):
        out.append(("hostsysctl", k))
    for k in lab["host"].get("policy", {}):
        out.append(("hostpolicy", k))
    for kind in KINDS:
        for e in lab[kind]:
            for k in e:
                if k in ("mtu", "mac", "master", "metric", "dev", "sysctl", "dns", "hosts", "policy",
                         "port", "mode", "isolate", "state", "in", "out", "destination", "local") \
                        and not (kind == "route" and k == "dev" and "via" not in e) \
                        and not (kind == "nat" and k in ("port",)):
                    out.append(("key", (e["_id"], k)))
                if kind == "veth" and k in ("a", "b"):
                    for kk in e[k]:
                        if kk in ("mtu", "mac", "master", "addresses"):
                            out.append(("endkey", (e["_id"], k, kk)))
            if "addresses" in e and e["addresses"]:
                out.append(("key", (e["_id"], "addresses")))
    return out


def drop_thing(lab, what, x):
    lab = copy.deepcopy(lab)
    if what == "elem":
        kind, e = find_by_id(lab, x)
        if e is not None:
            remove_element(lab, kind, e)
    elif what == "routing":
        lab.pop("routing", None)
    elif what == "hostsysctl":
        lab["host"].get("sysctl", {}).pop(x, None)
    elif what == "hostpolicy":
        lab["host"].get("policy", {}).pop(x, None)
    elif what == "key":
        kind, e = find_by_id(lab, x[0])
        if e is not None:
            e.pop(x[1], None)
    elif what == "endkey":
        kind, e = find_by_id(lab, x[0])
        if e is not None:
            e[x[1]].pop(x[2], None)
    return lab


def shrink(runner, failure, deadline):
    labs, final, fault = failure.scenario
    check = failure.check
    tries = 0

    def ok(cand, f=fault):
        nonlocal tries
        tries += 1
        return time.time() < deadline and still_fails(runner, cand, final, f, check)

    # 1. fewer lab versions: the last alone, then the last few, then one at a time.
    for m in (1, 2, 3, 5, 8):
        if m < len(labs) and ok(labs[-m:]):
            labs = labs[-m:]
            break
    # then chunks of earlier versions, halving the chunk (each try replays every version, so
    # dropping one at a time from a hundred would take hours)
    chunk = max(1, (len(labs) - 1) // 2)
    while chunk >= 1 and time.time() < deadline:
        i = 0
        while i < len(labs) - 1 and time.time() < deadline:
            cand = labs[:i] + labs[min(i + chunk, len(labs) - 1):]
            if len(cand) < len(labs) and ok(cand):
                labs = cand
            else:
                i += chunk
        chunk //= 2
    # 2. without the fault, when it still fails.
    if fault and ok(labs, None):
        fault = None
    # 3. fewer elements and keys, dropped from every version at once.
    changed = True
    while changed and time.time() < deadline:
        changed = False
        things = []
        for lab in labs:
            for t in element_keys(lab):
                if t not in things:
                    things.append(t)
        for what, x in things:
            if time.time() >= deadline:
                break
            cand = []
            for lab in labs:
                c = drop_thing(lab, what, x)
                good, _ = repair(runner.topo, c, runner.tmpdir)
                if not good:
                    break
                cand.append(c)
            if len(cand) != len(labs) or all(render(a)[0] == render(b)[0] for a, b in zip(cand, labs)):
                continue
            if ok(cand):
                labs = cand
                changed = True
    # the final message of the shrunk case
    try:
        run_scenario(runner, labs, final, fault)
        msg = failure.message
    except Failure as f:
        msg = f.message
    return labs, final, fault, msg, tries


def repro_text(labs, final, fault, check, msg, seed, topo):
    env = {None: "", "fail": "TOPO_TEST_FAIL_STEP", "kill": "TOPO_TEST_KILL_STEP",
           "nft": "TOPO_TEST_FAIL_NFT"}
    out = ["# evolve: minimal reproduction (seed %d, check '%s')" % (seed, check), ""]
    out.append("Run as root in the repository: `scripts/sandbox bash repro.sh`, with each lab "
               "file below saved as N.toml. The sandbox has what tests/evolve/evolve.py makes "
               "first: namespaces mounted at %s (lo up) and a veth eth9 in host whose peer "
               "is dm0 in c1." % ", ".join(ADOPT_PATHS))
    out.append("")
    for i, lab in enumerate(labs):
        out.append("## %d.toml" % (i + 1))
        out.append("```toml")
        out.append(render(lab)[0].rstrip())
        out.append("```")
    out.append("## repro.sh")
    out.append("```sh")
    out.append("mkdir -p %s" % ADOPT_DIR)
    for p in ADOPT_PATHS:
        out.append("touch %s && unshare --net=%s true && nsenter --net=%s ip link set lo up" % (p, p, p))
    out.append("ip link add eth9 address 02:99:00:00:00:01 type veth peer name dm0 address 02:99:00:00:00:02 netns %s" % ADOPT_PATHS[0])
    out.append("ip link set eth9 up && nsenter --net=%s ip link set dm0 up" % ADOPT_PATHS[0])
    n = len(labs)
    for i in range(1, n):
        out.append("topo apply %d.toml" % i)
    if final == "apply":
        if fault:
            out.append("%s=%d topo apply %d.toml   # expected: %s" % (
                env[fault[0]], fault[1], n,
                "killed, then the next apply converges" if fault[0] == "kill" else "exit 1, the kernel as before"))
        out.append("topo apply %d.toml" % n)
        out.append("topo plan --detailed-exitcode %d.toml   # expected: exit 0" % n)
        out.append("# expected: the kernel equals a fresh apply of %d.toml in a new sandbox" % n)
    else:
        out.append("topo apply %d.toml" % n)
        if fault:
            out.append("%s=%d topo destroy %d.toml   # expected: %s" % (
                env[fault[0]], fault[1], n,
                "killed" if fault[0] == "kill" else "exit 1, the kernel as before"))
        out.append("topo destroy %d.toml   # expected: the sandbox as before the first apply" % n)
    out.append("```")
    out.append("## What happens")
    out.append("```")
    out.append(msg.rstrip())
    out.append("```")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------

def log(*a):
    print(*a, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--topo", default=os.path.join(ROOT, "build", "topo"))
    ap.add_argument("--enable", action="append", default=[], metavar="NAME",
                    help="turn on a known-failing feature (or 'all')")
    ap.add_argument("--fault-rate", type=float, default=0.25,
                    help="fraction of steps with an injected failure or kill (default 0.25)")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--keep-going", action="store_true",
                    help="after a failure, log it and go on from the same lab in a new sandbox (no shrinking)")
    ap.add_argument("--shrink-seconds", type=int, default=600)
    ap.add_argument("--repro", default=None, help="where to write a reproduction (default evolve-repro-SEED.md)")
    ap.add_argument("--list-known-failing", action="store_true")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    if args.serve:
        serve()
        return 0
    if args.list_known_failing:
        for k, v in KNOWN_FAILING.items():
            print("%-16s %s" % (k, v))
        return 0
    if os.geteuid() != 0:
        print("evolve: needs root (it runs topo in scripts/sandbox)", file=sys.stderr)
        return 1
    topo = os.path.abspath(args.topo)
    enabled = set(args.enable)
    if "all" in enabled:
        enabled = set(KNOWN_FAILING)
    unknown = enabled - set(KNOWN_FAILING)
    if unknown:
        print("evolve: unknown --enable %s (see --list-known-failing)" % ", ".join(sorted(unknown)), file=sys.stderr)
        return 2
    global ZERO_MAC_COUNTS, DESTROY_CHECKS_ADOPTED
    ZERO_MAC_COUNTS = is_on("bridge-mac", enabled)
    DESTROY_CHECKS_ADOPTED = is_on("adopted-leftovers", enabled)
    rng = random.Random(args.seed)
    gen = Gen(rng, enabled)
    stats = runner_stats
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="evolve-") as tmpdir:
        global WORKER_SCRIPT
        WORKER_SCRIPT = os.path.join(tmpdir, "evolve-worker.py")
        with open(os.path.abspath(__file__)) as src, open(WORKER_SCRIPT, "w") as dst:
            dst.write(src.read())
        runner = Runner(topo, tmpdir, log)
        # the first lab
        while True:
            lab = gen.lab()
            good, n = repair(topo, lab, tmpdir)
            if good and not is_on("subnet-twice", enabled) and subnet_twice(lab):
                good = False
            if good:
                if n:
                    stats.gen_repaired += 1
                else:
                    stats.gen_valid += 1
                break
            stats.gen_regenerated += 1
        labs = [lab]
        sb = Sandbox()
        failure = None
        seen = []
        try:
            base = normalize(sb.dump(), lambda ns, n: True)
            path = runner.write(lab)
            log("evolve: seed %d, %d steps, topo %s" % (args.seed, args.steps, topo))
            log("step 0: a new lab (%d namespaces, %d links, %d routes, %d nat, %d filters)" % (
                len(lab["netns"]), len(interfaces(lab)), len(lab["route"]), len(lab["nat"]), len(lab["filter"])))
            step_check(runner, sb, None, lab, path, None, None, labs)
            for step in range(1, args.steps + 1):
                stats.steps = step
                for attempt in range(20):
                    cand = copy.deepcopy(lab)
                    name, f = gen.pick_edit()
                    what = f(cand)
                    if what is None:
                        continue
                    if not is_on("subnet-twice", enabled) and subnet_twice(cand):
                        stats.edit_discarded += 1
                        continue
                    good, n = repair(topo, cand, tmpdir)
                    if not good or render(cand)[0] == render(lab)[0]:
                        stats.edit_discarded += 1
                        continue
                    if n:
                        stats.edit_repaired += 1
                        what += " (+%d dropped to stay valid)" % n
                    else:
                        stats.edit_valid += 1
                    break
                else:
                    continue
                old, lab = lab, cand
                labs.append(lab)
                path = runner.write(lab)
                fault = None
                gate = FAULT_GATES.get(name)
                if rng.random() < args.fault_rate and is_on(gate or "", enabled):
                    n = plan_steps(sb, topo, path)
                    if n > 0:
                        kind = rng.choice(["fail", "fail", "kill", "kill", "nft"])
                        k = rng.randrange(1, n + 1) if kind != "nft" else 1
                        if kind == "nft" and not (lab["nat"] or lab["filter"] or old["nat"] or old["filter"]):
                            kind, k = "fail", rng.randrange(1, n + 1)
                        fault = (kind, k)
                        stats.faults[kind] += 1
                log("step %d: %s%s" % (step, what, " [fault: %s at %d]" % fault if fault else ""))
                if args.verbose:
                    log(render(lab)[0])
                try:
                    step_check(runner, sb, old, lab, path, fault, None, labs)
                except Failure as f:
                    if not args.keep_going:
                        raise
                    seen.append((step, what, f))
                    log("FAILED (%s) at step %d: %s" % (f.check, step, "\n  ".join(f.message.splitlines()[:12])))
                    # go on from this lab, applied in a new sandbox
                    sb.close()
                    sb = runner.sandbox()
                    base = normalize(sb.dump(), lambda ns, n: True)
                    labs = [lab]
                    rc, out, err = sb.run([topo, "apply", "-q", path])
                    if rc != 0:
                        log("a fresh apply of this lab fails too (%d): %s" % (rc, (out + err).strip()))
                        raise
            fault = None
            if rng.random() < 2 * args.fault_rate:
                # the destroy's own steps: plan of an empty lab of the same name
                empty = runner.write(empty_lab())
                n = plan_steps(sb, topo, empty)
                if n > 0:
                    fault = (rng.choice(["fail", "kill"]), rng.randrange(1, n + 1))
                    stats.faults[fault[0]] += 1
            log("destroy%s" % (" [fault: %s at %d]" % fault if fault else ""))
            destroy_check(runner, sb, labs, base, fault)
            log("destroy: the sandbox is as before the first apply")
        except Failure as f:
            failure = f
        finally:
            sb.close()
        elapsed = time.time() - t0
        try:
            summary = ("evolve: seed %d: %d steps, %d applies, faults injected: %d failed steps, %d kills, "
                       "%d refused NAT batches; first lab valid %d, repaired %d, regenerated %d; edits "
                       "valid %d, repaired %d, discarded %d; %.0f s" % (
                           args.seed, stats.steps, stats.applies, stats.faults["fail"], stats.faults["kill"],
                           stats.faults["nft"], stats.gen_valid, stats.gen_repaired, stats.gen_regenerated,
                           stats.edit_valid, stats.edit_repaired, stats.edit_discarded, elapsed))
            if seen:
                log("%d failures with --keep-going:" % len(seen))
                for step, what, f in seen:
                    log("  step %d (%s): %s: %s" % (step, what, f.check, f.message.splitlines()[0]))
            if not failure:
                log(summary + (": ok" if not seen else ": FAILED"))
                return 0 if not seen else 1
            log("FAILED (%s) at step %d: %s" % (failure.check, stats.steps, failure.message))
            labs_, final, fault = failure.scenario
            msg = failure.message
            if not args.no_shrink:
                log("shrinking ...")
                labs_, final, fault, msg, tries = shrink(runner, failure, time.time() + args.shrink_seconds)
                log("shrunk in %d tries" % tries)
            text = repro_text(labs_, final, fault, failure.check, msg, args.seed, topo)
            repro = args.repro or "evolve-repro-%d.md" % args.seed
            with open(repro, "w") as f:
                f.write(text)
            log(text)
            log("reproduction written to %s" % os.path.abspath(repro))
            log(summary + ": FAILED")
            return 1
        finally:
            runner.close()


if __name__ == "__main__":
    sys.exit(main())
