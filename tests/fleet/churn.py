#!/usr/bin/env python3
"""Meeting churn for the fleet test: puts and deletes of global and node-local meeting keys through
etcd's v3 JSON gateway (POST /v3/kv/put, /v3/kv/deleterange), one request per change, each change
its own revision.

  churn.py ENDPOINTS PREFIX NODES COUNT SEED PORT_BASE LOG [MARK_AT MARK_FILE]

ENDPOINTS: comma-separated client URLs; NODES: comma-separated node names. Meeting names c000..c059,
each owning the 4 ports PORT_BASE + 4k .. + 3, so that no two names ever share a port (a global key
and a node-local key of the same name may, as the node-local one replaces the global one). Countries
come from DE FR GB US IT only. A request that fails or times out (3 s) is tried on the next
endpoint, up to 40 times (a leader being killed); each attempt is logged:
  SEQ ACK|FAIL put|del KEY REVISION|ERROR VALUE [DELETED: keys a delete removed]
After COUNT changes: MARK_FILE is written once MARK_AT changes are acknowledged (the test kills the
leader then). At the end the store is read and every key whose last change was acknowledged must
hold what that change left (a key whose last attempt failed may hold either); prints
  acked N failed N lost N
and one "LOST KEY want ... got ..." line per lost change; exit 0 unless something was lost or the
store could not be read.
"""
import base64
import http.client
import json
import random
import sys
import time
import urllib.parse

COUNTRIES = ["DE", "FR", "GB", "US", "IT"]
NAMES = 60


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Client:
    def __init__(self, endpoints):
        self.eps = [urllib.parse.urlparse(e) for e in endpoints.split(",")]
        self.cur = 0
        self.conn = None

    def _conn(self):
        if self.conn is None:
            ep = self.eps[self.cur]
            self.conn = http.client.HTTPConnection(ep.hostname, ep.port, timeout=3)
        return self.conn

    def call(self, path, body):
        """One attempt; returns the reply as JSON or raises."""
        try:
            c = self._conn()
            c.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            if r.status != 200:
                raise RuntimeError("HTTP %d %s" % (r.status, data[:200].decode(errors="replace")))
            return json.loads(data)
        except Exception:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            self.cur = (self.cur + 1) % len(self.eps)
            raise


def main():
    eps, prefix, nodes, count, seed, port_base, log = sys.argv[1:8]
    mark_at = int(sys.argv[8]) if len(sys.argv) > 8 else -1
    mark_file = sys.argv[9] if len(sys.argv) > 9 else None
    nodes = nodes.split(",")
    count, port_base = int(count), int(port_base)
    rnd = random.Random(int(seed))
    cl = Client(eps)
    last = {}  # key -> (acked, value or None for deleted)
    acked = failed = 0
    out = open(log, "w")
    for seq in range(count):
        k = rnd.randrange(NAMES)
        name = "c%03d" % k
        r = rnd.random()
        if r < 0.70:
            if r < 0.45:
                key = "%s/meetings/%s" % (prefix, name)
            else:
                key = "%s/nodes/%s/meetings/%s" % (prefix, rnd.choice(nodes), name)
            lo = port_base + 4 * k
            n = rnd.randrange(1, 5)
            ports = [str(lo)] if n == 1 else ["%d-%d" % (lo, lo + n - 1)]
            spec = {"ports": ports, "block": sorted(rnd.sample(COUNTRIES, rnd.randrange(1, 4)))}
            if rnd.random() < 0.2:
                spec["mode"] = "monitor"
            if rnd.random() < 0.1:
                spec["allow"] = ["10.%d.0.0/16" % rnd.randrange(256)]
            value = json.dumps(spec, separators=(",", ":"))
            op, path, body = "put", "/v3/kv/put", {"key": b64(key), "value": b64(value)}
        else:
            if r < 0.90:
                key = "%s/meetings/%s" % (prefix, name)
            else:
                key = "%s/nodes/%s/meetings/%s" % (prefix, rnd.choice(nodes), name)
            value = None
            op, path, body = "del", "/v3/kv/deleterange", {"key": b64(key)}
        for attempt in range(40):
            try:
                rep = cl.call(path, body)
                rev = rep.get("header", {}).get("revision", "?")
                deleted = rep.get("deleted", "0") if op == "del" else "-"
                print(seq, "ACK", op, key, rev, value or "-", deleted, file=out)
                last[key] = (True, value)
                acked += 1
                break
            except Exception as e:
                print(seq, "FAIL", op, key, repr(e).replace(" ", "_")[:120], value or "-", file=out)
                last[key] = (False, value)
                failed += 1
                time.sleep(0.05)
        else:
            print("churn: change %d could not be made in 40 attempts" % seq, file=sys.stderr)
            return 2
        if seq + 1 == mark_at and mark_file:
            open(mark_file, "w").write("%d\n" % mark_at)
    out.close()
    # The store as it is now.
    store = None
    for attempt in range(40):
        try:
            end = prefix + "0"  # the prefix followed by "/" + 1
            rep = cl.call("/v3/kv/range", {"key": b64(prefix + "/"), "range_end": b64(end)})
            store = {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode()
                     for kv in rep.get("kvs", [])}
            break
        except Exception:
            time.sleep(0.1)
    if store is None:
        print("churn: could not read the store", file=sys.stderr)
        return 2
    lost = 0
    for key, (ok, value) in sorted(last.items()):
        if not ok:
            continue
        got = store.get(key)
        if got != value:
            lost += 1
            print("LOST %s want %s got %s" % (key, value, got))
    print("acked %d failed %d lost %d" % (acked, failed, lost))
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
