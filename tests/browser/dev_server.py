#!/usr/bin/env python3
"""A development aid for the status page, NOT a test: a fake oracle.

It serves api/web/ the way the daemon does (index.html at /, with
{{ASSET_BASE}} replaced, every asset under /ui/dev/, the daemon's CSP on
every answer) and answers the REST API the page reads (docs/api.md) with a
canned world that plays the lab's tour: healthy, beta publishes an empty
answer (disputed, held healthy, escalated), the service goes down
(unhealthy at http), then recovers. Use it to work on the page without a
build, or to try status_page_test.py before the daemon serves the page.
With --api it serves the page's files from this tree but passes every
other request to a real oracle (a `crosscheck lab`, say): the page as
edited, against the real API, without rebuilding the binary.

    tests/browser/dev_server.py [--listen 127.0.0.1:8000] [--targets 10000]
    tests/browser/dev_server.py --api http://127.0.0.1:9470
    # mimics `crosscheck lab`'s banner, for status_page_test.py:
    tests/browser/dev_server.py lab --listen 127.0.0.1:0 --linger 8s --dir DIR

Only loopback; nothing persists; the ack token is written to DIR/ack.token
(lab form) or printed (default form).
"""
import argparse
import hashlib
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "api", "web")
ASSET_BASE = "/ui/dev/"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
STALE_AFTER = 2.5
DOMAINS = ["alpha", "beta", "gamma"]
ANSWER = ["127.0.0.10"]
ACK_TOKEN = "dev-ack-token"
READ_ONLY_TOKEN = "dev-read-token"  # known, but without scope ack: answers 403 insufficient_scope


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class World:
    """The tour, as the oracle would publish it; phase changes bump the revision."""

    PHASES = [  # (verdict, held, failing layer, beta's mode, service up)
        ("healthy", None, None, "ok", True),
        ("disputed", "healthy", None, "empty", True),
        ("unhealthy", None, "http", "ok", False),
        ("healthy", None, None, "ok", True),
    ]

    def __init__(self, linger, fillers, frozen=False, variety=False):
        self.lock = threading.Condition()
        self.frozen = frozen  # evaluation stalls: verdicts keep their first valid_until
        self.variety = variety  # a group, holds, a split, a suspect vantage and a peer
        self.linger = linger
        self.started = time.time()
        self.phase = -1
        self.revision = 0
        self.history = {}
        self.fillers = [f"t{i:05d}" for i in range(fillers)]
        self.standing = [] if not variety else [  # escalations that stay open
            {"id": 7, "key": "vantage_suspect/delta/1", "kind": "vantage_suspect", "target": None, "vantage": "delta",
             "reason": "vantage delta is suspect: it fails canary lab-canary", "opened_at": rfc3339(self.started),
             "acked_at": None, "acked_by": None, "silenced": False},
            {"id": 8, "key": "peer_unauthenticated/oracle-b/1", "kind": "peer_unauthenticated", "target": None,
             "vantage": "oracle-b", "reason": "peer oracle-b: reply signature does not verify",
             "opened_at": rfc3339(self.started), "acked_at": None, "acked_by": None, "silenced": False}]
        self.escalations = list(self.standing)
        with self.lock:
            self.advance()

    def advance(self):
        """Moves to the phase the clock says; call with the lock held."""
        want = min(len(self.PHASES) - 1, int((time.time() - self.started) / self.linger))
        while self.phase < want:
            self.phase += 1
            verdict, held, layer, _, _ = self.PHASES[self.phase]
            self.revision += 1
            now = time.time()
            reason = self.reason()
            self.history.setdefault("shop", []).insert(0, {
                "generation": self.phase + 1, "at": rfc3339(now), "verdict": verdict, "held": held,
                "reason_code": {"disputed": "dispute"}.get(verdict, "quorum"), "reason": reason})
            if verdict == "disputed":
                self.escalations.append({"id": 1, "key": "dispute/shop/2", "kind": "dispute", "target": "shop",
                                         "vantage": None, "reason": reason, "opened_at": rfc3339(now),
                                         "acked_at": None, "acked_by": None, "silenced": False})
            else:
                self.escalations = [e for e in self.escalations if e["kind"] != "dispute"]
            self.lock.notify_all()

    def reason(self):
        verdict = self.PHASES[self.phase][0]
        return {"healthy": "3 of 3 failure domains up (alpha, beta and gamma), 2 needed",
                "disputed": "1 of 3 failure domains down (beta), 2 needed: holding healthy",
                "unhealthy": "3 of 3 failure domains down (alpha, beta and gamma) at http, 2 needed"}[verdict]

    def votes(self, target):
        if target != "shop":
            return {"up": 3, "down": 0, "unknown": 0, "down_quorum": 2, "up_quorum": 2, "split": 0,
                    "split_domains": [], "known_domains": 3, "up_domains": DOMAINS, "down_domains": [],
                    "degraded": 0, "degraded_domains": []}
        _, _, _, beta, up = self.PHASES[self.phase]
        down = DOMAINS if not up else (["beta"] if beta == "empty" else [])
        ups = [d for d in DOMAINS if d not in down]
        return {"up": len(ups), "down": len(down), "unknown": 0, "down_quorum": 2, "up_quorum": 2,
                "split": 0, "split_domains": [], "known_domains": 3, "up_domains": ups,
                "down_domains": down, "degraded": 0, "degraded_domains": []}

    def summary(self, target):
        out = self.plain_summary(target)
        if self.variety and target in self.VARIETY:
            self.VARIETY[target](self, out)
        return out

    def with_group(self, out):
        out.update(votes=None, reason="1 of 2 members healthy, 1 needed", group={"healthy_at_least": 1, "members": [
            {"target": t, "verdict": self.plain_summary(t)["verdict"], "fresh": True, "maintenance": False,
             "override": False} for t in ("shop", "lab-canary")]})

    def with_override(self, out):
        out.update(verdict="unhealthy", reason="operator override: failover drill", override={
            "verdict": "unhealthy", "reason": "failover drill", "by": "alice", "set_at": rfc3339(self.started),
            "expires_at": rfc3339(self.started + 1800)})

    def with_maintenance(self, out):
        out.update(verdict="unknown", held="healthy", fresh=False, maintenance={
            "source": "api", "window": "", "since": rfc3339(self.started), "until": rfc3339(self.started + 2700),
            "reason": "kernel upgrade", "by": "bob", "node": None})

    def with_cooldown(self, out):
        out.update(cooldown={"action": "lab-17", "by": "failover-bot", "what": "promote db-2",
                             "since": rfc3339(self.started), "until": rfc3339(self.started + 3600)})

    def with_split(self, out):
        out["votes"].update(up=2, split=1, split_domains=["gamma"], up_domains=["alpha", "beta"])
        out.update(fresh=False, reason="2 of 3 failure domains up, 1 split (gamma: its own vantages disagree)")

    VARIETY = {"group:storefront": with_group, "legacy": with_override, "batch": with_maintenance,
               "db": with_cooldown, "split-target": with_split}

    def vantages(self):
        out = [{"name": d, "node": None, "domain": d, "suspect": False, "suspect_reason": None,
                "last_seen": rfc3339(time.time() - 0.2)} for d in DOMAINS]
        if self.variety:
            out += [{"name": "delta", "node": None, "domain": "delta", "suspect": True,
                     "suspect_reason": "fails canary lab-canary while 3 other domains see it up",
                     "last_seen": rfc3339(time.time() - 0.2)},
                    {"name": "oracle-b/quad9", "node": "oracle-b", "domain": "oracle-b", "suspect": False,
                     "suspect_reason": None, "last_seen": rfc3339(time.time() - 40)}]
        return out

    def plain_summary(self, target):
        now = self.started if self.frozen else time.time()
        verdict, held, layer, _, _ = self.PHASES[self.phase] if target == "shop" else ("healthy", None, None, "ok", True)
        since = self.history["shop"][0]["at"] if target == "shop" else rfc3339(self.started)
        return {"target": target, "verdict": verdict, "held": held, "fresh": True,
                "generation": self.phase + 1 if target == "shop" else 1, "since": since, "stable_from": None,
                "evaluated_at": rfc3339(now), "valid_until": rfc3339(now + STALE_AFTER),
                "reason": self.reason() if target == "shop" else "3 of 3 failure domains up, 2 needed",
                "failing_layer": layer, "scope": "service" if layer else "none", "maintenance": None,
                "cooldown": None, "cert_not_after": None, "rrsig_expires": None,
                "votes": self.votes(target), "override": None, "group": None}

    def evidence(self, target):
        now = time.time()
        _, _, _, beta, up = self.PHASES[self.phase] if target == "shop" else (None, None, None, "ok", True)
        out = []
        for domain in DOMAINS:
            empty = domain == "beta" and beta == "empty"
            outcome = "down" if empty or not up else "up"
            out.append({"vantage": domain, "node": "lab", "domain": domain, "vote": outcome, "raw_vote": outcome,
                        "suspect": False, "stale": False, "window_latency_ms": None,
                        "last_observed": rfc3339(now - 0.3), "cert_not_after": None, "rrsig_expires": None,
                        "latency_ms": 3 if empty else 12, "outcome": outcome,
                        "layer": "dns" if empty else (None if up else "http"),
                        "detail": "NOERROR, empty answer" if empty else ("HTTP 200" if up else "HTTP 503"),
                        "answers": [] if empty else ANSWER})
        return out

    def verdict(self, target):
        out = self.summary(target)
        evidence = self.evidence(target)
        diverging = any(e["answers"] == [] for e in evidence)
        out.update({"evidence": evidence, "reason_code": "dispute" if out["verdict"] == "disputed" else "quorum",
                    "last_known_good": None, "canary": False,
                    "divergence": [{"vantage": e["vantage"], "domain": e["domain"], "answers": e["answers"]}
                                   for e in evidence] if diverging else []})
        return out

    def targets(self):
        return ["shop", "lab-canary"] + (list(self.VARIETY) if self.variety else []) + self.fillers


class Handler(http.server.BaseHTTPRequestHandler):
    world = None
    upstream = None  # the real oracle's URL, with --api
    reads_need_token = False
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body=b"", content_type="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        if status == 200 and self.command == "GET" and self.headers.get("If-None-Match") == etag:
            status, body = 304, b""
        self.send_response(status)
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        if status in (200, 304) and content_type == "application/json":
            self.send_header("ETag", etag)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a closed tab, an aborted watch)

    def error(self, status, code, detail, headers=()):
        self.send(status, {"error": code, "detail": detail}, headers=headers)

    def serve_file(self, path):
        """The page's files, as the daemon serves them; False for any other path."""
        if path == "/":
            with open(os.path.join(WEB, "index.html"), "rb") as f:
                self.send(200, f.read().replace(b"{{ASSET_BASE}}", ASSET_BASE.encode()), TYPES[".html"])
            return True
        match = re.fullmatch(r"/ui/dev/([a-z0-9_-]+\.(html|js|css|svg))", path)
        if match:
            with open(os.path.join(WEB, match.group(1)), "rb") as f:
                self.send(200, f.read(), TYPES["." + match.group(2)])
            return True
        return False

    def proxy(self, body=None):
        """Passes the request to the real oracle (--api) and its answer back."""
        request = urllib.request.Request(self.upstream + self.path, data=body, method=self.command)
        for name in ("Authorization", "If-None-Match", "Content-Type", "Accept"):
            if self.headers.get(name):
                request.add_header(name, self.headers[name])
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            response = opener.open(request, timeout=40)
        except urllib.error.HTTPError as error:
            response = error
        except OSError as error:
            return self.error(502, "bad_gateway", f"the oracle at {self.upstream} does not answer: {error}")
        with response:
            payload = response.read()
            passed = [(name, response.headers[name]) for name in ("ETag", "WWW-Authenticate", "Retry-After")
                      if response.headers.get(name)]
            self.send_response(response.status)
            for name, value in passed + [("Content-Type", response.headers.get("Content-Type", "application/json")),
                                         ("Content-Length", str(len(payload))), ("Cache-Control", "no-store"),
                                         ("Content-Security-Policy", CSP)]:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if self.serve_file(path):
            return
        if self.upstream:
            return self.proxy()
        world = self.world
        if self.reads_need_token and self.headers.get("Authorization") not in (
                f"Bearer {ACK_TOKEN}", f"Bearer {READ_ONLY_TOKEN}"):
            return self.error(401, "unauthorized", "a bearer token is required" if not self.headers.get("Authorization")
                              else "invalid bearer token", [("WWW-Authenticate", 'Bearer realm="crosscheck"')])
        with world.lock:
            world.advance()
            if path == "/v1/verdicts":
                return self.send(200, {"revision": world.revision, "node": "lab",
                                       "verdicts": [world.summary(t) for t in world.targets()]})
            if path == "/v1/watch":
                params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                since = int(params.get("since", "0"))
                wait = min(30.0, float(re.sub(r"ms$", "", params.get("timeout", "25000ms"))) / 1000)
                deadline = time.time() + wait
                while world.revision <= since and time.time() < deadline:
                    world.lock.wait(min(0.1, max(0.0, deadline - time.time())))
                    world.advance()
                if world.revision <= since:
                    return self.send(204)
                return self.send(200, {"revision": world.revision,
                                       "verdicts": [world.summary(t) for t in world.targets()]})
            if path == "/v1/vantages":
                return self.send(200, {"vantages": world.vantages()})
            if path == "/v1/escalations":
                return self.send(200, {"escalations": world.escalations})
            match = re.fullmatch(r"/v1/verdicts/([^/]+)(/history)?", path)
            if match:
                target = match.group(1).replace("%3A", ":")
                if target not in world.targets():
                    return self.error(404, "unknown_target", f"no target '{target}'")
                if match.group(2):
                    return self.send(200, {"target": target, "history": world.history.get(target, [])})
                return self.send(200, world.verdict(target))
        self.error(404, "not_found", "no such route")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.upstream:
            return self.proxy(body)
        match = re.fullmatch(r"/v1/escalations/(\d+)/ack", self.path)
        if not match:
            return self.error(404, "not_found", "no such route")
        auth = self.headers.get("Authorization", "")
        if not auth:
            return self.error(401, "unauthorized", "a bearer token is required",
                              [("WWW-Authenticate", 'Bearer realm="crosscheck"')])
        if auth == f"Bearer {READ_ONLY_TOKEN}":
            return self.error(403, "insufficient_scope", "token 'reader' lacks scope ack")
        if auth != f"Bearer {ACK_TOKEN}":
            return self.error(401, "unauthorized", "invalid bearer token")
        by = json.loads(body).get("by", "api") if body else "api"
        with self.world.lock:
            for escalation in self.world.escalations:
                if escalation["id"] == int(match.group(1)):
                    escalation.update(acked_at=rfc3339(time.time()), acked_by=by)
                    return self.send(200, {"id": escalation["id"], "acknowledged": True})
        self.error(404, "unknown_escalation", "no open escalation with this id")


def duration(text):
    match = re.fullmatch(r"(\d+)(ms|s)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration such as 8s: {text}")
    return int(match.group(1)) / (1000 if match.group(2) == "ms" else 1)


def print_token(directory):
    """Says the ack token: in DIR/ack.token like the lab, or on the terminal."""
    if not directory:
        print(f"  ack token: {ACK_TOKEN} (a token without scope ack: {READ_ONLY_TOKEN})")
        return
    os.makedirs(directory, exist_ok=True)
    token_file = os.path.join(directory, "ack.token")
    with open(token_file, "w") as f:
        f.write(ACK_TOKEN + "\n")
    print(f"  ack token {token_file} (scope ack)")


def main():
    args = sys.argv[1:]
    lab = bool(args) and args[0] == "lab"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0" if lab else "127.0.0.1:8000")
    parser.add_argument("--linger", type=duration, default=12.0)
    parser.add_argument("--targets", type=int, default=0, help="healthy filler targets, to try a large board")
    parser.add_argument("--dir")
    parser.add_argument("--api", help="a real oracle's URL: serve the page, pass the API through")
    parser.add_argument("--reads-need-token", action="store_true", help="like api.read_requires_token: true")
    parser.add_argument("--variety", action="store_true",
                        help="add a group, an override, maintenance, a cooldown, a split, a suspect vantage, a peer")
    parser.add_argument("--frozen", action="store_true",
                        help="verdicts keep their first valid_until (an oracle whose evaluation stalls)")
    parser.add_argument("--interval", "--scenario", "--log-level", dest="ignored", help="accepted, ignored")
    options = parser.parse_args(args[1:] if lab else args)
    host, _, port = options.listen.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        parser.error("loopback only")
    if options.api:
        if not re.fullmatch(r"http://(127\.0\.0\.1|localhost):\d+", options.api):
            parser.error("--api must be http://127.0.0.1:PORT (loopback only)")
        Handler.upstream = options.api
    else:
        Handler.world = World(options.linger, options.targets, options.frozen, options.variety)
        Handler.reads_need_token = options.reads_need_token
    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    url = "http://%s:%d" % server.server_address
    if options.api:
        print(f"tests/browser/dev_server.py: the page from {WEB}, the API of {options.api}\n")
        print(f"  page     {url}/")
    else:
        print("crosscheck lab (fake, tests/browser/dev_server.py): scenario tour\n")
        print(f"  API      {url}")
        print(f"  page     {url}/")
        print_token(options.dir)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
