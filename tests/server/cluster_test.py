#!/usr/bin/env python3
"""The partitioned cluster (scripts/cluster.sh: three clustered nats-server,
three caserepo nodes, P=6 partitions on two nodes each, the router) against a
single caserepo-server ingesting the same command stream:

- writes through the router, concurrently, with a NATS server killed and
  restarted during a create load, and a node killed and restarted during
  it: every create the router acknowledged is readable afterwards, equal
  to its answer;
- router answers equal the single server's for get, history, facets and
  random filters x sorts x page sizes, offset pages and token walks (the
  router's order: the sort's date, then partition number, then the
  partition's own order — the single server's list re-sorted that way).

The soak (not in CI; results in bench/cluster/soak.md): the kill rounds
repeat, each (once NATS is healthy again) killing a random NATS server or node during a create load,
with mixed writes between them, for SECONDS; then the same checks, and a
report of every round written to FILE.

    cluster_test.py PATH/TO/caserepo-server PATH/TO/scripts/cluster.sh [--soak SECONDS --results FILE]"""
import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import API, Client, Failures, Server, add_user, new_workdir

parser = argparse.ArgumentParser()
parser.add_argument("binary")
parser.add_argument("cluster_sh")
parser.add_argument("--soak", type=float, default=0, help="seconds of kill rounds (0: the two of CI)")
parser.add_argument("--results", help="with --soak: the report to write (markdown)")
args = parser.parse_args()
binary, cluster_sh = args.binary, args.cluster_sh
t = Failures("cluster")
work = new_workdir("caserepo-cluster-")
cdir = os.path.join(work, "cluster")
P = 6
rng = random.Random(12)
env = dict(os.environ, CASEREPO_SERVER=binary)


def cluster(*args):
    try:
        return subprocess.run([cluster_sh, *args], env=env, check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as e:
        sys.stderr.write(e.stderr or "")  # cluster.sh says what did not start
        if args[0] == "up":  # stop what did start: no process outlives the test
            subprocess.run([cluster_sh, "down", args[1]], env=env, capture_output=True)
        raise


class Address:
    def __init__(self, line):
        host_port = line.split()[-1]
        self.host, self.port = host_port.rsplit(":", 1)[0], int(host_port.rsplit(":", 1)[1])

    def connection(self, timeout=30):
        import http.client
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def partition_of(client_id):  # FNV-1a 64, as src/cluster/partitioning.h
    h = 0xcbf29ce484222325
    for b in client_id.encode():
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h % P


def metric(addr, name):
    c = Client(addr)
    status, _, _, raw = c.request("GET", "/metrics")
    c.close()
    values = []
    for line in raw.decode().splitlines():
        if line.startswith(name) and not line.startswith("#"):
            values.append(int(float(line.split()[-1])))
    return values


def write_soak_report(path, rounds, seconds, acked_creates, stats, t):
    def gaps(kind):
        g = sorted(r["gap_ms"] for r in rounds if r["what"].startswith(kind))
        return f"{len(g)} rounds, median {g[len(g) // 2]:.0f} ms, max {g[-1]:.0f} ms" if g else "no rounds"
    lines = [
        "## Scale-out: cluster soak",
        "",
        "Written by `tests/server/cluster_test.py --soak SECONDS --results FILE` (docs/scale-out.md);",
        "do not edit by hand. 3 NATS servers (R=3), 3 caserepo nodes, P=6 (each partition on two nodes),",
        "the router, and a single server ingesting the same stream as the reference, all on this machine.",
        "Each round waits until every NATS server's `/healthz` says its JetStream streams and consumers",
        "are current (R=3 outlives one failure at a time), then 4 writers create 320 cases through the",
        "router while one process, chosen at random, is SIGKILLed and restarted 2 s later; a reader gets",
        "one probe case per partition all along (the gap: the longest a partition went unanswered).",
        "Mixed writes (creates, joins, updates, removes) run between rounds.",
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; "
        f"host: {os.uname().nodename}, {os.cpu_count()} CPUs; duration: {seconds / 60:.1f} min, {len(rounds)} kill rounds",
        f"- requests: {stats['ok']} answered 200, {stats['refused']} refused (404/409, expected in the mix), "
        f"{stats['unavailable']} unavailable (503 or connection lost while a process was down), "
        f"{stats['other']} other",
        f"- creates acknowledged during kill rounds: {acked_creates}, checked readable and equal at the end",
        f"- partition gaps: NATS server killed: {gaps('nats')}; node killed: {gaps('node')}",
        f"- checks: **{t.passed} passed, {len(t.failed)} failed** (every acknowledged create readable and equal;",
        "  router = single server for get, history, facets, 40 random searches with offset pages and token walks)",
        "",
        "| round | killed | NATS healthy after (waited before the kill) | creates acknowledged (of 320) | unavailable | longest partition gap | round took |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for n, r in enumerate(rounds):
        healthy = "not within 120 s" if r["healthy_s"] is None else f"{r['healthy_s']:.1f} s"
        lines.append(f"| {n} | {r['what']} | {healthy} | {r['acked']} | {r['unavailable']} | {r['gap_ms']:.0f} ms | "
                     f"{r['seconds']:.1f} s |")
    if t.failed:
        lines += ["", "Failed checks:", ""] + [f"- {f}" for f in t.failed[:20]]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


router = None
reference = None
try:
    router = Address(cluster("up", cdir, "--nodes", "3", "--partitions", str(P)).strip().splitlines()[-1])
    users = os.path.join(cdir, "users")
    add_user(binary, users, "writer", "w-secret", "writer")
    os.kill(int(open(os.path.join(cdir, "pids", "router")).read()), 1)  # SIGHUP: the router rereads its users
    time.sleep(0.5)
    urls = open(os.path.join(cdir, "nats-urls")).read().strip()
    # The single server: the whole command stream, one repository.
    reference = Server(binary, os.path.join(work, "reference"), users, "--nats", urls, "--ingest", "CASEREPO_CMDS",
                       "--node-id", "reference", "--no-change-feed", "--access-log", "off").start()

    # --- writes through the router, concurrently ------------------------------------------------
    clients = [f"client-{i}" for i in range(40)]
    statuses = ["OPEN", "PENDING", "CLOSED", "REJECTED"]
    types = ["LOAN", "CARD", "ACCOUNT"]
    acked = {}  # caseId -> the router's answer to its create (cases never written again)
    known = []  # caseIds that may be updated or removed
    lock = threading.Lock()
    stats = {"ok": 0, "refused": 0, "unavailable": 0, "other": 0}

    def writer(w, count, only_creates):
        c = Client(router, "writer", "w-secret", timeout=60)
        r = random.Random(w)
        for i in range(count):
            kind = r.random()
            last_body = None
            try:
                if only_creates or kind < 0.55:
                    body = {"caseType": r.choice(types), "clientId": r.choice(clients), "clientType": "PESEL",
                            "status": r.choice(statuses)}
                    # A load case's own key (a mixed create joining it would change it); mixed keys
                    # are shared by clients of every partition (a join across them is a 409).
                    if r.random() < 0.3:
                        body["businessKey"] = f"BK-{w}-{i}" if only_creates else f"BK-{r.randrange(50)}"
                    fresh = only_creates or r.random() < 0.5
                    if fresh:
                        body["caseId"] = f"w{w}-{i}-{'load' if only_creates else 'mix'}"
                    elif known and r.random() < 0.7:
                        with lock:
                            body["caseId"] = r.choice(known)  # another entry of a case (or a Conflict)
                    status, _, got, last_body = c.request("POST", API + "/v1", body)
                    if status == 200 and not (isinstance(got, dict) and got.get("caseId")):
                        print(f"create {body} answered 200 without a caseId: {last_body}", flush=True)
                        status = -1  # counted as "other": a failure
                    elif status == 200 and fresh and only_creates:
                        with lock:
                            acked[got["caseId"]] = got
                    elif status == 200:
                        with lock:
                            known.append(got["caseId"])
                elif kind < 0.85 and known:
                    with lock:
                        case_id = r.choice(known)
                    status, _, _, last_body = c.request("PATCH", API + "/v1?caseId=" + urllib.parse.quote(case_id),
                                                {"status": r.choice(statuses), "statusDescription": f"note {i}"})
                elif known:
                    with lock:
                        case_id = r.choice(known)
                    status, _, _, last_body = c.request("DELETE", API + "/v1?caseId=" + urllib.parse.quote(case_id))
                else:
                    continue
            except OSError:
                status = 0
            with lock:
                key = "ok" if status == 200 else "refused" if status in (404, 409) else \
                    "unavailable" if status in (0, 503) else "other"
                stats[key] += 1
                if key == "other" or (key == "unavailable" and not only_creates):
                    print(f"status {status}: {last_body}", flush=True)
        c.close()

    threads = [threading.Thread(target=writer, args=(w, 60, False)) for w in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.equal("mixed writes: no unexpected status", stats["other"], 0)
    t.check("mixed writes: most succeed", stats["ok"] > 250, str(stats))
    t.equal("mixed writes: none unavailable", stats["unavailable"], 0)

    # Racing creates: two clients in different partitions create one new caseId, or join
    # one new businessKey, at the same moment. A single server takes one and answers the
    # other 409 whichever comes first; so must the router (it checks every partition
    # before publishing to one, holding the key until the outcome).
    def race(n, kind, a, b):
        bodies = [{"caseType": "LOAN", "clientId": client_id, "clientType": "PESEL", "status": "OPEN",
                   kind: f"race-{kind}-{n}"} for client_id in (a, b)]
        return race_bodies(bodies)

    def race_bodies(bodies):
        barrier = threading.Barrier(2)
        got = [None, None]

        def one(k):
            c = Client(router, "writer", "w-secret", timeout=60)
            barrier.wait()
            got[k] = c.request("POST", API + "/v1", bodies[k])[0]
            c.close()
        pair = [threading.Thread(target=one, args=(k,)) for k in (0, 1)]
        for th in pair:
            th.start()
        for th in pair:
            th.join()
        return sorted(got)

    by_partition = {}
    for client_id in clients:
        by_partition.setdefault(partition_of(client_id), client_id)
    a, b = list(by_partition.values())[:2]
    for kind in ("caseId", "businessKey"):
        outcomes = [race(n, kind, a, b) for n in range(25)]
        t.equal(f"racing creates of one new {kind} from two partitions: one 200, one 409 each time",
                [o for o in outcomes if o != [200, 409]], [])
    # A join by businessKey racing a create of another case with that key, from another
    # partition: whichever the stream takes first decides, as on a single server (both pass,
    # or the join joins the other client's case: 409). Each key's entries are compared with
    # the single server below.
    mixed_keys = []
    for n in range(25):
        key = f"race-mixed-{n}"
        mixed_keys.append(key)
        outcome = race_bodies([{"caseType": "LOAN", "clientId": a, "clientType": "PESEL", "status": "OPEN",
                                "caseId": key, "businessKey": key},
                               {"caseType": "LOAN", "clientId": b, "clientType": "PESEL", "status": "OPEN",
                                "businessKey": key}])
        t.check(f"racing create and join of one new businessKey {key}: 200 or 409", outcome in ([200, 200], [200, 409]),
                str(outcome))

    # The partition a router found a case in is remembered, and only a hint: router 1 creates
    # and reads a case (one partition asked), a second router removes it and creates the caseId
    # again for a client of another partition; router 1 must still read, update and remove it
    # where it is now.
    router2 = Server(binary, os.path.join(work, "router2"), users, "--router", "--nats", urls, "--nats-replicas", "3",
                     "--partitions", str(P), "--node-id", "router2", "--stream", "CASEREPO_CMDS",
                     "--access-log", "off").start()
    try:
        c, c2 = Client(router, "writer", "w-secret", timeout=60), Client(router2, "writer", "w-secret", timeout=60)
        hints = lambda: (metric(router, "caserepo_router_hint_hits_total")[0],
                         metric(router, "caserepo_router_hint_misses_total")[0])
        case = {"caseId": "moved-case", "caseType": "LOAN", "clientType": "PESEL"}
        status, _, first, _ = c.request("POST", API + "/v1", dict(case, clientId=a, status="OPEN"))
        t.equal("hints: create through router 1", status, 200)
        hits, misses = hints()
        t.equal("hints: router 1 reads the case it created", c.request("GET", API + "/v1?caseId=moved-case")[2], first)
        t.equal("hints: ... asking its partition alone (a hint hit, no miss)", hints(), (hits + 1, misses))
        t.equal("hints: router 2 removes it", c2.request("DELETE", API + "/v1?caseId=moved-case")[0], 200)
        status, _, second, _ = c2.request("POST", API + "/v1", dict(case, clientId=b, status="NEW"))
        t.equal("hints: router 2 creates it again for a client of another partition", status, 200)
        # Router 1's reads carry its own writes' positions, not router 2's: wait until they are applied.
        deadline = time.time() + 30
        while time.time() < deadline and c.request("GET", API + "/v1?caseId=moved-case")[2] != second:
            time.sleep(0.2)
        time.sleep(0.5)  # both replicas of each partition
        t.equal("hints: router 1 finds the case in its new partition", c.request("GET", API + "/v1?caseId=moved-case")[2],
                second)
        t.check("hints: ... after its hint missed", hints()[1] > misses, str(hints()))
        hits, misses = hints()
        t.equal("hints: router 1's history of it", c.request("GET", API + "/v1/history?caseId=moved-case")[2], [second])
        t.equal("hints: ... from the new partition alone", hints(), (hits + 1, misses))
        status, _, patched, _ = c.request("PATCH", API + "/v1?caseId=moved-case", {"status": "CLOSED"})
        t.equal("hints: router 1 updates it", (status, patched.get("clientId"), patched.get("status")), (200, b, "CLOSED"))
        t.equal("hints: router 1 removes it", c.request("DELETE", API + "/v1?caseId=moved-case")[0], 200)
        t.equal("hints: ... and it is gone", c.request("GET", API + "/v1?caseId=moved-case")[0], 404)
        c.close()
        c2.close()
    finally:
        router2.stop()

    # A create load with a NATS server killed and restarted, then a node.
    gaps = []

    # One probe case in every partition, never written again: read in turn all along, the
    # longest time a partition went without an answer is its failover time.
    probes = {}
    c = Client(router, "writer", "w-secret", timeout=60)
    for i in range(1000):
        client_id = f"probe-client-{i}"
        if partition_of(client_id) not in probes:
            status, _, got, _ = c.request("POST", API + "/v1", {"caseId": f"probe-{i}", "caseType": "LOAN",
                                                                 "clientId": client_id, "clientType": "PESEL",
                                                                 "status": "OPEN"})
            t.equal(f"probe create {i}", status, 200)
            probes[partition_of(client_id)] = got
        if len(probes) == P:
            break
    c.close()

    def reader(stop):
        c = Client(router, "writer", "w-secret", timeout=30)
        last_ok = {p: time.monotonic() for p in probes}
        longest, wrong = 0.0, 0
        while not stop.is_set():
            for p, entry in probes.items():
                try:
                    status, _, got, _ = c.request("GET", API + "/v1?caseId=" + entry["caseId"])
                except OSError:
                    status = 0
                now = time.monotonic()
                if status == 200:
                    wrong += got != entry
                    longest = max(longest, now - last_ok[p])
                    last_ok[p] = now
            time.sleep(0.005)
        gaps.append(longest)
        t.equal("probe reads answer the probe", wrong, 0)
        c.close()

    def kill_rounds():
        """(what, k) to kill: in CI a NATS server, then a node; in a soak random ones until the time is up."""
        if not args.soak:
            yield from (("nats", "2"), ("node", "1"))
            return
        end = time.monotonic() + args.soak
        while time.monotonic() < end:
            yield rng.choice(["nats", "node"]), str(rng.randint(1, 3))

    def wait_nats_healthy(timeout=120):
        """Seconds until every NATS server's /healthz says its JetStream streams and consumers are current
        (R=3 outlives one failure at a time: the next kill waits for this), or None after `timeout`."""
        monitors = open(os.path.join(cdir, "nats-monitor")).read().split()
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            healthy = 0
            for m in monitors:
                try:
                    with urllib.request.urlopen(m + "/healthz", timeout=2) as r:
                        healthy += r.status == 200
                except urllib.error.HTTPError as e:  # 503 and why: which stream or consumer is not current
                    nats_unhealthy[m] = e.read().decode(errors="replace")[:300]
                except OSError as e:
                    nats_unhealthy[m] = str(e)
            if healthy == len(monitors):
                return time.monotonic() - start
            time.sleep(0.2)
        return None

    nats_unhealthy = {}  # monitoring URL -> its last /healthz complaint

    started = time.monotonic()
    rounds = []  # for the soak's report
    for n, (what, k) in enumerate(kill_rounds()):
        nats_unhealthy.clear()
        healthy_after = wait_nats_healthy()
        t.check(f"round {n}: NATS healthy before the kill", healthy_after is not None,
                f"not within 120 s: {nats_unhealthy}")
        if n >= 2:  # soak: mixed writes (updates, removes, joins) between kill rounds
            mix = [threading.Thread(target=writer, args=(10000 + 10 * n + w, 40, False)) for w in range(3)]
            for th in mix:
                th.start()
            for th in mix:
                th.join()
        stop_reading = threading.Event()
        watcher = threading.Thread(target=reader, args=(stop_reading,))
        watcher.start()
        before = dict(stats)
        round_start = time.monotonic()
        threads = [threading.Thread(target=writer, args=(100 + 10 * n + w, 80, True)) for w in range(4)]
        for th in threads:
            th.start()
        time.sleep(1.0)
        cluster("kill", cdir, what, k)
        time.sleep(2.0)
        cluster("start", cdir, what, k)
        for th in threads:
            th.join()
        stop_reading.set()
        watcher.join()
        acked_now = stats["ok"] - before["ok"]
        t.check(f"round {n}: creates acknowledged while {what} {k} was killed", acked_now > 100, f"{acked_now} of 320")
        rounds.append({"what": f"{what} {k}", "acked": acked_now, "unavailable": stats["unavailable"] - before["unavailable"],
                       "gap_ms": gaps[-1] * 1000, "seconds": time.monotonic() - round_start,
                       "healthy_s": healthy_after})
        print(f"round {n}: {what} {k} killed: longest time a partition went unread {gaps[-1] * 1000:.0f} ms, {stats}",
              flush=True)
    t.equal("kills: no unexpected status", stats["other"], 0)

    c = Client(router, "writer", "w-secret", timeout=60)
    missing = 0
    for case_id, entry in acked.items():
        status, _, got, _ = c.request("GET", API + "/v1?caseId=" + urllib.parse.quote(case_id))
        if status != 200 or got != entry:
            missing += 1
            if missing <= 3:
                print(f"acknowledged create {case_id}: {status} {got} != {entry}", flush=True)
    t.equal(f"every acknowledged create ({len(acked)}) is readable and equal", missing, 0)

    # A partition with no node left: the router cannot tell whether a case is there, so a get,
    # an update or a remove answers 503 — never 404 (the soak once saw acknowledged creates
    # answered 404 so). Partitions 0 and 3 live on nodes 1 and 2 (cluster.sh).
    cluster("kill", cdir, "node", "1")
    cluster("kill", cdir, "node", "2")
    dark = [("get of partition 0's case", "GET", probes[0]["caseId"], None),
            ("get of a case nobody has", "GET", "no-such-case", None),
            ("update of a case nobody has", "PATCH", "no-such-case", {"status": "CLOSED"})]
    answers = {}

    def ask_dark(what, method, case_id, body):  # at once: each waits out the router's read timeout
        dc = Client(router, "writer", "w-secret", timeout=60)
        answers[what] = dc.request(method, API + "/v1?caseId=" + urllib.parse.quote(case_id), body)[0]
        dc.close()
    askers = [threading.Thread(target=ask_dark, args=d) for d in dark]
    for th in askers:
        th.start()
    for th in askers:
        th.join()
    for what, *_ in dark:
        t.equal(f"no node of a partition: {what} answers 503", answers.get(what), 503)
    cluster("start", cdir, "node", "1")
    cluster("start", cdir, "node", "2")
    deadline = time.time() + 60
    while time.time() < deadline and c.request("GET", API + "/v1?caseId=" + probes[0]["caseId"])[0] != 200:
        time.sleep(0.2)
    t.equal("partition 0 answers again once its nodes are back",
            c.request("GET", API + "/v1?caseId=" + probes[0]["caseId"])[2], probes[0])

    # --- the single server has taken the whole stream -------------------------------------------------
    node_addrs = []
    for k in (1, 2, 3):
        with open(os.path.join(cdir, "logs", f"node-{k}.log")) as f:
            node_addrs.append(Address([l for l in f if l.startswith("listening on ")][-1]))
    deadline = time.time() + 60
    while time.time() < deadline:
        last = max(v for a in node_addrs for v in metric(a, "caserepo_partition_stream_position"))
        if metric(reference, "caserepo_stream_position")[0] >= last:
            break
        time.sleep(0.2)
    time.sleep(0.5)  # the other replica of each partition catches up too (reads wait for it anyway)
    single = Client(reference, "writer", "w-secret", timeout=60)
    for k, a in enumerate(node_addrs, 1):  # a node's repository lines add up its partitions
        per_partition = metric(a, "caserepo_partition_entries")
        t.equal(f"node {k}: caserepo_entries is the sum of its partitions' entries ({per_partition})",
                metric(a, "caserepo_entries"), [sum(per_partition)])

    for key in mixed_keys:
        body = {"businessKey": [key], "sort": "creationDate,asc"}
        mine, theirs = c.request("POST", API + "/v1/search", body), single.request("POST", API + "/v1/search", body)
        t.equal(f"the raced businessKey {key}: its entries as on a single server", (mine[0], mine[2]),
                (theirs[0], theirs[2]))

    # --- get, history, facets --------------------------------------------------------------------------
    ids = list(acked)[:40] + known[:40] + ["no-such-case"]
    for case_id in ids:
        for path in ("/v1?caseId=", "/v1/history?caseId="):
            q = API + path + urllib.parse.quote(case_id)
            a, b = c.request("GET", q), single.request("GET", q)
            t.equal(f"GET {path}{case_id}", (a[0], a[2]), (b[0], b[2]))
    for field in ("status", "caseType", "source", "clientType"):
        for flt in ({}, {"currentOnly": True}, {"caseType": ["LOAN"]}):
            body = dict(flt, field=field)
            a, b = c.request("POST", API + "/v1/facets", body), single.request("POST", API + "/v1/facets", body)
            t.equal(f"facets {body}", (a[0], a[2]), (b[0], b[2]))

    # --- search: random filters x sorts, offset pages and token walks -------------------------------
    def search(client, body):
        status, _, got, raw = client.request("POST", API + "/v1/search", body)
        if status != 200:
            raise AssertionError(f"search {body}: {status} {raw[:200]}")
        return got

    def full(client, body):
        out, token = [], None
        while True:
            b = dict(body, size=1000)
            if token:
                b["pageToken"] = token
            got = search(client, b)
            out += got["content"]
            token = got["nextPageToken"]
            if not token:
                return out, got["totalElements"]

    mine, _ = full(c, {"sort": "creationDate,asc"})
    theirs, _ = full(single, {"sort": "creationDate,asc"})
    key_of = lambda e: json.dumps(e, sort_keys=True)
    extra = sorted(set(map(key_of, mine)) - set(map(key_of, theirs)))
    lacking = sorted(set(map(key_of, theirs)) - set(map(key_of, mine)))
    t.equal("the router holds exactly the single server's entries", (extra[:5], lacking[:5]), ([], []))

    sorts = ["creationDate,desc", "creationDate,asc", "updateDate,desc", "updateDate,asc"]
    for trial in range(40):
        flt = {}
        if rng.random() < 0.5:
            flt["status"] = rng.sample(statuses, rng.randint(1, 2))
        if rng.random() < 0.4:
            flt["caseType"] = rng.sample(types, 1)
        if rng.random() < 0.3:
            flt["clientId"] = rng.sample(clients, rng.randint(1, 5))
        if rng.random() < 0.3:
            flt["currentOnly"] = True
        if rng.random() < 0.2:
            flt["businessKey"] = [f"BK-{rng.randrange(50)}" for _ in range(3)]
        sort = rng.choice(sorts)
        size = rng.choice([1, 3, 7, 20, 50])
        body = dict(flt, sort=sort)
        whole, total = full(single, body)
        key = "updateDate" if sort.startswith("updateDate") else "creationDate"
        expected = sorted(whole, key=lambda e: (e[key], partition_of(e["clientId"])), reverse=sort.endswith("desc"))
        what = f"search {json.dumps(body)} size {size}"
        # Offset pages (the first few and the last).
        pages = max(1, (total + size - 1) // size)
        for page in sorted({0, 1, 2, pages - 1, pages}):
            got = search(c, dict(body, page=page, size=size))
            t.equal(f"{what} page {page}", (got["content"], got["totalElements"], got["totalPages"], got["page"]),
                    (expected[page * size:(page + 1) * size], total, (total + size - 1) // size, page))
        # A token walk from a random offset page.
        start = rng.randrange(pages)
        got = search(c, dict(body, page=start, size=size))
        walked, token, steps = list(got["content"]), got["nextPageToken"], 0
        page_fields_ok = True
        while token and steps <= total:
            got = search(c, dict(body, size=size, pageToken=token))
            page_fields_ok &= got["page"] == (start * size + len(walked)) // size and got["totalElements"] == total
            walked += got["content"]
            token, steps = got["nextPageToken"], steps + 1
        t.equal(f"{what} token walk from page {start}", walked, expected[start * size:])
        t.check(f"{what} token pages' page and total", page_fields_ok)
    # A token from another filter is refused.
    tok = search(c, {"size": 1})["nextPageToken"]
    status, _, got, _ = c.request("POST", API + "/v1/search", {"size": 1, "status": ["OPEN"], "pageToken": tok})
    t.equal("token of another filter", (status, got and got.get("error")), (400, "InvalidArgument"))
    c.close()
    single.close()
    if args.soak and args.results:
        write_soak_report(args.results, rounds, time.monotonic() - started, len(acked), stats, t)
finally:
    if reference:
        reference.stop()
    if router:
        subprocess.run([cluster_sh, "down", cdir], env=env, check=False)
t.finish()
