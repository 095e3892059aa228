#!/usr/bin/env python3
"""The status page in a real browser: headless Chromium follows the lab's tour.

    status_page_test.py CROSSCHECK ARTIFACTS_DIR

Starts `crosscheck lab` (scenario tour) on 127.0.0.1 with any free port,
opens the page it serves in Debian's chromium through chromedriver and
Selenium, and asserts what an operator would see, each within a bounded
wait: shop healthy; disputed, held healthy, with domain beta's matrix cell
down and marked as disagreeing, and its evidence on keyboard focus; the
dispute's escalation acknowledged with the lab's ack-scoped token;
unhealthy at the http layer, with the detail's timeline; healthy again;
and, once the lab is killed, the connection-lost banner with the time of
the last answer and every verdict marked as not current. A PNG of each step
(1280x720, and one at 390x844) goes to ARTIFACTS_DIR with the lab's output
and the browser's console.

Exit status: 0 passed, 1 failed (the reason on stderr), 77 skipped
(chromium, chromedriver or Selenium missing). Everything it starts it
stops; the browser may reach 127.0.0.1 only.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SKIP = 77
SYSTEM_PYTHON = "/usr/bin/python3"
DESKTOP = (1280, 720)
PHONE = (390, 844)
# The tour at this pace: each step shows within a few seconds and lingers
# 10 s, long enough to acknowledge the dispute before it resolves.
LAB_ARGS = ["lab", "--scenario", "tour", "--listen", "127.0.0.1:0", "--interval", "500ms",
            "--linger", "10s"]
START_TIMEOUT = 20
STEP_TIMEOUT = 30


class Failure(Exception):
    """What the page (or the lab) did not show, in words."""


def import_selenium():
    """Selenium, from Debian's python3-selenium; re-runs under /usr/bin/python3 when
    another interpreter (pyenv, a venv) comes first on PATH and lacks it."""
    try:
        from selenium import webdriver  # noqa: F401
        return True
    except ImportError:
        if os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON) and os.access(SYSTEM_PYTHON, os.X_OK):
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])
        return False


STARTED = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


class Lab:
    """`crosscheck lab` as a child process, its banner parsed, its output kept."""

    def __init__(self, binary, work, artifacts):
        self.dir = os.path.join(work, "lab")
        self.lines = []
        self.output = open(os.path.join(artifacts, "lab-output.log"), "w")
        try:
            self.proc = subprocess.Popen([binary, *LAB_ARGS, "--dir", self.dir], stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        except OSError as error:
            self.output.close()
            raise Failure(f"cannot start {binary}: {error}")
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self.output.write(line)
            self.output.flush()

    def banner(self, name):
        """The value of a banner line such as '  API      http://127.0.0.1:41233', or None."""
        for line in list(self.lines):
            match = re.match(rf"\s+{name}\s+(\S+)", line)
            if match:
                return match.group(1)
        return None

    def running(self):
        return self.proc.poll() is None

    def kill(self):
        if self.running():
            self.proc.kill()
        self.proc.wait(timeout=10)

    def pause(self, stopped):
        """SIGSTOP (True) or SIGCONT (False): a hung oracle, then a live one."""
        if self.running():
            self.proc.send_signal(signal.SIGSTOP if stopped else signal.SIGCONT)

    def stop(self):
        if self.running():
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.reader.join(timeout=5)  # the rest of its output, up to the end of the pipe
        self.output.close()


def check_page_served(url):
    """GET the page as a plain client first: a clear message if this binary serves none."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            body = response.read().decode("utf-8", "replace")
            csp = response.headers.get("Content-Security-Policy", "")
    except OSError as error:
        raise Failure(f"GET {url} failed ({error}): does this crosscheck serve the status page?")
    if "app.js" not in body or "{{ASSET_BASE}}" in body:
        raise Failure(f"GET {url} did not answer the status page with its asset base filled in")
    if "script-src 'self'" not in csp:
        raise Failure(f"GET {url} came without the strict Content-Security-Policy (got {csp!r})")


class Browser:
    """Headless Chromium through chromedriver, with the page's state read in one script call."""

    def __init__(self, chromium, chromedriver, work, artifacts):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        self.artifacts = artifacts
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in ["--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-default-apps", "--disable-client-side-phishing-detection",
                     "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
                     "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                     f"--window-size={DESKTOP[0]},{DESKTOP[1]}", f"--user-data-dir={os.path.join(work, 'profile')}"]:
            options.add_argument(flag)
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.service = Service(executable_path=chromedriver, log_path=os.path.join(artifacts, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=self.service, options=options)
        self.driver.set_page_load_timeout(20)
        self.driver.set_script_timeout(10)
        self.console = []
        self.viewport(*DESKTOP)

    def viewport(self, width, height):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def screenshot(self, name):
        path = os.path.join(self.artifacts, f"{name}.png")
        self.driver.save_screenshot(path)
        log(f"screenshot {path}")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def state(self):
        """What the page shows, as data: board rows, matrix cells, escalations, banner, header."""
        return self.js("""
            const data = (nodes) => [...nodes].map((n) => ({...n.dataset, text: n.innerText}));
            const banner = document.querySelector('[data-testid=connection-lost]');
            return {
              rows: data(document.querySelectorAll('#board tbody tr')),
              cells: data(document.querySelectorAll('#matrix td[data-domain]')),
              escalations: data(document.querySelectorAll('li.escalation')),
              notes: data(document.querySelectorAll('[data-testid=divergence-notes] p')),
              banner: banner.hidden ? null : banner.innerText,
              live: document.querySelector('[data-testid=live-state]').dataset.state,
              node: document.querySelector('[data-testid=node-name]').textContent,
              dialogOpen: document.querySelector('[data-testid=token-dialog]').open,
            };""")

    def collect_console(self):
        entries = self.driver.get_log("browser")
        self.console.extend(entries)
        return entries

    def quit(self):
        try:
            self.collect_console()
        finally:
            with open(os.path.join(self.artifacts, "browser-console.log"), "w") as out:
                for entry in self.console:
                    out.write(f"{entry.get('level')} {entry.get('message')}\n")
            self.driver.quit()


def wait_until(what, probe, lab, browser, timeout=STEP_TIMEOUT):
    """Polls `probe(state)` until it returns something true; a Failure past `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        state = browser.state()
        found = probe(state)
        if found:
            log(f"seen: {what}")
            return found
        if lab is not None and not lab.running():
            raise Failure(f"the lab exited (status {lab.proc.returncode}) while waiting for: {what}")
        if time.monotonic() > deadline:
            rows = "; ".join(r["text"].replace("\n", " ").replace("\t", " ") for r in state["rows"])
            errors = [e.get("message") for e in browser.collect_console() if e.get("level") == "SEVERE"]
            raise Failure(f"not within {timeout} s: {what}\n  the board shows: {rows or 'nothing'}"
                          f"\n  connection: {state['live']}, banner: {state['banner']}"
                          f"\n  console errors: {errors or 'none'}")
        time.sleep(0.2)


def row(state, target="shop", **want):
    """The board row of `target` when its data-* attributes have the wanted values."""
    for item in state["rows"]:
        if item.get("target") == target and all(item.get(k) == v for k, v in want.items()):
            return item
    return None


def cell(state, domain, target="shop"):
    return next((c for c in state["cells"] if c.get("target") == target and c.get("domain") == domain), None)


def check_console(browser, until):
    """No CSP violation ever, and no error before the oracle was killed."""
    for entry in browser.collect_console():
        message = entry.get("message", "")
        if "Content Security Policy" in message or "Refused to" in message:
            raise Failure(f"CSP violation in the console: {message}")
        if entry.get("level") == "SEVERE" and until == "before kill":
            raise Failure(f"console error: {message}")


def play(lab, browser, url, token):
    browser.driver.get(url)

    # 1. All is well.
    wait_until("shop healthy and current, the node named lab",
               lambda s: row(s, verdict="healthy", current="true") and s["node"] == "lab"
               and all(cell(s, d) and cell(s, d)["vote"] == "up" for d in ("alpha", "beta", "gamma")),
               lab, browser)
    browser.screenshot("01-healthy")
    check_console(browser, "before kill")

    # 2. beta publishes an empty answer: disputed, held healthy, beta marked.
    wait_until("shop disputed, held healthy, with beta's cell down and disagreeing",
               lambda s: row(s, verdict="disputed", held="healthy") and cell(s, "beta")
               and cell(s, "beta")["vote"] == "down" and cell(s, "beta")["diverges"] == "true"
               and (cell(s, "alpha") or {}).get("diverges") == "false", lab, browser)
    state = browser.state()
    if "disputed — held healthy" not in row(state)["text"]:
        raise Failure(f"the board row does not say 'disputed — held healthy': {row(state)['text']!r}")
    if "disagrees" not in cell(state, "beta")["text"]:
        raise Failure(f"beta's cell does not say it disagrees: {cell(state, 'beta')['text']!r}")
    if not any("beta answered []" in n["text"] for n in state["notes"]):
        raise Failure(f"no note says beta answered nothing: {[n['text'] for n in state['notes']]}")
    browser.screenshot("02-disputed")

    # Keyboard focus on beta's cell shows its evidence (as hover does).
    browser.js("document.querySelector('#matrix td[data-target=shop][data-domain=beta] button').focus()")
    tip = wait_until("beta's evidence in the cell's tooltip",
                     lambda s: browser.js("const t = document.getElementById('cell-tooltip');"
                                          "return t.hidden ? null : t.innerText;"), lab, browser, 10)
    if "beta" not in tip or "[] (empty)" not in tip:
        raise Failure(f"the tooltip of beta's cell does not show its empty answer: {tip!r}")
    browser.screenshot("03-disputed-evidence")
    browser.js("document.activeElement.blur()")

    # The dispute's escalation, acknowledged with the lab's ack-scoped token.
    escalation = wait_until("the dispute's escalation with an Ack button",
                            lambda s: next((e for e in s["escalations"] if e.get("kind") == "dispute"
                                            and e.get("target") == "shop" and e.get("acked") == "false"), None),
                            lab, browser, 15)
    escalation_id = escalation["escalationId"]
    browser.driver.find_element("css selector", f'button[data-escalation="{escalation_id}"]').click()
    wait_until("the token dialog", lambda s: s["dialogOpen"], lab, browser, 10)
    browser.driver.find_element("css selector", "#token-input").send_keys(token)
    browser.driver.find_element("css selector", "#token-by").send_keys("status-page-test")
    browser.driver.find_element("css selector", "[data-testid=token-submit]").click()
    wait_until(f"escalation {escalation_id} shown acknowledged by status-page-test",
               lambda s: any(e.get("escalationId") == escalation_id and e.get("acked") == "true"
                             and "status-page-test" in e["text"] for e in s["escalations"]), lab, browser, 15)
    browser.screenshot("04-acknowledged")

    # The same moment at phone width: no sideways scrolling of the page itself.
    browser.viewport(*PHONE)
    overflow = browser.js("return document.documentElement.scrollWidth - window.innerWidth;")
    browser.screenshot("04-phone-390x844")
    browser.viewport(*DESKTOP)
    if overflow > 1:
        raise Failure(f"at {PHONE[0]} px the page scrolls sideways by {overflow} px (only tables may)")
    check_console(browser, "before kill")

    # 3. The service really goes down: unhealthy at http; the detail tells the story.
    wait_until("shop unhealthy, failing layer http",
               lambda s: row(s, verdict="unhealthy", failingLayer="http", current="true"), lab, browser)
    browser.driver.find_element("css selector", '#board button.target-link[data-target="shop"]').click()
    timeline = wait_until("shop's detail with a timeline through disputed and unhealthy",
                          lambda s: browser.js("""
                              const d = document.querySelector('[data-testid=detail][data-target=shop]');
                              const items = d && !d.hidden ? [...d.querySelectorAll('.timeline li')] : [];
                              const seen = items.map((li) => li.dataset.verdict);
                              return seen.includes('disputed') && seen.includes('unhealthy')
                                  && d.querySelector('[data-testid=evidence]') ? seen : null;"""),
                          lab, browser, 15)
    log(f"timeline: {timeline}")
    browser.js("document.querySelector('[data-testid=detail]').scrollIntoView({block: 'start'})")
    browser.screenshot("05-unhealthy-detail")
    browser.js("window.scrollTo(0, 0)")
    browser.screenshot("05-unhealthy")

    # 4. It recovers.
    wait_until("shop healthy again",
               lambda s: row(s, verdict="healthy", current="true"), lab, browser)
    browser.screenshot("06-recovered")
    check_console(browser, "before kill")

    # 5. The oracle hangs (SIGSTOP: connections open, no answer): the page
    # must not wait for ever on a request, and comes back by itself.
    lab.pause(True)
    log("lab paused (SIGSTOP)")
    try:
        wait_until("the connection-lost banner while the oracle hangs",
                   lambda s: s if s["banner"] and s["live"] == "lost" else None, None, browser, 45)
        browser.screenshot("07-hung")
    finally:
        lab.pause(False)
    log("lab resumed (SIGCONT)")
    wait_until("live again once the oracle answers",
               lambda s: s if not s["banner"] and s["live"] == "live"
               and row(s, verdict="healthy", current="true") else None, lab, browser, 45)

    # 6. The oracle dies: the page must say so and stop presenting verdicts as current.
    lab.kill()
    log("lab killed (SIGKILL)")
    state = wait_until("the connection-lost banner with the time of the last answer",
                       lambda s: s if s["banner"] and re.search(r"showing data from \d\d:\d\d:\d\d", s["banner"])
                       and s["live"] == "lost" else None, None, browser, 45)
    stale = [r for r in state["rows"] if r.get("current") != "false" or "last known" not in r["text"]]
    if stale or not state["rows"]:
        raise Failure(f"rows still shown as current after the oracle died: {[r['text'] for r in stale]}")
    browser.screenshot("08-connection-lost")
    check_console(browser, "after kill")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, artifacts = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not import_selenium():
        print("SKIP: Selenium is missing (apt install python3-selenium)")
        return SKIP
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.access("/usr/bin/chromedriver", os.X_OK) else None)
    if not chromium or not chromedriver:
        print("SKIP: chromium or chromedriver is missing (apt install chromium chromium-driver)")
        return SKIP
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix="crosscheck-browser-")
    lab = browser = None
    try:
        lab = Lab(binary, work, artifacts)
        deadline = time.monotonic() + START_TIMEOUT
        while lab.banner("API") is None:
            if not lab.running() or time.monotonic() > deadline:
                raise Failure("the lab did not print its API address:\n" + "\n".join(lab.lines[-20:]))
            time.sleep(0.1)
        url = lab.banner("page") or lab.banner("API") + "/"
        token_file = lab.banner("ack token") or os.path.join(lab.dir, "ack.token")
        log(f"lab at {url}, ack token in {token_file}")
        if not url.startswith("http://127.0.0.1:"):
            raise Failure(f"the lab's page is not on 127.0.0.1: {url}")
        try:
            with open(token_file) as f:
                token = f.read().strip()
        except OSError as error:
            raise Failure(f"the lab wrote no ack token ({error})")
        check_page_served(url)
        browser = Browser(chromium, chromedriver, work, artifacts)
        play(lab, browser, url, token)
        log("PASS")
        return 0
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        if browser is not None:
            try:
                browser.screenshot("failure")
                with open(os.path.join(artifacts, "failure.html"), "w") as out:
                    out.write(browser.driver.page_source)
            except Exception as error:  # the browser itself may be what failed
                print(f"(no failure screenshot: {error})", file=sys.stderr)
        return 1
    finally:
        if browser is not None:
            browser.quit()
        if lab is not None:
            lab.stop()
            log_file = os.path.join(lab.dir, "crosscheck.log")
            if os.path.exists(log_file):
                shutil.copy(log_file, os.path.join(artifacts, "crosscheck.log"))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
