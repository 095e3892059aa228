#!/usr/bin/env python3
"""Writes the bundled incident recordings in tests/scenarios/*.jsonl.

Each file is what crosscheck's vantages would have recorded during one kind
of incident, probing every 10 s at a fixed phase per vantage. The files are
committed; this script documents how they were made and regenerates them
deterministically. Expected verdict transitions live beside them in
*.expected.jsonl and are checked by tests/daemon/scenarios_test.cpp.
"""
import datetime as dt
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "scenarios"
INTERVAL = 10
PHASE = {"cloudflare": 0, "quad9": 3, "google": 6, "oracle-b/hetzner": 5,
         "cloudflare-a": 0, "cloudflare-b": 1, "quad9-a": 3, "quad9-b": 4,
         "oracle-b/quad9": 5}
UP_DETAIL = {
    "dynamodb-use1": ("http: 200 OK", ["203.0.113.10", "203.0.113.11"]),
    "db-primary": ("tcp: connected to 198.51.100.5:5432", ["198.51.100.5"]),
    "api-gateway": ("http: 200 OK", ["192.0.2.80"]),
    "root-zone": ("dns: NOERROR, 13 answers", ["a.root-servers.net."]),
    "lb-eu": ("tcp: connected to 198.51.100.20:443", ["198.51.100.20"]),
    "app-eu": ("http: 200 OK", ["198.51.100.20"]),
    "web-eu": ("tcp: connected to 198.51.100.30:443", ["198.51.100.30"]),
    **{f"svc-{x}": ("dns: NOERROR, 1 answer", [f"192.0.2.{i + 1}"])
       for i, x in enumerate("abcde")},
    **{f"db-{i}": (f"tcp: connected to 198.51.100.{40 + i}:5432", [f"198.51.100.{40 + i}"])
       for i in (1, 2, 3)},
}


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def up(t, target, vantage):
    detail, answers = UP_DETAIL[target]
    return {"t": ts(t), "target": target, "vantage": vantage, "outcome": "up",
            "latency_ms": 12.5, "detail": detail, "answers": answers}


def down(t, target, vantage, detail, **extra):
    line = {"t": ts(t), "target": target, "vantage": vantage, "outcome": "down",
            "detail": detail}
    line.update(extra)
    return line


def run(start, minutes, targets, vantages, decide):
    """Every vantage probes every target each interval; decide() may replace
    the healthy observation (return None to record nothing: silence)."""
    lines = []
    for tick in range(minutes * 60 // INTERVAL):
        for vantage in vantages:
            t = start + dt.timedelta(seconds=tick * INTERVAL + PHASE.get(vantage, 0))
            for target in targets:
                line = decide(t, target, vantage)
                if line is not None:
                    lines.append(line)
    lines.sort(key=lambda line: line["t"])
    return lines


def write(name, lines):
    """Writes one line per observation; a str is written as it is (a bad
    line on purpose, see skipped_lines)."""
    path = OUT / f"{name}.jsonl"
    with path.open("w") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    print(f"{path.relative_to(OUT.parent.parent)}: {len(lines)} observations")


TARGETS = ["dynamodb-use1", "db-primary", "api-gateway", "root-zone"]
VANTAGES = ["cloudflare", "quad9", "google"]
# split-domains.yaml: two resolvers in each of two providers, and google.
SPLIT_VANTAGES = ["cloudflare-a", "cloudflare-b", "quad9-a", "quad9-b", "google"]


def empty_dns_answer():
    # Oct 2025: one resolver's answer for the DynamoDB endpoint is NOERROR
    # with an empty answer section for ten minutes. The service itself still
    # answers at the addresses resolved before.
    start = dt.datetime(2025, 10, 20, 6, 40, tzinfo=dt.timezone.utc)
    bad_from = start + dt.timedelta(minutes=8)
    bad_to = start + dt.timedelta(minutes=18)

    def decide(t, target, vantage):
        if target == "dynamodb-use1" and vantage == "quad9" and bad_from <= t < bad_to:
            return down(t, target, vantage, "dns: NOERROR, empty answer", layer="dns",
                        last_known_good="reachable")
        return up(t, target, vantage)

    return run(start, 24, TARGETS, VANTAGES, decide)


def congested_vantage():
    # Dec 2021: the network of one vantage (google) is congested; every probe
    # it makes times out, canary included. The world is fine.
    start = dt.datetime(2021, 12, 7, 15, 20, tzinfo=dt.timezone.utc)
    bad_from = start + dt.timedelta(minutes=5)
    bad_to = start + dt.timedelta(minutes=15)

    def decide(t, target, vantage):
        if vantage == "google" and bad_from <= t < bad_to:
            return down(t, target, vantage, "dns: timeout after 2s", layer="dns",
                        last_known_good="unreachable")
        return up(t, target, vantage)

    return run(start, 20, TARGETS, VANTAGES, decide)


def database_outage(start, targets):
    # db-primary is refused from every domain from minute 5 to minute 10 of
    # a 15-minute recording; the other targets stay up.
    bad_from = start + dt.timedelta(minutes=5)
    bad_to = start + dt.timedelta(minutes=10)

    def decide(t, target, vantage):
        if target == "db-primary" and bad_from <= t < bad_to:
            return down(t, target, vantage, "connect: 198.51.100.5:5432 connection refused",
                        layer="connect")
        return up(t, target, vantage)

    return run(start, 15, targets, VANTAGES, decide)


def true_outage():
    # The database really goes down for five minutes: every domain sees
    # connection refused, then it recovers.
    return database_outage(dt.datetime(2025, 3, 4, 8, 0, tzinfo=dt.timezone.utc), TARGETS)


def flapping_vantage():
    # One vantage's path to the API gateway flaps: 40 s down, 30 s up, over
    # and over for twenty minutes. Without flap detection every cycle would
    # open and resolve a dispute (and page someone).
    start = dt.datetime(2025, 6, 12, 14, 0, tzinfo=dt.timezone.utc)
    bad_from = start + dt.timedelta(minutes=3)
    bad_to = start + dt.timedelta(minutes=23)

    def decide(t, target, vantage):
        if target == "api-gateway" and vantage == "quad9" and bad_from <= t < bad_to:
            cycle = int((t - bad_from).total_seconds()) % 70
            if cycle < 40:
                return down(t, target, vantage, "http: 502 Bad Gateway", layer="http")
        return up(t, target, vantage)

    return run(start, 45, TARGETS, VANTAGES, decide)


def silent_peers():
    # Two oracles: this node (vantages cloudflare, quad9) and peer oracle-b
    # (vantage hetzner). First oracle-b goes silent (its votes go stale), then
    # quad9 too: too few domains are left to vote, so the verdict turns
    # unknown while holding healthy, and never unhealthy.
    start = dt.datetime(2025, 9, 1, 9, 0, tzinfo=dt.timezone.utc)
    peer_silent = (start + dt.timedelta(minutes=4), start + dt.timedelta(minutes=12))
    quad9_silent = (start + dt.timedelta(minutes=6), start + dt.timedelta(minutes=10))

    def decide(t, target, vantage):
        if vantage == "oracle-b/hetzner":
            if peer_silent[0] <= t < peer_silent[1]:
                return None
            line = up(t, target, vantage)
            line["domain"] = "hetzner"
            return line
        if vantage == "quad9" and quad9_silent[0] <= t < quad9_silent[1]:
            return None
        return up(t, target, vantage)

    return run(start, 16, ["dynamodb-use1", "db-primary"],
               ["cloudflare", "quad9", "oracle-b/hetzner"], decide)


def override_expires():
    # An operator marks db-primary unhealthy for a 10-minute maintenance
    # while every probe still sees it up; when the override expires the
    # evidence rules again.
    start = dt.datetime(2025, 11, 2, 22, 0, tzinfo=dt.timezone.utc)
    lines = run(start, 16, ["db-primary"], VANTAGES, up)
    lines.append({"t": ts(start + dt.timedelta(minutes=3)),
                  "override": {"target": "db-primary", "verdict": "unhealthy",
                               "reason": "planned failover drill", "ttl": "10m",
                               "by": "alice"}})
    lines.sort(key=lambda line: line["t"])
    return lines


# --- Issue 14: one scenario per class of false-failover bug -----------------


def override_expires_in_grace():
    # Class 1 (grace holds the *published* verdict). db-primary really goes
    # down everywhere and is confirmed unhealthy; the operator overrides it
    # healthy while failing over by hand. The service comes back; quad9's
    # resolver keeps a stale negative answer. The override expires 5 s after
    # cloudflare and google vote up again, inside dispute_grace: before the
    # fix grace republished its internal "unhealthy" on quad9's word alone.
    start = dt.datetime(2025, 11, 3, 8, 0, tzinfo=dt.timezone.utc)
    outage = (start + dt.timedelta(minutes=2), start + dt.timedelta(minutes=5))

    def decide(t, target, vantage):
        if outage[0] <= t < outage[1] or (vantage == "quad9" and t >= outage[0]):
            return down(t, target, vantage, "tcp: connection refused", layer="connect")
        return up(t, target, vantage)

    lines = run(start, 10, ["db-primary"], VANTAGES, decide)
    lines.append({"t": ts(start + dt.timedelta(minutes=3)),
                  "override": {"target": "db-primary", "verdict": "healthy",
                               "reason": "failing over by hand", "ttl": "140s",
                               "by": "alice"}})
    lines.sort(key=lambda line: line["t"])
    return lines


def duplicated_observations():
    # Class 2 (observations are idempotent). One probe per domain fails in
    # the same minute (a network blip), and the log collector delivered
    # every line three times. fall is 2 for db-primary: counted once, no
    # domain ever votes down; counted three times, all three would.
    start = dt.datetime(2025, 11, 4, 3, 0, tzinfo=dt.timezone.utc)
    blip = start + dt.timedelta(minutes=3)

    def decide(t, target, vantage):
        if blip <= t < blip + dt.timedelta(seconds=INTERVAL):
            return down(t, target, vantage, "tcp: timeout after 2s", layer="connect")
        return up(t, target, vantage)

    lines = []
    for line in run(start, 6, ["db-primary"], VANTAGES, decide):
        lines += [line, line, line]
    return lines


def broken_canary():
    # Class 4 (a canary down from every domain is a broken canary). The root
    # zone canary's expected answer changes (it fails from every domain),
    # then db-primary really goes down. Before the fix every vantage turned
    # suspect and the outage stayed "unknown".
    start = dt.datetime(2025, 11, 5, 12, 0, tzinfo=dt.timezone.utc)
    canary_broken = start + dt.timedelta(minutes=2)
    outage = start + dt.timedelta(minutes=5)

    def decide(t, target, vantage):
        if target == "root-zone" and t >= canary_broken:
            return down(t, target, vantage, "dns: NOERROR, 0 of 13 expected answers", layer="dns")
        if target == "db-primary" and t >= outage:
            return down(t, target, vantage, "tcp: connection refused", layer="connect")
        return up(t, target, vantage)

    return run(start, 9, ["db-primary", "root-zone"], VANTAGES, decide)


def peer_claims_local_domain():
    # A peer may speak only for its own domain. db-primary really goes down
    # and both local domains see it; peer oracle-b (config two-oracles.yaml,
    # no `domains:` for it) reports its vantage in quad9, a local domain, and
    # says up. Merged into quad9 that vote split it and masked the outage;
    # counted as oracle-b's own domain it is one up vote of three.
    start = dt.datetime(2025, 11, 6, 7, 0, tzinfo=dt.timezone.utc)
    outage = start + dt.timedelta(minutes=3)

    def decide(t, target, vantage):
        if vantage == "oracle-b/quad9":
            line = up(t, target, vantage)
            line["domain"] = "quad9"
            return line
        if t >= outage:
            return down(t, target, vantage, "tcp: connection refused", layer="connect")
        return up(t, target, vantage)

    return run(start, 6, ["db-primary"], ["cloudflare", "quad9", "oracle-b/quad9"], decide)


def blast_radius_override():
    # Class 7 (the blast-radius guard counts what is published). Five
    # services; svc-a is down but overridden healthy by the operator (a
    # known, handled outage). Then svc-b and svc-c go down for real: 2 of 5
    # published unhealthy is within max_unhealthy_fraction 0.5. Before the
    # fix svc-a's evidence spent the budget and svc-c was held.
    start = dt.datetime(2025, 11, 7, 16, 0, tzinfo=dt.timezone.utc)
    a_down = start + dt.timedelta(minutes=1)
    bc_down = start + dt.timedelta(minutes=4)

    def decide(t, target, vantage):
        if target == "svc-a" and t >= a_down:
            return down(t, target, vantage, "dns: SERVFAIL", layer="dns")
        if target in ("svc-b", "svc-c") and t >= bc_down:
            return down(t, target, vantage, "dns: NOERROR, empty answer", layer="dns")
        return up(t, target, vantage)

    targets = [f"svc-{x}" for x in "abcde"]
    lines = run(start, 7, targets, VANTAGES, decide)
    lines.append({"t": ts(start + dt.timedelta(minutes=2)),
                  "override": {"target": "svc-a", "verdict": "healthy",
                               "reason": "known outage, handled", "ttl": "1h",
                               "by": "bob"}})
    lines.sort(key=lambda line: line["t"])
    return lines


def outage_seen_first_by_one():
    # Class 8 (suspicion waits out the grace). Three services go down at the
    # same moment, just after cloudflare's probe and just before quad9's:
    # for a few seconds quad9 alone sees all of them down. That is the start
    # of a real outage, not a broken observer: no vantage_suspect page.
    start = dt.datetime(2025, 11, 8, 20, 0, tzinfo=dt.timezone.utc)
    outage = start + dt.timedelta(minutes=3, seconds=2)

    def decide(t, target, vantage):
        if target != "root-zone" and t >= outage:
            return down(t, target, vantage, "http: 503 Service Unavailable", layer="http")
        return up(t, target, vantage)

    return run(start, 6, TARGETS, VANTAGES, decide)


def split_domains():
    # Class 9 (a domain whose vantages disagree is split, not down). One of
    # cloudflare's two resolvers and one of quad9's publish an empty answer;
    # each domain's other resolver, and google, answer. Counting "down if any
    # vantage is" made that 2 of 3 domains down: a failover. Split domains
    # count in neither, and a split that lasts is escalated once.
    start = dt.datetime(2025, 11, 9, 2, 0, tzinfo=dt.timezone.utc)
    lie_from = start + dt.timedelta(minutes=2)
    lie_to = start + dt.timedelta(minutes=8)

    def decide(t, target, vantage):
        if vantage in ("cloudflare-b", "quad9-b") and lie_from <= t < lie_to:
            return down(t, target, vantage, "dns: NOERROR, empty answer", layer="dns",
                        last_known_good="reachable")
        return up(t, target, vantage)

    return run(start, 11, ["db-primary"], SPLIT_VANTAGES, decide)


# --- Issue 14: the other side of each two-sided boundary --------------------


def conflicting_observations():
    # Class 2, the other side of duplicated-observations: a copy that tells
    # another story is no copy. db-primary really goes down everywhere; the
    # file was merged from two collectors, and the second one wrote "up" for
    # every probe it saw time out (same target, vantage and time). The first
    # line stays; each contradicting one is refused and reported as a
    # conflict. Taking the later line, or counting both, hides the outage.
    start = dt.datetime(2025, 11, 10, 4, 0, tzinfo=dt.timezone.utc)
    outage = start + dt.timedelta(minutes=3)

    def decide(t, target, vantage):
        if t >= outage:
            return down(t, target, vantage, "tcp: timeout after 2s", layer="connect")
        return up(t, target, vantage)

    lines = []
    for line in run(start, 6, ["db-primary"], VANTAGES, decide):
        lines.append(line)
        if line["outcome"] == "down":
            lines.append(up(dt.datetime.strptime(line["t"], "%Y-%m-%dT%H:%M:%SZ"),
                            line["target"], line["vantage"]))
    return lines


def canary_down_one_domain():
    # Class 4, the other side of broken-canary: the root zone canary fails
    # from quad9 only (its resolver lost the root hints) while cloudflare and
    # google see it up. That is a blind observer, not a broken canary: quad9
    # turns suspect and no canary_down opens. Later quad9 alone also sees
    # db-primary down (one target: too few for suspect_fraction); its votes
    # no longer count, so db-primary is not even disputed.
    start = dt.datetime(2025, 11, 11, 10, 0, tzinfo=dt.timezone.utc)
    canary_fails = start + dt.timedelta(minutes=2)
    db_fails = start + dt.timedelta(minutes=5)

    def decide(t, target, vantage):
        if vantage == "quad9" and target == "root-zone" and t >= canary_fails:
            return down(t, target, vantage, "dns: SERVFAIL", layer="dns")
        if vantage == "quad9" and target == "db-primary" and t >= db_fails:
            return down(t, target, vantage, "dns: SERVFAIL", layer="dns",
                        last_known_good="unreachable")
        return up(t, target, vantage)

    return run(start, 9, ["db-primary", "root-zone"], VANTAGES, decide)


def blast_radius_override_unhealthy():
    # Class 7, the other side of blast-radius-override: an override to
    # *unhealthy* is published, so it spends budget. svc-a is overridden
    # unhealthy for a failover drill while every probe sees it up; then
    # svc-b and svc-c really go down together. svc-b is confirmed (2 of 5);
    # confirming svc-c too would make 3 of 5 unhealthy at once, more than
    # max_unhealthy_fraction 0.5: it is held as disputed (blast_radius).
    start = dt.datetime(2025, 11, 12, 16, 0, tzinfo=dt.timezone.utc)
    bc_down = start + dt.timedelta(minutes=4)

    def decide(t, target, vantage):
        if target in ("svc-b", "svc-c") and t >= bc_down:
            return down(t, target, vantage, "dns: NOERROR, empty answer", layer="dns")
        return up(t, target, vantage)

    targets = [f"svc-{x}" for x in "abcde"]
    lines = run(start, 7, targets, VANTAGES, decide)
    lines.append({"t": ts(start + dt.timedelta(minutes=2)),
                  "override": {"target": "svc-a", "verdict": "unhealthy",
                               "reason": "failover drill", "ttl": "1h", "by": "bob"}})
    lines.sort(key=lambda line: line["t"])
    return lines


def vantage_alone_past_grace():
    # Class 8, the other side of outage-seen-first-by-one: the same three
    # services, the same moment, but only quad9 ever sees them down (its
    # resolver's filter list blocks the internal names) for four minutes.
    # Past the grace it is the observer that is broken: quad9 is paged as
    # vantage_suspect and every verdict stays healthy. Its canary stays up,
    # so only the suspect_fraction rule can catch it.
    start = dt.datetime(2025, 11, 13, 20, 0, tzinfo=dt.timezone.utc)
    bad = (start + dt.timedelta(minutes=3, seconds=2), start + dt.timedelta(minutes=7))

    def decide(t, target, vantage):
        if vantage == "quad9" and target != "root-zone" and bad[0] <= t < bad[1]:
            return down(t, target, vantage, "dns: NXDOMAIN", layer="dns",
                        last_known_good="unreachable")
        return up(t, target, vantage)

    return run(start, 10, TARGETS, VANTAGES, decide)


def split_domains_all_down():
    # Class 9, the other side of split-domains: a domain whose vantages all
    # vote down counts down. The database becomes unreachable from the
    # cloudflare and quad9 networks (google's path escapes the partition).
    # cloudflare-b's probe host died a minute before: its vote is stale, not
    # up, so cloudflare is down on cloudflare-a's word. 2 of 3 domains down
    # is the quorum: unhealthy, with no split and no dispute.
    start = dt.datetime(2025, 11, 14, 2, 0, tzinfo=dt.timezone.utc)
    b_silent = start + dt.timedelta(minutes=1)
    outage = start + dt.timedelta(minutes=3)

    def decide(t, target, vantage):
        if vantage == "cloudflare-b" and t >= b_silent:
            return None
        if vantage != "google" and t >= outage:
            return down(t, target, vantage, "tcp: 198.51.100.5:5432 no route to host",
                        layer="connect")
        return up(t, target, vantage)

    return run(start, 6, ["db-primary"], SPLIT_VANTAGES, decide)


def skipped_lines():
    # Class 3 (a skipped line has no effect at all). true-outage's database
    # outage with bad lines spliced in, each of which would change the
    # output if any part of it were applied. A line an hour ahead with an
    # unknown field: the clock would jump and every vote go stale. The rest
    # say "down" while db-primary recovers (rise 2): one applied down resets
    # a vantage's streak and moves the recovery, an unconfigured peer node
    # would add a fourth domain (a majority of 3), an unknown vantage a new
    # one. Also a key given twice, time going backwards, seconds :60 and
    # broken JSON. The output is the same as without them.
    start = dt.datetime(2025, 11, 15, 8, 0, tzinfo=dt.timezone.utc)

    def at(seconds):
        return start + dt.timedelta(seconds=seconds)

    def bad_down(t, vantage, **extra):
        line = {"t": t, "target": "db-primary", "vantage": vantage, "outcome": "down",
                "detail": "connect: 198.51.100.5:5432 connection refused", "layer": "connect"}
        line.update(extra)
        return json.dumps(line)

    # (where in time the line sits, the line): each between two good lines
    bad = [
        (at(121), bad_down(ts(at(3721)), "quad9", severity="high")),
        (at(601), bad_down(ts(at(601)), "cloudflare", severity="high")),
        (at(604), '{"t": "%s", "target": "db-primary", "vantage": "quad9", "outcome": "up", '
                  '"outcome": "down", "detail": "connect: 198.51.100.5:5432 connection refused"}'
                  % ts(at(604))),
        (at(605), bad_down(ts(at(605)), "opendns")),
        (at(607), bad_down(ts(at(607)), "oracle-z/hetzner", domain="hetzner")),
        (at(608), bad_down(ts(at(60)), "quad9")),
        (at(599.5), bad_down(ts(at(540))[:-3] + "60Z", "cloudflare")),
        (at(602), '{"t": "%s", "target": "db-primary", "vantage": "cloudflare", "outcome": "down"'
                  % ts(at(602))),
    ]
    good = [(dt.datetime.strptime(line["t"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.timezone.utc), json.dumps(line))
        for line in database_outage(start, ["db-primary"])]
    return [text for _, text in sorted(good + bad, key=lambda item: item[0])]


def failover_scope():
    # Which failover the evidence supports, as it moves: dynamodb-use1's name
    # stops resolving in every domain while the service answers at its
    # last-known-good addresses (scope dns: a service failover holds, a DNS
    # failover proceeds); then the old addresses stop answering too (scope
    # service); it recovers; later two domains see it down at different
    # layers (scope none: both failovers hold); it recovers again.
    start = dt.datetime(2025, 10, 20, 7, 0, tzinfo=dt.timezone.utc)

    def minute(m):
        return start + dt.timedelta(minutes=m)

    def decide(t, target, vantage):
        if target != "dynamodb-use1":
            return up(t, target, vantage)
        if minute(5) <= t < minute(12):
            return down(t, target, vantage, "dns: NOERROR, empty answer", layer="dns",
                        last_known_good="reachable")
        if minute(12) <= t < minute(18):
            return down(t, target, vantage, "dns: NOERROR, empty answer", layer="dns",
                        last_known_good="unreachable")
        if minute(26) <= t < minute(32) and vantage == "cloudflare":
            return down(t, target, vantage, "dns: SERVFAIL", layer="dns",
                        last_known_good="reachable")
        if minute(26) <= t < minute(32) and vantage == "quad9":
            return down(t, target, vantage, "connect: 203.0.113.10:443 connection refused",
                        layer="connect")
        return up(t, target, vantage)

    return run(start, 40, TARGETS, VANTAGES, decide)


def parent_down():
    # depends_on (parent-down.yaml): the load balancer lb-eu refuses
    # connections in every domain, and app-eu behind it fails the same way:
    # lb-eu is unhealthy (its failover proceeds), app-eu is unreachable (every
    # gate holds; the alert and the failover are lb-eu's). lb-eu recovers;
    # later app-eu fails on its own and is unhealthy by its own votes.
    start = dt.datetime(2025, 10, 20, 8, 0, tzinfo=dt.timezone.utc)

    def minute(m):
        return start + dt.timedelta(minutes=m)

    def decide(t, target, vantage):
        if target == "lb-eu" and minute(5) <= t < minute(12):
            return down(t, target, vantage, "connect: 198.51.100.20:443 connection refused",
                        layer="connect")
        if target == "app-eu" and (minute(5) <= t < minute(12) or minute(20) <= t < minute(26)):
            return down(t, target, vantage, "connect: 198.51.100.20:443 connection refused",
                        layer="connect")
        return up(t, target, vantage)

    return run(start, 32, ["app-eu", "lb-eu", "web-eu"], VANTAGES, decide)


def maintenance_window():
    # maintenance.yaml: db-primary is in a window from 07:10 to 07:25Z and
    # api-gateway in one from 07:40 to 07:50Z. db-primary really fails from
    # 07:12 to 07:35 (connection refused from every domain): unhealthy, but
    # every gate holds until 07:25, then a service failover proceeds.
    # api-gateway: quad9 alone sees it down from 07:14 to 07:30 (no window:
    # the dispute is sent) and again from 07:42 to 07:58 (inside its window:
    # the dispute opens silenced, is closed silently at 07:50 and opened
    # again, sent, because it outlives the window).
    start = dt.datetime(2025, 10, 20, 7, 0, tzinfo=dt.timezone.utc)

    def minute(m):
        return start + dt.timedelta(minutes=m)

    def decide(t, target, vantage):
        if target == "db-primary" and minute(12) <= t < minute(35):
            return down(t, target, vantage, "connect: 10.0.0.5:5432 connection refused",
                        layer="connect")
        if target == "api-gateway" and vantage == "quad9" and (
                minute(14) <= t < minute(30) or minute(42) <= t < minute(58)):
            return down(t, target, vantage, "http: 503", layer="http")
        return up(t, target, vantage)

    return run(start, 65, TARGETS, VANTAGES, decide)


def cooldown():
    # packaging/crosscheck.yaml (gate.cooldown: the default 1h). db-primary
    # really fails from 07:05 to 07:45 (connection refused from every
    # domain): the service gate proceeds; at 07:08 a script records "promote
    # db-2" and every gate holds (cooldown); at 07:20 a human acknowledges it
    # and the gate proceeds again; at 07:22 a second action is recorded (held
    # again); at 07:45 db-primary recovers: the gate says otherwise (not a
    # proceed), and the cooldown runs to 08:22, past the end of the replay.
    start = dt.datetime(2025, 10, 20, 7, 0, tzinfo=dt.timezone.utc)

    def minute(m):
        return start + dt.timedelta(minutes=m)

    def decide(t, target, vantage):
        if target == "db-primary" and minute(5) <= t < minute(45):
            return down(t, target, vantage, "connect: 10.0.0.5:5432 connection refused",
                        layer="connect")
        return up(t, target, vantage)

    lines = run(start, 55, TARGETS, VANTAGES, decide)
    lines.append({"t": ts(minute(8)),
                  "action": {"target": "db-primary", "what": "promote db-2",
                             "by": "failover-bot"}})
    lines.append({"t": ts(minute(20)), "ack_action": "replay-1"})
    lines.append({"t": ts(minute(22)),
                  "action": {"target": "db-primary", "what": "promote db-3",
                             "by": "failover-bot"}})
    lines.sort(key=lambda line: line["t"])
    return lines


def group_threshold():
    # groups.yaml: db-cluster = db-1, db-2, db-3, healthy_at_least 2, and a
    # recurring window on group:db-cluster from 09:40 to 09:50Z. db-1 fails
    # from 09:05 (connection refused everywhere): the group stays healthy (2
    # of 3). From 09:10 quad9 alone sees db-2 down: db-2 disputed, the group
    # disputed (below its threshold, not confirmed). From 09:20 db-2 fails
    # everywhere: the group is unhealthy and its service failover proceeds;
    # at 09:24 a script records "promote db-standby" on the group: the
    # group's and the members' gates hold (cooldown). Everything recovers at
    # 09:30; at 09:26 a human acks. Inside the window (09:42 to 09:48) db-2
    # and db-3 fail everywhere: the group's own window still counts its
    # members, so the group shows unhealthy, and every gate holds (maintenance).
    start = dt.datetime(2025, 10, 20, 9, 0, tzinfo=dt.timezone.utc)

    def minute(m):
        return start + dt.timedelta(minutes=m)

    refused = "connect: 198.51.100.4{}:5432 connection refused"

    def decide(t, target, vantage):
        n = target[-1]
        if target == "db-1" and minute(5) <= t < minute(30):
            return down(t, target, vantage, refused.format(n), layer="connect")
        if target == "db-2" and minute(10) <= t < minute(20) and vantage == "quad9":
            return down(t, target, vantage, refused.format(n), layer="connect")
        if target == "db-2" and minute(20) <= t < minute(30):
            return down(t, target, vantage, refused.format(n), layer="connect")
        if target in ("db-2", "db-3") and minute(42) <= t < minute(48):
            return down(t, target, vantage, refused.format(n), layer="connect")
        return up(t, target, vantage)

    lines = run(start, 55, ["db-1", "db-2", "db-3"], VANTAGES, decide)
    lines.append({"t": ts(minute(24)),
                  "action": {"target": "group:db-cluster", "what": "promote db-standby",
                             "by": "failover-bot"}})
    lines.append({"t": ts(minute(26)), "ack_action": "replay-1"})
    lines.sort(key=lambda line: line["t"])
    return lines


if __name__ == "__main__":
    write("empty-dns-answer", empty_dns_answer())
    write("congested-vantage", congested_vantage())
    write("true-outage", true_outage())
    write("flapping-vantage", flapping_vantage())
    write("silent-peers", silent_peers())
    write("override-expires", override_expires())
    write("override-expires-in-grace", override_expires_in_grace())
    write("duplicated-observations", duplicated_observations())
    write("broken-canary", broken_canary())
    write("peer-claims-local-domain", peer_claims_local_domain())
    write("blast-radius-override", blast_radius_override())
    write("outage-seen-first-by-one", outage_seen_first_by_one())
    write("split-domains", split_domains())
    write("conflicting-observations", conflicting_observations())
    write("canary-down-one-domain", canary_down_one_domain())
    write("blast-radius-override-unhealthy", blast_radius_override_unhealthy())
    write("vantage-alone-past-grace", vantage_alone_past_grace())
    write("split-domains-all-down", split_domains_all_down())
    write("skipped-lines", skipped_lines())
    write("failover-scope", failover_scope())
    write("parent-down", parent_down())
    write("maintenance-window", maintenance_window())
    write("cooldown", cooldown())
    write("group-threshold", group_threshold())
