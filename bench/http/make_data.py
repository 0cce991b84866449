#!/usr/bin/env python3
"""The HTTP benchmark's data, the same for caserepo and PostgreSQL: N entries
of realistic cases (1-4 statuses each; skewed statuses, case types and
clients, per the SPEC's reference values), with caseIds case-<k> so that
wrk and pgbench can pick random existing cases by number.

    make_data.py N OUT_DIR   -> OUT_DIR/creates.jsonl (caserepo apply), entries.csv (COPY), cases (count)"""
import csv
import datetime
import json
import os
import random
import sys

n, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(2025)
STATUSES = [("CLOSED", .34), ("OPEN", .26), ("IN_PROGRESS", .15), ("NEW", .10), ("WAITING_FOR_CLIENT", .08),
            ("APPROVED", .04), ("REJECTED", .025), ("ESCALATED", .004), ("FRAUD_REVIEW", .001)]
CASE_TYPES = ["LOAN", "ACCOUNT", "CARD", "MORTGAGE", "COMPLAINT", "INSURANCE", "DEPOSIT", "LEASING", "INVESTMENT", "TRANSFER",
              "KYC_REVIEW", "ADDRESS_CHANGE", "CARD_BLOCK", "OVERDRAFT", "CHARGEBACK", "BENEFICIARY", "STANDING_ORDER",
              "DIRECT_DEBIT", "CREDIT_LIMIT", "ACCOUNT_CLOSURE"]
CLIENT_TYPES = [("PESEL", .7), ("NIP", .15), ("REGON", .1), ("CIF", .05)]
SOURCES = [("PORTAL", .35), ("MOBILE", .3), ("BRANCH", .15), ("CALL_CENTER", .12), ("eximee", .08)]
type_weights = [1 / (i + 1) for i in range(len(CASE_TYPES))]
clients = max(1, n // 3)
harmonic = [0.0]
for k in range(1, clients + 1):
    harmonic.append(harmonic[-1] + 1 / k)

def client():
    u = rng.random() * harmonic[-1]
    lo, hi = 1, clients
    while lo < hi:
        mid = (lo + hi) // 2
        if harmonic[mid] < u:
            lo = mid + 1
        else:
            hi = mid
    return f"{10000000000 + lo:011d}"

def pick(table):
    return rng.choices([v for v, _ in table], [w for _, w in table])[0]

os.makedirs(out, exist_ok=True)
start_ms = 1735689600000
step = max(1, 365 * 86400 * 1000 // max(n, 1))
with open(os.path.join(out, "creates.jsonl"), "w") as jl, open(os.path.join(out, "entries.csv"), "w", newline="") as cf:
    w = csv.writer(cf)
    made, case = 0, 0
    while made < n:
        case += 1
        cid, ctype, ctt = client(), rng.choices(CASE_TYPES, type_weights)[0], pick(CLIENT_TYPES)
        bk = f"BK-{case}" if rng.random() < 0.6 else None
        count = min(rng.choice([1, 1, 2, 2, 3, 4]), n - made)
        for i in range(count):
            made += 1
            status, source = pick(STATUSES), pick(SOURCES)
            req = {"caseId": f"case-{case}", "caseType": ctype, "clientId": cid, "clientType": ctt, "status": status,
                   "source": source}
            if bk:
                req["businessKey"] = bk
            jl.write(json.dumps({"op": "create", "request": req}) + "\n")
            ts = datetime.datetime.fromtimestamp((start_ms + made * step) / 1000, datetime.timezone.utc).isoformat()
            w.writerow([made, f"case-{case}", bk or "", ctype, cid, ctt, status, "", source, ts, ts, "t" if i == count - 1 else "f"])
with open(os.path.join(out, "cases"), "w") as f:
    f.write(str(case))
