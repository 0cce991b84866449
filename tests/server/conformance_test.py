#!/usr/bin/env python3
"""Every endpoint of the SPEC's REST table with the real caserepo-server:
status codes, the error JSON, headers, query parameters, the low-code
defaults per user, operators' endpoints, the access log, and that the
server's routes are exactly docs/openapi.yaml's paths.

    conformance_test.py PATH/TO/caserepo-server REPO_ROOT"""
import json
import os
import re
import sys

from harness import API, Client, Failures, Server, add_user, new_workdir

binary, root = sys.argv[1], sys.argv[2]
t = Failures("conformance")
work = new_workdir("caserepo-conformance-")
users = os.path.join(work, "users")
add_user(binary, users, "writer", "w-secret", "writer")
add_user(binary, users, "reader", "r-secret", "reader")
add_user(binary, users, "lowcode", "l-secret", "writer", app="mortgage-app")
log_path = os.path.join(work, "access.log")
server = Server(binary, os.path.join(work, "data"), users, "--access-log", log_path).start()
w = Client(server, "writer", "w-secret")
r = Client(server, "reader", "r-secret")
JSON_TYPE = "application/json; charset=utf-8"

def is_error(what, got, status, name):
    code, headers, body, _ = got
    t.equal(f"{what}: status", code, status)
    t.check(f"{what}: error JSON", isinstance(body, dict) and body.get("error") == name and isinstance(body.get("message"), str),
            repr(body))
    t.equal(f"{what}: content type", headers.get("content-type"), JSON_TYPE)

# create: 200 with the entry, every field of the data model, nulls written out.
code, headers, e, _ = w.request("POST", API + "/v1", {"caseType": "LOAN", "client": "12345678901", "clientType": "PESEL",
                                                      "status": "OPEN", "businessKey": "BK-1"})
t.equal("create: status", code, 200)
t.equal("create: content type", headers.get("content-type"), JSON_TYPE)
t.equal("create: fields", list(e.keys()), ["caseId", "businessKey", "caseType", "clientId", "clientType", "status",
                                          "statusDescription", "source", "creationDate", "updateDate"])
t.check("create: generated caseId is a UUID", re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", e["caseId"]),
        e["caseId"])
t.equal("create: null source", e["source"], None)
t.check("create: dates", re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["creationDate"]), e["creationDate"])
case = e["caseId"]

# joins by business key
code, _, e2, _ = w.request("POST", API + "/v1", {"caseType": "LOAN", "clientId": "12345678901", "clientType": "PESEL",
                                                 "status": "IN_PROGRESS", "businessKey": "BK-1"})
t.equal("create joins by businessKey", (code, e2["caseId"]), (200, case))

# get / history
code, _, cur, _ = r.request("GET", f"{API}/v1?caseId={case}")
t.equal("get: current status", (code, cur["status"]), (200, "IN_PROGRESS"))
code, _, hist, _ = r.request("GET", f"{API}/v1/history?caseId={case}")
t.equal("history: oldest first", (code, [h["status"] for h in hist]), (200, ["OPEN", "IN_PROGRESS"]))

# update (patch), null allowed
code, _, up, _ = w.request("PATCH", f"{API}/v1?caseId={case}", {"status": "CLOSED", "statusDescription": "done", "businessKey": None})
t.equal("update: current entry", (code, up["status"], up["statusDescription"], up["businessKey"]), (200, "CLOSED", "done", None))
is_error("update: empty patch", w.request("PATCH", f"{API}/v1?caseId={case}", {}), 400, "InvalidArgument")
is_error("update: unknown case", w.request("PATCH", f"{API}/v1?caseId=nope", {"status": "X"}), 404, "NotFound")

# search: POST and GET with repeated parameters, the same answer
for i in range(30):
    code, _, _, _ = w.request("POST", API + "/v1", {"caseType": "CARD" if i % 2 else "LOAN", "clientId": f"c{i % 3}",
                                                    "clientType": "NIP", "status": ["NEW", "OPEN", "CLOSED"][i % 3]})
    t.check("bulk create", code == 200, code)
code, _, post, _ = r.request("POST", API + "/v1/search", {"status": ["NEW", "OPEN"], "caseType": "LOAN", "size": 5,
                                                          "sort": "updateDate,desc"})
code2, _, get, _ = r.request("GET", f"{API}/v1/search?status=NEW&status=OPEN&caseType=LOAN&size=5&sort=updateDate,desc")
t.equal("search POST: status", code, 200)
t.equal("search GET = POST", get, post)
t.equal("search: shape", sorted(post.keys()), ["content", "nextPageToken", "page", "size", "totalElements", "totalPages"])
t.check("search: filtered", all(x["status"] in ("NEW", "OPEN") and x["caseType"] == "LOAN" for x in post["content"]), post)
t.check("search: token", isinstance(post["nextPageToken"], str), post["nextPageToken"])
code, _, nxt, _ = r.request("POST", API + "/v1/search", {"status": ["NEW", "OPEN"], "caseType": "LOAN", "size": 5,
                                                         "sort": "updateDate,desc", "pageToken": post["nextPageToken"]})
t.check("search: next page by token", code == 200 and not ({x["caseId"] + x["creationDate"] for x in nxt["content"]} &
                                                            {x["caseId"] + x["creationDate"] for x in post["content"]}), nxt)
code, _, all_, _ = r.request("GET", f"{API}/v1/search?currentOnly=true&size=1000")
t.equal("search: currentOnly counts cases", (code, all_["totalElements"]), (200, 31))
code, _, enc, _ = r.request("GET", f"{API}/v1/search?clientId=c%31&size=1")  # percent-encoded "c1"
t.equal("search: percent-decoding", (code, enc["totalElements"]), (200, 10))
is_error("search: unknown parameter", r.request("GET", f"{API}/v1/search?colour=red"), 400, "InvalidArgument")
is_error("search: bad size", r.request("GET", f"{API}/v1/search?size=0"), 400, "InvalidArgument")
is_error("search: size twice", r.request("GET", f"{API}/v1/search?size=1&size=2"), 400, "InvalidArgument")
is_error("search: damaged token", r.request("POST", API + "/v1/search", {"pageToken": "00" * 22}), 400, "InvalidArgument")
is_error("search: token of another filter", r.request("POST", API + "/v1/search", {"status": "NEW", "pageToken": post["nextPageToken"]}),
         400, "InvalidArgument")
is_error("search: page and token", r.request("POST", API + "/v1/search", {"page": 1, "pageToken": post["nextPageToken"]}), 400,
         "InvalidArgument")
is_error("search: inverted date range", r.request("POST", API + "/v1/search",
                                                  {"creationDateFrom": "2030-01-01T00:00:00Z", "creationDateTo": "2020-01-01T00:00:00Z"}),
         400, "InvalidArgument")
is_error("search: malformed query", r.request("GET", f"{API}/v1/search?status=%zz"), 400, "InvalidArgument")

# facets: counts per value that add up to the search's total
for field, flt in [("status", {"caseType": "LOAN"}), ("caseType", {}), ("clientType", {"status": ["NEW", "OPEN"]}), ("source", {})]:
    code, _, f, _ = r.request("POST", API + "/v1/facets", {"field": field, "filter": flt})
    code2, _, s2, _ = r.request("POST", API + "/v1/search", {**flt, "size": 1000})
    t.equal(f"facets {field}: status", code, 200)
    t.equal(f"facets {field}: shape", sorted(f.keys()), ["counts", "field", "missing", "totalElements"])
    t.equal(f"facets {field}: total = search total", f["totalElements"], s2["totalElements"])
    t.equal(f"facets {field}: counts + missing = total", sum(f["counts"].values()) + f["missing"], f["totalElements"])
    expected = {}
    for e in s2["content"]:
        if e[field] is not None:
            expected[e[field]] = expected.get(e[field], 0) + 1
    t.equal(f"facets {field}: counts = the search's entries counted", f["counts"], expected)
    t.check(f"facets {field}: most frequent first", list(f["counts"].values()) == sorted(f["counts"].values(), reverse=True), f)
is_error("facets: unknown field", r.request("POST", API + "/v1/facets", {"field": "clientId"}), 400, "InvalidArgument")
is_error("facets: no field", r.request("POST", API + "/v1/facets", {"filter": {}}), 400, "InvalidArgument")
is_error("facets: paging in the filter", r.request("POST", API + "/v1/facets", {"field": "status", "filter": {"page": 1}}), 400,
         "InvalidArgument")
is_error("facets: GET", r.request("GET", API + "/v1/facets"), 405, "MethodNotAllowed")

# me: who the credentials are
code, _, me, _ = r.request("GET", API + "/v1/me")
t.equal("me", (code, me), (200, {"name": "reader", "role": "reader", "app": None}))
code, _, me, _ = Client(server, "lowcode", "l-secret").request("GET", API + "/v1/me")
t.equal("me with an application", (code, me), (200, {"name": "lowcode", "role": "writer", "app": "mortgage-app"}))

# the console's static files, outside the API
anon0 = Client(server)
code, headers, _, raw = anon0.request("GET", "/console")
t.equal("console: redirect", (code, headers.get("location")), (301, "/console/"))
code, headers, _, raw = anon0.request("GET", "/console/")
t.equal("console: index", (code, headers.get("content-type")), (200, "text/html; charset=utf-8"))
t.check("console: a content security policy", "default-src 'self'" in headers.get("content-security-policy", ""), headers)
t.check("console: the page", b"<title>caserepo console</title>" in raw, raw[:200])
code, headers, _, _ = anon0.request("GET", "/console/app.js")
t.equal("console: a module", (code, headers.get("content-type")), (200, "text/javascript; charset=utf-8"))
is_error("console: unknown file", anon0.request("GET", "/console/nope.js"), 404, "NotFound")
is_error("console: not GET", anon0.request("POST", "/console/", {"a": 1}), 405, "MethodNotAllowed")

# errors of the create/get family
is_error("create: unknown field", w.request("POST", API + "/v1", {"caseType": "LOAN", "clientId": "1", "clientType": "P", "status": "S", "x": 1}),
         400, "InvalidArgument")
is_error("create: missing field", w.request("POST", API + "/v1", {"caseType": "LOAN", "clientId": "1", "clientType": "P"}), 400, "InvalidArgument")
is_error("create: bad JSON", w.request("POST", API + "/v1", b'{"caseType":'), 400, "InvalidArgument")
is_error("create: invalid UTF-8", w.request("POST", API + "/v1", b'{"caseType":"\xff\xfe","clientId":"1","clientType":"P","status":"S"}'),
         400, "InvalidArgument")
is_error("create: wrong content type", w.request("POST", API + "/v1", b"caseType=LOAN", content_type="application/x-www-form-urlencoded"),
         415, "UnsupportedMediaType")
is_error("create: no content type", w.request("POST", API + "/v1", b"{}", content_type=None), 415, "UnsupportedMediaType")
is_error("create: conflict", w.request("POST", API + "/v1", {"caseId": case, "caseType": "CARD", "clientId": "12345678901",
                                                            "clientType": "PESEL", "status": "OPEN"}), 409, "Conflict")
is_error("get: unknown", r.request("GET", f"{API}/v1?caseId=nope"), 404, "NotFound")
is_error("get: no caseId", r.request("GET", f"{API}/v1"), 400, "InvalidArgument")
is_error("get: caseId twice", r.request("GET", f"{API}/v1?caseId=a&caseId=b"), 400, "InvalidArgument")
is_error("get: unknown parameter", r.request("GET", f"{API}/v1?caseId={case}&x=1"), 400, "InvalidArgument")
is_error("history: unknown", r.request("GET", f"{API}/v1/history?caseId=nope"), 404, "NotFound")

# remove
code, _, rem, _ = w.request("DELETE", f"{API}/v1?caseId={case}")
t.equal("remove", (code, rem), (200, {"removed": 2}))
is_error("remove: again", w.request("DELETE", f"{API}/v1?caseId={case}"), 404, "NotFound")

# routing: 404 for an unknown path, 405 with Allow
is_error("unknown path", r.request("GET", API + "/v2"), 404, "NotFound")
got = r.request("PUT", API + "/v1", {"a": 1})
is_error("method not allowed", got, 405, "MethodNotAllowed")
t.equal("405 Allow header", got[1].get("allow"), "DELETE, GET, PATCH, POST")
got = r.request("DELETE", API + "/v1/search")
t.equal("405 Allow header on search", (got[0], got[1].get("allow")), (405, "GET, POST"))

# the low-code facade: a user with an application name gets its defaults
lc = Client(server, "lowcode", "l-secret")  # noqa: F811
code, _, e, _ = lc.request("POST", API + "/v1", {"clientId": "9", "clientType": "PESEL", "status": "NEW"})
t.equal("low-code defaults", (code, e["caseType"], e["source"]), (200, "mortgage-app", "eximee"))
code, _, e, _ = lc.request("POST", API + "/v1", {"clientId": "9", "clientType": "PESEL", "status": "NEW", "caseType": "OWN", "source": "PORTAL"})
t.equal("low-code: explicit values win", (code, e["caseType"], e["source"]), (200, "OWN", "PORTAL"))
is_error("no application name: caseType required", w.request("POST", API + "/v1", {"clientId": "9", "clientType": "PESEL", "status": "NEW"}),
         400, "InvalidArgument")

# operators' endpoints: no credentials needed
anon = Client(server)
code, headers, body, _ = anon.request("GET", "/healthz")
t.equal("healthz", (code, body, headers.get("content-type")), (200, {"status": "ok"}, JSON_TYPE))
code, _, body, _ = anon.request("GET", "/readyz")
t.equal("readyz", (code, body), (200, {"status": "ready"}))
code, headers, _, raw = anon.request("GET", "/metrics")
text = raw.decode()
t.equal("metrics: status and type", (code, headers.get("content-type")), (200, "text/plain; version=0.0.4; charset=utf-8"))
for needle in ['caserepo_http_requests_total{route="create",code="200"}', 'caserepo_http_requests_total{route="get",code="404"}',
               "caserepo_http_request_duration_seconds_bucket{route=\"search\",le=\"+Inf\"}", "caserepo_entries ",
               "caserepo_cases ", "caserepo_log_bytes_since_checkpoint ", "caserepo_log_syncs_total ",
               "caserepo_checkpoints_total ", "caserepo_read_only 0", "caserepo_auth_failures_total "]:
    t.check(f"metrics has {needle}", needle in text, "")
m = re.search(r"^caserepo_entries (\d+)", text, re.M)
code, _, all_, _ = r.request("GET", f"{API}/v1/search?size=1")
t.equal("metrics: entries = search total", int(m.group(1)) if m else None, all_["totalElements"])

# HTTP/1.1 keep-alive: all of the above went over two connections
t.check("keep-alive", w.conn.sock is not None, "writer connection was closed")

# the access log: one JSON line per request, never credentials or bodies
code = server.stop()
t.equal("clean shutdown exit code", code, 0)
with open(log_path) as f:
    lines = [json.loads(line) for line in f if line.strip()]
t.check("access log: a line per request", len(lines) >= 60, len(lines))
t.equal("access log: fields", list(lines[0].keys()), ["time", "client", "user", "method", "path", "route", "status", "bytes", "ms"])
raw_log = open(log_path).read()
t.check("access log: no passwords", "w-secret" not in raw_log and "r-secret" not in raw_log and "Basic " not in raw_log, "")
t.check("access log: no bodies", "12345678901" not in raw_log, "")

# the server's routes and the OpenAPI document's paths are the same set
with open(os.path.join(root, "docs", "openapi.yaml")) as f:
    doc = f.read()
section = doc.split("\npaths:\n", 1)[1].split("\ncomponents:\n", 1)[0]
paths = set(re.findall(r"^  (/[^\s:]*):\s*$", section, re.M))
api_paths = {"/api/case-repository" + p if p.startswith("/v1") else p for p in paths}
routes = json.loads(os.popen(f"{binary} --routes").read())
t.equal("openapi paths = server routes", sorted(api_paths), sorted(routes))
t.finish()
