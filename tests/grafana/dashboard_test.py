#!/usr/bin/env python3
"""docs/grafana-dashboard.json against a real Prometheus scraping `crosscheck lab`.

Grafana is not in Debian 12, so this checks what Grafana would send: it
starts the lab (the tour, at a 500 ms interval) and Debian's Prometheus
scraping its /metrics every second, waits until the tour has played (so
failing probes, a dispute and a confirmed outage are in the data), then
resolves every template variable (label_values through /api/v1/series) and
runs every panel query as an instant query, with Grafana's variables
substituted as Grafana would. A query fails when Prometheus refuses it
(syntax, unknown function) or answers no series (a misspelt metric or label
answers empty). It also checks the JSON is import-ready and names only
metrics docs/metrics.md documents.

usage: dashboard_test.py CROSSCHECK_BINARY DASHBOARD_JSON WORK_DIR
exit: 0 pass, 1 fail (each failure names the panel and the query),
77 skipped (no prometheus binary).
"""
import ctypes
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# Metrics the dashboard shows that have no series in the lab, and why. Their
# queries may answer empty, but the lab's /metrics must still declare the
# family (# TYPE), so a misspelt name fails here too. Keep this list short.
EMPTY_IN_LAB = {
    # One series per configured peer and reason; the lab runs one oracle
    # and no peers.
    "crosscheck_peer_pull_failures_total": "the lab has no peers",
    "crosscheck_peer_replies_refused_total": "the lab has no peers",
    # One series per configured sink; the lab configures no escalation sink
    # (webhook, Alertmanager, exec).
    "crosscheck_escalation_deliveries_total": "the lab configures no escalation sink",
    "crosscheck_escalation_dropped_total": "the lab configures no escalation sink",
}

# What Grafana's built-in variables become: $__rate_interval is
# max(4 x scrape interval, $__interval + scrape interval) with the 1 s
# scrape below; $__range is a dashboard range that covers the whole run.
BUILTINS = {
    "__rate_interval": "4s",
    "__interval": "2s",
    "__interval_ms": "2000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}
ALLOWED_RANGES = {"$__rate_interval", "$__range"}

DS_REF = {"type": "prometheus", "uid": "${datasource}"}
JOB = "crosscheck"
SCRAPES_WANTED = 5
OVERALL_BUDGET = 150.0  # seconds; ctest's TIMEOUT is 180


class Failed(Exception):
    pass


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self, at_most):
        return max(0.0, min(at_most, self.end - time.monotonic()))


# --- the dashboard's JSON ------------------------------------------------------------


def walk_panels(panels):
    """Every panel, rows' nested (collapsed) panels included."""
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def variable_query(variable):
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query", "")
    return query or variable.get("definition", "")


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def metric_names(expr):
    names = set()
    for token in re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", strip_strings(expr)):
        if token.startswith(("crosscheck_", "process_")):
            names.add(token)
    return names


def documented(name, docs):
    if f"`{name}`" in docs:
        return True
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and re.search(rf"`{re.escape(base)}` \| histogram", docs):
            return True
    return False


def check_json(dashboard, docs, user_variables):
    """Import-readiness and house rules; returns a list of problems."""
    problems = []
    for key in ("__inputs", "__requires", "title", "uid", "panels", "templating", "schemaVersion"):
        if key not in dashboard:
            problems.append(f"the dashboard has no '{key}'")
    if not isinstance(dashboard.get("schemaVersion"), int) or dashboard["schemaVersion"] < 36:
        problems.append(f"schemaVersion {dashboard.get('schemaVersion')!r}: want 36 or later")
    if dashboard.get("id") is not None:
        problems.append("'id' must be null in an import file")
    inputs = [i for i in dashboard.get("__inputs", []) if i.get("name") == "DS_PROMETHEUS"]
    if not inputs or inputs[0].get("type") != "datasource" or inputs[0].get("pluginId") != "prometheus":
        problems.append("__inputs has no DS_PROMETHEUS datasource input for prometheus")
    required = {(r.get("type"), r.get("id")) for r in dashboard.get("__requires", [])}
    for need in (("grafana", "grafana"), ("datasource", "prometheus")):
        if need not in required:
            problems.append(f"__requires lacks {need[0]} {need[1]}")

    variables = dashboard.get("templating", {}).get("list", [])
    sources = [v for v in variables if v.get("type") == "datasource"]
    if len(sources) != 1 or sources[0].get("name") != "datasource" or sources[0].get("query") != "prometheus":
        problems.append("want one template variable 'datasource' of type datasource, query prometheus")
    elif "${DS_PROMETHEUS}" not in json.dumps(sources[0].get("current", {})):
        problems.append("the datasource variable does not default to ${DS_PROMETHEUS}")
    for variable in variables:
        if variable.get("type") == "query" and variable.get("datasource") != DS_REF:
            problems.append(f"variable ${variable.get('name')}: datasource is not ${{datasource}}")

    ids = {}
    panel_types = set()
    for panel in walk_panels(dashboard.get("panels", [])):
        title = panel.get("title", "?")
        ids.setdefault(panel.get("id"), []).append(title)
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")) or grid["x"] + grid["w"] > 24:
            problems.append(f'panel "{title}": gridPos {grid} is not within the 24-column grid')
        if panel.get("type") == "row":
            continue  # a row issues no query
        panel_types.add(panel.get("type"))
        if panel.get("datasource") != DS_REF:
            problems.append(f'panel "{title}": datasource {panel.get("datasource")} is not ${{datasource}}')
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f'panel "{title}": no queries')
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            problems.append(f'panel "{title}": duplicate refIds {refs}')
        for target in targets:
            if target.get("datasource") != DS_REF:
                problems.append(f'panel "{title}" query {target.get("refId")}: datasource is not ${{datasource}}')
            if not target.get("expr", "").strip():
                problems.append(f'panel "{title}" query {target.get("refId")}: empty expr')
    for panel_id, titles in ids.items():
        if panel_id is None or len(titles) > 1:
            problems.append(f"panel id {panel_id!r} is not unique: {titles}")
    for panel_type in sorted(panel_types):
        if ("panel", panel_type) not in required:
            problems.append(f"__requires lacks panel {panel_type}")

    for where, expr in all_queries(dashboard):
        for name in sorted(metric_names(expr)):
            if not documented(name, docs):
                problems.append(f"{where}: metric {name} is not in docs/metrics.md")
        bare = strip_strings(expr)
        for window in re.findall(r"\[([^\]]*)\]", bare):
            if window not in ALLOWED_RANGES:
                problems.append(f"{where}: range [{window}]: use [$__rate_interval] (or [$__range])")
        # A multi-value variable expands to a|b: only a regex matcher takes it.
        for name in user_variables:
            uses = len(re.findall(rf"\$\{{?{name}\b", expr))
            in_regex = sum(len(re.findall(rf"\$\{{?{name}\b", value))
                           for value in re.findall(r'=~\s*"([^"]*)"', expr))
            if uses != in_regex:
                problems.append(f"{where}: ${name} is used outside a =~\"...\" matcher")
    return problems


def all_queries(dashboard):
    """(where, expr) for every panel query and every query variable."""
    for panel in walk_panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            yield (f'panel "{panel.get("title")}" (id {panel.get("id")}) query {target.get("refId")}',
                   target.get("expr", ""))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            yield f"variable ${variable.get('name')}", variable_query(variable)


# --- Grafana's variable substitution ------------------------------------------------


def regex_escape(value):
    """As Grafana's Prometheus data source escapes a multi-value variable."""
    return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), value.replace("\\", "\\\\\\\\"))


def substitute(expr, values):
    """$name, ${name}, ${name:fmt} and [[name]] replaced; unknown names raise."""

    def one(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name in BUILTINS:
            return BUILTINS[name]
        if name in values:
            return values[name]
        raise Failed(f"unknown variable ${name}")

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", one, expr)


# --- processes ---------------------------------------------------------------------

_prctl = ctypes.CDLL(None, use_errno=True).prctl
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong]
PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)


def _die_with_us():
    # Killed if this test dies without its finally (SIGKILL); resolved in
    # the parent, so the child runs no Python that could take a lock.
    _prctl(PR_SET_PDEATHSIG, _SIGKILL)


def start(argv, stdout, stderr):
    """A child in its own process group (stopped as a group)."""
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                            start_new_session=True, preexec_fn=_die_with_us)


def stop(process, first_signal):
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, first_signal)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(none)"


class Lab:
    """`crosscheck lab` playing the tour. Its stdout is read on this thread
    until the banner names the API (so Prometheus starts while no other
    thread runs), then on a reader thread."""

    def __init__(self, binary, work):
        self.lines = []
        self.api = None
        self.done = threading.Event()
        self.reader = None
        self.pending = b""
        self.stderr_path = os.path.join(work, "lab.stderr")
        self.stderr = open(self.stderr_path, "w")
        self.process = start([binary, "lab", "--listen", "127.0.0.1:0", "--interval", "500ms",
                              "--linger", "1s", "--dir", os.path.join(work, "lab")],
                             subprocess.PIPE, self.stderr)

    def _take(self, chunk):
        self.pending += chunk
        *complete, self.pending = self.pending.split(b"\n")
        for raw in complete:
            line = raw.decode(errors="replace")
            self.lines.append(line)
            found = re.match(r"\s*API\s+(http://127\.0\.0\.1:\d+)\s*$", line)
            if found and self.api is None:
                self.api = found.group(1)
            if line.startswith("The script is done"):
                self.done.set()

    def wait_api(self, deadline):
        fd = self.process.stdout.fileno()
        deadline = Deadline(deadline.left(20))
        while self.api is None and deadline.left(1) > 0:
            ready, _, _ = select.select([fd], [], [], deadline.left(0.5))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                self._take(chunk)
        if self.api is None:
            raise Failed("the lab printed no API address; its output:\n" + "\n".join(self.lines[-30:])
                         + "\nstderr:\n" + tail(self.stderr_path))

    def follow(self):
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.process.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self._take(chunk)
        self.done.set()

    def stop(self):
        stop(self.process, signal.SIGINT)  # the lab's Ctrl-C: it stops what it started
        if self.reader:
            self.reader.join(timeout=5)
        self.process.stdout.close()
        self.stderr.close()


class Prometheus:
    def __init__(self, binary, work, scrape_target):
        self.dir = os.path.join(work, "prometheus")
        os.makedirs(self.dir, exist_ok=True)
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    f"scrape_configs:\n  - job_name: {JOB}\n"
                    f"    static_configs:\n      - targets: ['{scrape_target}']\n")
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.log = open(self.log_path, "w")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = start([binary, f"--config.file={config}",
                              f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                              f"--web.listen-address=127.0.0.1:{self.port}",
                              "--log.level=warn"],
                             subprocess.DEVNULL, self.log)

    def stop(self):
        stop(self.process, signal.SIGTERM)
        self.log.close()

    def get(self, path, params=None, timeout=10):
        url = self.url + path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=timeout) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:  # 400/422 carry Prometheus' own error
            body = error.read()
            try:
                return json.loads(body)
            except ValueError:
                return {"status": "error", "error": f"HTTP {error.code}: {body[:200]!r}"}

    def query(self, expr):
        return self.get("/api/v1/query", {"query": expr})

    def wait_ready(self, deadline):
        while deadline.left(1) > 0:
            if self.process.poll() is not None:
                raise Failed(f"prometheus exited with {self.process.returncode}; its log:\n"
                             + tail(self.log_path))
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise Failed("prometheus was not ready in time; its log:\n" + tail(self.log_path))

    def wait_scrapes(self, deadline, not_before):
        """Until the lab is up, scraped SCRAPES_WANTED times, and once at or after `not_before`."""
        expr = (f'up{{job="{JOB}"}} == 1 and count_over_time(up{{job="{JOB}"}}[10m]) >= {SCRAPES_WANTED}'
                f' and timestamp(up{{job="{JOB}"}}) >= {not_before:.3f}')
        while deadline.left(1) > 0:
            answer = self.query(expr)
            if answer.get("status") == "success" and answer["data"]["result"]:
                return
            time.sleep(0.5)
        targets = self.get("/api/v1/targets")
        raise Failed(f"prometheus did not scrape the lab {SCRAPES_WANTED} times in time: "
                     f"{json.dumps(targets)[:800]}")


# --- the checks against Prometheus --------------------------------------------------


def resolve_variables(dashboard, prometheus, problems):
    """Each query variable's values as Grafana would list them, in order."""
    values = {}
    now = time.time()
    for variable in dashboard["templating"]["list"]:
        if variable.get("type") != "query":
            continue
        name = variable["name"]
        raw = variable_query(variable)
        try:
            query = substitute(raw, values)
        except Failed as error:
            problems.append(f"variable ${name}: {error}")
            continue
        found = re.fullmatch(r"\s*label_values\(\s*(?:(.*?)\s*,\s*)?(\w+)\s*\)\s*", query, re.S)
        if not found:
            problems.append(f"variable ${name}: {raw!r} is not label_values(...)")
            continue
        selector, label = found.groups()
        if selector:
            answer = prometheus.get("/api/v1/series", {"match[]": selector, "start": f"{now - 600:.0f}",
                                                       "end": f"{now:.0f}"})
            got = sorted({s[label] for s in answer.get("data", []) if label in s})
        else:
            answer = prometheus.get(f"/api/v1/label/{label}/values")
            got = sorted(answer.get("data", []))
        if answer.get("status") != "success":
            problems.append(f"variable ${name}: {query}: {answer.get('error')}")
        elif not got:
            problems.append(f"variable ${name}: {query} lists no values")
        else:
            print(f"ok   variable ${name} = {got}")
        # Grafana's "All" without a custom all value: every value, regex-escaped.
        values[name] = "(" + "|".join(regex_escape(v) for v in got) + ")" if got else "(none)"
    return values


def declared_families(api):
    with urllib.request.urlopen(api + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return set(re.findall(r"^# TYPE (\S+) ", text, re.M))


def check_queries(dashboard, prometheus, values, families, problems):
    checked = 0
    for panel in walk_panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            where = f'panel "{panel.get("title")}" (id {panel.get("id")}) query {target.get("refId")}'
            try:
                expr = substitute(target.get("expr", ""), values)
            except Failed as error:
                problems.append(f"{where}: {error}")
                continue
            checked += 1
            answer = prometheus.query(expr)
            if answer.get("status") != "success":
                problems.append(f"{where}: Prometheus refused it: {answer.get('errorType')}: "
                                f"{answer.get('error')}\n      {expr}")
                continue
            series = answer["data"]["result"]
            if answer["data"]["resultType"] == "scalar" or series:
                print(f"ok   {where}: {len(series) if isinstance(series, list) else 1} series")
                continue
            names = metric_names(expr)
            excused = names and names <= EMPTY_IN_LAB.keys()
            if excused and names <= families:
                print(f"ok   {where}: empty, as expected in the lab ({EMPTY_IN_LAB[min(names)]})")
            elif excused:
                problems.append(f"{where}: empty, and the lab's /metrics declares none of "
                                f"{sorted(names - families)}\n      {expr}")
            else:
                problems.append(f"{where}: no series (a misspelt metric or label?)\n      {expr}")
    return checked


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 1
    binary, dashboard_path, work = sys.argv[1:]
    prometheus_binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not os.access(prometheus_binary, os.X_OK):
        print("SKIP: no prometheus binary (Debian: apt-get install prometheus)")
        return 77

    with open(dashboard_path) as f:
        dashboard = json.load(f)  # invalid JSON fails here, with its position
    with open(os.path.join(os.path.dirname(os.path.abspath(dashboard_path)), "metrics.md")) as f:
        docs = f.read()
    user_variables = [v["name"] for v in dashboard.get("templating", {}).get("list", [])
                      if v.get("type") == "query"]
    problems = check_json(dashboard, docs, user_variables)

    # A fresh lab and TSDB every run (only what this test writes is removed).
    for stale in ("lab", "prometheus"):
        shutil.rmtree(os.path.join(work, stale), ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    deadline = Deadline(OVERALL_BUDGET)
    lab = prometheus = None
    try:
        lab = Lab(binary, work)
        lab.wait_api(deadline)
        prometheus = Prometheus(prometheus_binary, work, lab.api[len("http://"):])
        lab.follow()
        prometheus.wait_ready(deadline)
        # The whole tour, so a dispute, failing probes and a confirmed
        # outage are in the data; then a few scrapes of its end state.
        if not lab.done.wait(deadline.left(100)) or lab.process.poll() is not None:
            raise Failed("the lab tour did not finish in time; its output:\n" + "\n".join(lab.lines[-30:]))
        prometheus.wait_scrapes(deadline, time.time() + 3)
        families = declared_families(lab.api)
        values = resolve_variables(dashboard, prometheus, problems)
        checked = check_queries(dashboard, prometheus, values, families, problems)
    except Failed as error:
        problems.append(str(error))
        checked = 0
    except (OSError, ValueError) as error:  # an answer that was not HTTP or not JSON
        problems.append(f"unexpected: {error!r}")
        checked = 0
    finally:
        if prometheus:
            prometheus.stop()
        if lab:
            lab.stop()
            with open(os.path.join(work, "lab.stdout"), "w") as f:
                f.write("\n".join(lab.lines) + "\n")

    if problems:
        for problem in problems:
            print(f"FAIL {problem}")
        print(f"{len(problems)} problem(s) in {dashboard_path}")
        return 1
    print(f"pass: {checked} panel queries and {len(user_variables)} variables answered from a real "
          f"Prometheus scraping the lab")
    return 0


def on_sigterm(*_):
    raise Failed("stopped by SIGTERM (ctest's timeout?)")


if __name__ == "__main__":
    # A SIGTERM (ctest's timeout) still runs the finally that stops everything;
    # a SIGKILL takes the children along (PR_SET_PDEATHSIG).
    signal.signal(signal.SIGTERM, on_sigterm)
    sys.exit(main())
