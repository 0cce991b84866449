#!/usr/bin/env python3
"""kill -9 under concurrent create load, several rounds under each fsync
policy: after a restart every create that got a 200 is there.

    kill9_test.py PATH/TO/caserepo-server"""
import os
import random
import sys
import threading
import time

from harness import API, Client, Failures, Server, add_user, new_workdir

binary = sys.argv[1]
t = Failures("kill9")
work = new_workdir("caserepo-kill9-")
users = os.path.join(work, "users")
add_user(binary, users, "writer", "w-secret", "writer")
rng = random.Random(9)

for policy in ["always", "interval", "none"]:
    data = os.path.join(work, "data-" + policy)
    acked = set()
    for round_ in range(3):
        server = Server(binary, data, users, "--fsync", policy, "--access-log", "off").start()
        stop = threading.Event()
        lock = threading.Lock()
        def writer(w):
            c = Client(server, "writer", "w-secret", timeout=10)
            i = 0
            while not stop.is_set():
                case = f"{policy}-{round_}-{w}-{i}"
                i += 1
                try:
                    code, _, body, _ = c.request("POST", API + "/v1", {"caseId": case, "caseType": "LOAN", "clientId": f"k{w}",
                                                                        "clientType": "PESEL", "status": "OPEN"})
                except Exception:  # noqa: BLE001 - the server was killed mid-request
                    return
                if code == 200:
                    with lock:
                        acked.add(case)
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
        for th in threads:
            th.start()
        # Kill once this round has at least 40 acknowledged creates (a slow
        # disk under a sanitizer manages only a few dozen fsyncs a second, so
        # a fixed sleep could leave nothing to check), then at a random point
        # shortly after, so the kill lands mid-batch.
        before = len(acked)
        deadline = time.monotonic() + 60
        while len(acked) - before < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.5))
        server.kill9()
        stop.set()
        for th in threads:
            th.join()
    # Restart and look for every acknowledged create.
    server = Server(binary, data, users, "--fsync", policy, "--access-log", "off").start()
    c = Client(server, "writer", "w-secret")
    missing = [case for case in sorted(acked) if c.request("GET", f"{API}/v1?caseId={case}")[0] != 200]
    t.check(f"{policy}: acknowledged creates", len(acked) >= 120, f"only {len(acked)} acknowledged")
    t.equal(f"{policy}: every acknowledged create survived 3 kill -9s", missing[:5], [])
    print(f"{policy}: {len(acked)} creates acknowledged over 3 kill -9 rounds, {len(missing)} missing", flush=True)
    t.equal(f"{policy}: clean shutdown", server.stop(), 0)
t.finish()
