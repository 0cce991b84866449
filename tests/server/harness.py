"""Starting and talking to a real caserepo-server for the end-to-end tests:
each server runs on 127.0.0.1 on a free port (port 0; the server prints
"listening on HOST:PORT"), in a temporary directory, and is stopped by pid."""
import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time


class Failures:
    """Collects check results; prints a ctest-readable summary."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, []

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed.append(f"{what}: {detail}")
            print(f"FAIL {self.name}: {what}: {detail}", flush=True)

    def equal(self, what, got, want):
        self.check(what, got == want, f"got {got!r}, want {want!r}")

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {len(self.failed)} failed", flush=True)
        if not self.failed:
            for d in _workdirs:
                shutil.rmtree(d, ignore_errors=True)
        elif _workdirs:
            print(f"{self.name}: its files are kept in {', '.join(_workdirs)}", flush=True)
        sys.exit(1 if self.failed else 0)


def add_user(binary, users_file, name, password, role, app=None):
    args = [binary, "users", "add", "--users", users_file, "--name", name, "--role", role]
    if app:
        args += ["--app", app]
    subprocess.run(args, input=password + "\n", text=True, check=True, capture_output=True)


class Server:
    def __init__(self, binary, data_dir, users_file, *extra, env=None):
        self.binary, self.data_dir, self.users_file, self.extra = binary, data_dir, users_file, list(extra)
        self.stderr_path = os.path.join(os.path.dirname(data_dir.rstrip("/")), f"server-{os.getpid()}-{time.time_ns()}.err")
        self.proc = None
        self.host, self.port = None, None

    def start(self, expect_listening=True, timeout=30):
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([self.binary, "--data", self.data_dir, "--users", self.users_file,
                                      "--listen", "127.0.0.1:0", *self.extra],
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        if not expect_listening:
            return self
        deadline = time.time() + timeout
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"server did not start: {line!r}, stderr: {self.read_stderr()}")
        host_port = line.split()[-1]
        self.host, self.port = host_port.rsplit(":", 1)[0], int(host_port.rsplit(":", 1)[1])
        if time.time() > deadline:
            raise RuntimeError("server start timed out")
        return self

    def read_stderr(self):
        self.stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def connection(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Client:
    """A keep-alive connection with a user's credentials."""

    def __init__(self, server, user=None, password=None, timeout=30):
        self.server, self.timeout = server, timeout
        self.auth = basic(user, password) if user else None
        self.conn = server.connection(timeout)

    def request(self, method, path, body=None, headers=None, content_type="application/json"):
        h = dict(headers or {})
        if self.auth and "Authorization" not in h:
            h["Authorization"] = self.auth
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
            if content_type:
                h.setdefault("Content-Type", content_type)
        try:
            self.conn.request(method, path, body=data, headers=h)
            r = self.conn.getresponse()
        except (http.client.HTTPException, ConnectionError, OSError):
            self.conn.close()
            self.conn = self.server.connection(self.timeout)
            raise
        raw = r.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), parsed, raw

    def close(self):
        self.conn.close()


API = "/api/case-repository"


_workdirs = []  # removed by Failures.finish when every check passed (kept to look at when one failed)


def new_workdir(prefix):
    _workdirs.append(tempfile.mkdtemp(prefix=prefix))
    return _workdirs[-1]
