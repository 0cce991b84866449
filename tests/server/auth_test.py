#!/usr/bin/env python3
"""Users and authentication with the real caserepo-server: no header and a
wrong password are 401 with WWW-Authenticate, a reader writing is 403,
repeated failures are throttled (429), the users file holds Argon2id hashes
(mode 0600, never the password), the password never appears in argv or the
logs, and SIGHUP reloads the file.

    auth_test.py PATH/TO/caserepo-server"""
import json
import os
import signal
import stat
import subprocess
import sys
import time

from harness import API, Client, Failures, Server, add_user, basic, new_workdir

binary = sys.argv[1]
t = Failures("auth")
work = new_workdir("caserepo-auth-")
users = os.path.join(work, "users")
add_user(binary, users, "writer", "w-secret-1", "writer")
add_user(binary, users, "reader", "r-secret-1", "reader")

# The users file: mode 0600, Argon2id hashes, no password.
mode = stat.S_IMODE(os.stat(users).st_mode)
t.equal("users file mode", oct(mode), oct(0o600))
with open(users) as f:
    entries = [json.loads(line) for line in f]
t.equal("users file entries", [(e["name"], e["role"]) for e in entries], [("writer", "writer"), ("reader", "reader")])
t.check("hashes are Argon2id", all(e["hash"].startswith("$argon2id$") for e in entries), entries)
t.check("no password in the file", "secret" not in open(users).read(), "")

# users add reads the password from stdin only; a user is replaced, removed.
r = subprocess.run([binary, "users", "add", "--users", users, "--name", "x", "--role", "reader", "--password", "p"],
                   capture_output=True, text=True)
t.check("no --password option", r.returncode == 1 and "unknown option --password" in r.stderr, r.stderr)
r = subprocess.run([binary, "users", "add", "--users", users, "--name", "bad:name", "--role", "reader"], input="p\n",
                   capture_output=True, text=True)
t.check("a name with ':' is refused", r.returncode == 2 and "InvalidArgument" in r.stderr, r.stderr)
r = subprocess.run([binary, "users", "remove", "--users", users, "--name", "nobody"], capture_output=True, text=True)
t.check("removing an unknown user", r.returncode == 3 and "NotFound" in r.stderr, r.stderr)

server = Server(binary, os.path.join(work, "data"), users).start()
anon = Client(server)
body = {"caseType": "LOAN", "clientId": "1", "clientType": "PESEL", "status": "OPEN"}

def expect(what, got, status, name):
    code, headers, b, _ = got
    t.equal(f"{what}: status", code, status)
    t.equal(f"{what}: error", (b or {}).get("error"), name)
    if status == 401:
        t.equal(f"{what}: WWW-Authenticate", headers.get("www-authenticate"), 'Basic realm="caserepo"')

expect("no header", anon.request("GET", f"{API}/v1?caseId=x"), 401, "Unauthorized")
expect("wrong password", Client(server, "writer", "nope").request("GET", f"{API}/v1?caseId=x"), 401, "Unauthorized")
expect("unknown user", Client(server, "mallory", "x").request("GET", f"{API}/v1?caseId=x"), 401, "Unauthorized")
expect("not Basic", anon.request("GET", f"{API}/v1?caseId=x", headers={"Authorization": "Bearer abc"}), 401, "Unauthorized")
expect("bad base64", anon.request("GET", f"{API}/v1?caseId=x", headers={"Authorization": "Basic !!!"}), 401, "Unauthorized")
# A script's call (X-Requested-With) gets its 401 without the Basic
# challenge, which would make a browser pop up its own sign-in dialog.
code, headers, b, _ = anon.request("GET", f"{API}/v1?caseId=x", headers={"X-Requested-With": "XMLHttpRequest"})
t.equal("script call: 401 without a challenge", (code, (b or {}).get("error"), headers.get("www-authenticate")), (401, "Unauthorized", None))
reader = Client(server, "reader", "r-secret-1")
expect("reader creating", reader.request("POST", API + "/v1", body), 403, "Forbidden")
expect("reader removing", reader.request("DELETE", f"{API}/v1?caseId=x"), 403, "Forbidden")
expect("reader updating", reader.request("PATCH", f"{API}/v1?caseId=x", {"status": "X"}), 403, "Forbidden")
writer = Client(server, "writer", "w-secret-1")
code, _, e, _ = writer.request("POST", API + "/v1", body)
t.equal("writer creates", code, 200)
code, _, got, _ = reader.request("GET", f"{API}/v1?caseId={e['caseId']}")
t.equal("reader reads", (code, got), (200, e))

# The second request with the same credentials does not pay the slow hash.
start = time.perf_counter()
for _ in range(20):
    reader.request("GET", f"{API}/v1?caseId={e['caseId']}")
per_request = (time.perf_counter() - start) / 20
t.check("remembered credentials are fast", per_request < 0.02, f"{per_request * 1000:.1f} ms per request")

# Throttling: after 10 failures for a user within a minute, even the right
# password is refused for a while (a client address: after 50).
for i in range(10):  # the earlier wrong password was forgotten when the right one came
    Client(server, "writer", f"guess-{i}").request("GET", f"{API}/v1?caseId=x")
code, headers, b, _ = Client(server, "writer", "w-secret-1").request("GET", f"{API}/v1?caseId=x")
t.equal("throttled after 10 failures", (code, (b or {}).get("error"), headers.get("retry-after")), (429, "TooManyRequests", "60"))
metrics = anon.request("GET", "/metrics")[3].decode()
counts = dict(line.split() for line in metrics.splitlines() if line.startswith(("caserepo_auth_failures_total", "caserepo_auth_throttled_total")))
t.check("metrics count auth failures", int(counts.get("caserepo_auth_failures_total", 0)) >= 15, counts)
t.equal("metrics count throttled requests", int(counts.get("caserepo_auth_throttled_total", 0)), 1)

# SIGHUP reloads the users file: a new user works, a removed one is refused.
add_user(binary, users, "late", "l-secret-1", "reader")
subprocess.run([binary, "users", "remove", "--users", users, "--name", "reader"], check=True, capture_output=True)
server.proc.send_signal(signal.SIGHUP)
deadline = time.time() + 10
while "reloaded" not in server.read_stderr() and time.time() < deadline:
    time.sleep(0.05)
code, _, _, _ = Client(server, "late", "l-secret-1").request("GET", f"{API}/v1?caseId={e['caseId']}")
t.equal("a user added and reloaded", code, 200)
code, _, _, _ = Client(server, "reader", "r-secret-1").request("GET", f"{API}/v1?caseId={e['caseId']}")
t.equal("a user removed and reloaded", code, 401)

t.equal("clean shutdown", server.stop(), 0)
logs = server.read_stderr()
t.check("no password or credentials in the logs", all(s not in logs for s in ["w-secret", "r-secret", "l-secret", basic("writer", "w-secret-1")]), "")
t.finish()
