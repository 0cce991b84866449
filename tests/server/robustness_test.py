#!/usr/bin/env python3
"""Bad input and hostile clients against the real caserepo-server: malformed
HTTP (400, connection closed), oversized headers (431) and bodies (413),
slow clients cut by the request timeout, 10,000 idle connections while a
client still gets answers, TLS, the loopback rule, SIGTERM finishing
in-flight requests, and no listener on a damaged data directory.

    robustness_test.py PATH/TO/caserepo-server PATH/TO/caserepo"""
import os
import resource
import socket
import ssl
import subprocess
import sys
import http.client
import time

from harness import API, Client, Failures, Server, add_user, basic, new_workdir

binary, cli = sys.argv[1], sys.argv[2]
t = Failures("robustness")
work = new_workdir("caserepo-robust-")
users = os.path.join(work, "users")
add_user(binary, users, "writer", "w-secret", "writer")
AUTH = basic("writer", "w-secret")


def raw(server, data, read_timeout=5):
    """Sends raw bytes; returns (response bytes, whether the server closed the connection)."""
    s = socket.create_connection((server.host, server.port), timeout=read_timeout)
    s.sendall(data)
    out = b""
    closed = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(rest) >= length[0]:
                    s.settimeout(1)  # is the connection closed after it?
    except socket.timeout:
        pass
    s.close()
    return out, closed


def status_of(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


server = Server(binary, os.path.join(work, "data"), users, "--request-timeout", "2", "--idle-timeout", "30",
                "--access-log", "off").start()

for what, data in [("garbage request line", b"HELLO\r\n\r\n"),
                   ("bad method token", b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n"),
                   ("bad version", b"GET / HTTP/9\r\nHost: x\r\n\r\n"),
                   ("bad header line", b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n"),
                   ("bad content length", b"POST /api/case-repository/v1 HTTP/1.1\r\nContent-Length: nine\r\n\r\n"),
                   ("bad chunk size", b"POST /api/case-repository/v1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")]:
    resp, closed = raw(server, data)
    t.equal(f"{what}: 400", status_of(resp), 400)
    t.check(f"{what}: error JSON", b'"error":"InvalidArgument"' in resp, resp[:200])
    t.check(f"{what}: connection closed", closed, "")

resp, closed = raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
t.equal("oversized header: 431", status_of(resp), 431)
t.check("oversized header: closed", closed, "")
body = b'{"caseType":"LOAN","clientId":"1","clientType":"P","status":"' + b"x" * 70000 + b'"}'
resp, closed = raw(server, b"POST /api/case-repository/v1 HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH.encode() +
                   b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
t.equal("oversized body: 413", status_of(resp), 413)
t.check("oversized body: error JSON", b'"error":"PayloadTooLarge"' in resp, resp[:200])
chunk = b"x" * 40000
resp, closed = raw(server, b"POST /api/case-repository/v1 HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH.encode() +
                   b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   (hex(len(chunk))[2:].encode() + b"\r\n" + chunk + b"\r\n") * 2 + b"0\r\n\r\n")
t.equal("oversized chunked body: 413", status_of(resp), 413)
resp, _ = raw(server, b"GET /api/case-repository/v1/search?status=%ZZ HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH.encode() + b"\r\n\r\n")
t.equal("malformed query: 400", status_of(resp), 400)

# A slow client (a byte a second) is cut off by the request timeout (2 s here).
s = socket.create_connection((server.host, server.port), timeout=10)
start = time.time()
cut = False
try:
    for b in b"GET /healthz HTTP/1.1\r\nHost: slow\r\n":
        s.sendall(bytes([b]))
        time.sleep(0.5)
except (BrokenPipeError, ConnectionResetError):
    cut = True
if not cut:
    try:
        cut = s.recv(1) == b""
    except (ConnectionResetError, socket.timeout):
        cut = True
s.close()
t.check("slow client cut by the request timeout", cut and time.time() - start < 12, f"{time.time() - start:.1f} s")

# 10,000 idle connections, and a client still gets answers.
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
idle = []
try:
    for _ in range(10000):
        idle.append(socket.create_connection((server.host, server.port), timeout=10))
except OSError as e:
    t.check("open 10,000 connections", False, f"{len(idle)} opened: {e}")
c = Client(server, "writer", "w-secret")
start = time.time()
ok = 0
for i in range(50):
    code, _, _, _ = c.request("POST", API + "/v1", {"caseType": "LOAN", "clientId": str(i), "clientType": "PESEL", "status": "OPEN"})
    ok += code == 200
t.equal("answers while 10,000 connections idle", ok, 50)
t.check("and fast", time.time() - start < 10, f"{time.time() - start:.1f} s for 50 creates")
metrics = Client(server).request("GET", "/metrics")[3].decode()
open_now = [int(float(l.split()[1])) for l in metrics.splitlines() if l.startswith("caserepo_http_connections ")]
t.check("metrics see the idle connections", open_now and open_now[0] >= 10000, open_now)
for s in idle:
    s.close()

# SIGTERM: a request in flight (half its body sent) finishes and is
# answered, then the process exits 0, and the write is durable. (A server
# of its own: the one above is still closing 10,000 connections.)
t.equal("clean shutdown after the idle connections", server.stop(), 0)
server = Server(binary, os.path.join(work, "data"), users, "--access-log", "off").start()
body = b'{"caseType":"LOAN","clientId":"sigterm","clientType":"PESEL","status":"OPEN","caseId":"sigterm-case"}'
s = socket.create_connection((server.host, server.port), timeout=20)
s.sendall(b"POST /api/case-repository/v1 HTTP/1.1\r\nHost: x\r\nAuthorization: " + AUTH.encode() +
          b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:20])
time.sleep(0.3)
server.proc.send_signal(15)
time.sleep(0.3)
s.sendall(body[20:])
resp = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    resp += chunk
s.close()
t.equal("SIGTERM: the request in flight is answered", status_of(resp), 200)
t.check("SIGTERM: and its connection closed", b"Connection: close" in resp, resp[:300])
t.equal("SIGTERM exit code", server.stop(), 0)
r = subprocess.run([cli, "--data", os.path.join(work, "data"), "get", "sigterm-case"], capture_output=True, text=True)
t.equal("the acknowledged create survived the shutdown", r.returncode, 0)

# Plain HTTP on a non-loopback address is refused without TLS.
r = subprocess.run([binary, "--data", os.path.join(work, "data2"), "--users", users, "--listen", "0.0.0.0:0"],
                   capture_output=True, text=True, timeout=30)
t.check("plain HTTP off loopback refused", r.returncode == 1 and "refusing" in r.stderr, r.stderr)

# TLS with a self-signed certificate.
cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
tls_server = Server(binary, os.path.join(work, "data-tls"), users, "--tls-cert", cert, "--tls-key", key,
                    "--access-log", "off", "--listen", "0.0.0.0:0").start()  # off loopback: allowed with TLS
t.equal("TLS: listening on every interface", tls_server.host, "0.0.0.0")
tls_server.host = "127.0.0.1"
ctx = ssl.create_default_context(cafile=cert)
conn = http.client.HTTPSConnection(tls_server.host, tls_server.port, context=ctx, timeout=10)
conn.request("POST", API + "/v1", body=b'{"caseType":"LOAN","clientId":"1","clientType":"PESEL","status":"OPEN"}',
             headers={"Authorization": AUTH, "Content-Type": "application/json"})
resp = conn.getresponse()
t.equal("TLS create", resp.status, 200)
resp.read()
conn.request("GET", "/healthz")
t.equal("TLS keep-alive", conn.getresponse().status, 200)
plain, closed = raw(tls_server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
t.check("plain HTTP to the TLS port gets no HTTP answer", status_of(plain) is None, plain[:100])
t.equal("TLS server clean shutdown", tls_server.stop(), 0)

# A damaged data directory: exit 5 with the Corruption message, no listener.
data = os.path.join(work, "data")
seg = sorted(f for f in os.listdir(data) if f.startswith("log-") and f.endswith(".log"))[0]
with open(os.path.join(data, seg), "r+b") as f:
    f.seek(24 + 5)
    b = f.read(1)
    f.seek(24 + 5)
    f.write(bytes([b[0] ^ 0x40]))
damaged = Server(binary, data, users).start(expect_listening=False)
out, _ = damaged.proc.communicate(timeout=30)
t.equal("damaged directory: exit code", damaged.proc.returncode, 5)
t.check("damaged directory: no listener", "listening" not in out, out)
t.check("damaged directory: the Corruption message", '"error":"Corruption"' in damaged.read_stderr() and seg in damaged.read_stderr(),
        damaged.read_stderr())
t.finish()
