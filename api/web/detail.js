// One target's detail, like `crosscheck explain`: the verdict and what it
// means, the votes against the quorum, the evidence vote by vote (vote, the
// vote before suspicion and staleness, last observation, latency, outcome,
// layer, detail, answers, and why it counts or not), who resolved what, and
// the timeline of transitions with the reason of each.

import {el, replaceChildren, setText, show} from "./dom.js";
import {answersText, badgeClass, dateTime, joinWords, latencyText, parseTime, relative, validity,
  verdictMeaning, verdictWords} from "./format.js";
import {analyseDivergence} from "./matrix.js";
import {currencyOf, marksOf} from "./board.js";

/** The board's marks that the facts list under a name of their own (the rest are facts already). */
const HOLD_FACTS = {override: "Override", maintenance: "Maintenance", cooldown: "Cooldown"};

/** "1 of 3 failure domains down (beta), 2 needed; 2 up (alpha and gamma), 2 needed for healthy; ..." */
function tally(votes) {
  const names = (list) => (list && list.length ? ` (${joinWords(list)})` : "");
  const known = votes.known_domains ?? votes.up + votes.down + votes.unknown + (votes.split ?? 0) + (votes.degraded ?? 0);
  const parts = [
    `${votes.down} of ${known} failure domains down${names(votes.down_domains)}, ${votes.down_quorum} needed for unhealthy`,
    `${votes.up} up${names(votes.up_domains)}, ${votes.up_quorum} needed for healthy`,
    `${votes.unknown} without a vote`,
  ];
  if (votes.split > 0) {
    parts.push(`${votes.split} split${names(votes.split_domains)}: their own vantages disagree`);
  }
  if (votes.degraded > 0) {
    parts.push(`${votes.degraded} degraded${names(votes.degraded_domains)}: too slow`);
  }
  return parts.join("; ");
}

/** Why one vote counts or not (the words of `crosscheck explain`). */
function whyVote(item, verdict) {
  if (item.suspect) {
    return "does not count: the vantage is suspect";
  }
  if (item.stale) {
    return "does not count: stale, no fresh observation";
  }
  if (item.vote !== "unknown" && (verdict.votes?.split_domains ?? []).includes(item.domain)) {
    return `does not count: domain ${item.domain} is split`;
  }
  if (item.vote !== "unknown") {
    return `counts for domain ${item.domain}`;
  }
  if (!item.last_observed) {
    return "does not count: no observation yet";
  }
  return "does not count yet: too few consecutive results, or the vantage could not observe";
}

function lastKnownGoodText(value) {
  switch (value) {
    case "reachable":
      return "DNS is failing, but the service still answers at its last-known-good addresses: fix DNS, do not fail the service over.";
    case "unreachable":
      return "DNS is failing and the last-known-good addresses do not answer either.";
    default:
      return null;
  }
}

export class Detail {
  /** `root`: the detail section; `onClose()` when its Close button is pressed. */
  constructor(root, {onClose}) {
    this.root = root;
    this.title = root.querySelector("h2");
    this.body = root.querySelector(".detail-body");
    root.querySelector(".close-detail").addEventListener("click", onClose);
    this.key = null;
    this.clock = [];  // update(now, connected) of each part that time changes
  }

  /**
   * Shows `target` (null hides the section): `detail` its full verdict
   * (null while loading), `history` its transitions, `error` why they could
   * not be read.
   */
  render({target, detail, history, error, connected, now}) {
    show(this.root, target !== null);
    if (target === null) {
      this.key = null;
      return;
    }
    this.root.dataset.target = target;
    setText(this.title, target);
    const key = [target, detail, history, error];
    if (this.key && key.every((part, i) => part === this.key[i])) {
      this.tick(now, connected);
      return;
    }
    this.key = key;
    this.clock = [];
    if (error) {
      replaceChildren(this.body, el("p", {class: "error-note", text: error}));
      return;
    }
    if (!detail) {
      replaceChildren(this.body, el("p", {class: "loading", text: "Loading evidence and history…"}));
      return;
    }
    replaceChildren(this.body, this.summaryPart(detail), this.evidencePart(detail),
        this.groupPart(detail), this.timelinePart(history));
    this.tick(now, connected);
  }

  tick(now, connected) {
    for (const part of this.clock) {
      part(now, connected);
    }
  }

  /** A text node kept current by tick(): `compute(now, connected)` gives its text. */
  live(compute, className) {
    const node = el("span", {class: className});
    this.clock.push((now, connected) => setText(node, compute(now, connected)));
    return node;
  }

  summaryPart(verdict) {
    const since = parseTime(verdict.since);
    const evaluated = parseTime(verdict.evaluated_at);
    const facts = [
      ["Reason", `${verdict.reason}${verdict.reason_code ? ` (${verdict.reason_code})` : ""}`],
      verdict.votes ? ["Votes", tally(verdict.votes)] : null,
      ["Failing layer", verdict.failing_layer ? `${verdict.failing_layer} (scope ${verdict.scope})` : `none (scope ${verdict.scope})`],
      ["Last-known-good", lastKnownGoodText(verdict.last_known_good)],
      ["Valid", this.live((now) => `${validity(verdict.valid_until, now).text} (until ${verdict.valid_until})`)],
      ["Evaluated", evaluated === null ? "—" : this.live((now) => `${relative(evaluated, now)} (${dateTime(evaluated)})`)],
      ["Fresh", verdict.fresh ? "yes: the votes counted now support it"
        : "no: the votes counted now do not confirm it (restored, or kept through the dispute grace); gates hold"],
      verdict.canary ? ["Canary", "must be up everywhere; a vantage failing it becomes suspect"] : null,
      verdict.cert_not_after ? ["Certificate", `expires ${verdict.cert_not_after}`] : null,
      verdict.rrsig_expires ? ["DNSSEC", `signatures expire ${verdict.rrsig_expires}`] : null,
      ...marksOf(verdict).filter((mark) => HOLD_FACTS[mark.kind])
          .map((mark) => [HOLD_FACTS[mark.kind], `${mark.text}. ${mark.title}`]),
    ].filter((fact) => fact && fact[1] !== null);
    const divergence = analyseDivergence(verdict.divergence);
    return el("div", {class: "detail-summary"},
        el("p", {class: "headline"},
            el("span", {class: badgeClass(verdict), text: verdictWords(verdict)}),
            " since ", since === null ? "—" : this.live((now) => `${dateTime(since)} (${relative(since, now)})`),
            `, generation ${verdict.generation} `,
            this.live((now, connected) => currencyOf(verdict, now, connected).label, "currency")),
        el("p", {class: "meaning", text: verdictMeaning(verdict)}),
        divergence ? el("p", {class: "divergence-note"},
            el("span", {class: "marker", "aria-hidden": "true", text: "⚠"}),
            ` Failure domains disagree: ${divergence.text}.`) : null,
        el("dl", {class: "facts"}, facts.map(([name, value]) => [el("dt", {text: name}), el("dd", {}, value)])));
  }

  evidencePart(verdict) {
    const evidence = verdict.evidence ?? [];
    const divergence = analyseDivergence(verdict.divergence);
    const headers = ["Vantage", "Node", "Domain", "Vote", "Observed vote", "Suspect", "Stale",
      "Last observed", "Latency", "Outcome", "Layer", "Detail", "Answers", "Counts?"];
    const rows = evidence.map((item) => {
      const observed = parseTime(item.last_observed);
      const diverges = divergence?.diverging.has(item.domain) ?? false;
      return el("tr", {data: {vantage: item.vantage, domain: item.domain, vote: item.vote}, class: diverges ? "diverges" : null},
          el("th", {scope: "row", text: item.vantage}),
          el("td", {text: item.node ?? "—"}),
          el("td", {text: item.domain}),
          el("td", {}, el("span", {class: `cell-chip vote-${item.vote}`, text: item.vote})),
          el("td", {text: item.raw_vote ?? "—"}),
          el("td", {text: item.suspect ? "yes" : "no"}),
          el("td", {text: item.stale === undefined ? "—" : item.stale ? "yes" : "no"}),
          el("td", {}, observed === null ? "never"
            : this.live((now) => `${relative(observed, now)}`), observed === null ? null : el("br"),
          observed === null ? null : el("small", {text: dateTime(observed)})),
          el("td", {class: "num", text: latencyText(item.latency_ms)}),
          el("td", {text: item.outcome ?? "—"}),
          el("td", {text: item.layer ?? "—"}),
          el("td", {class: "wrap", text: item.detail ?? "—"}),
          el("td", {class: diverges ? "wrap answers-diverge" : "wrap"}, diverges ? "⚠ " : null, answersText(item.answers)),
          el("td", {class: "wrap", text: whyVote(item, verdict)}));
    });
    return el("div", {class: "detail-part"},
        el("h3", {text: "Evidence, vote by vote"}),
        evidence.length === 0 ? el("p", {text: "No vantage has evidence for this target yet."})
          : el("div", {class: "scroll-x", tabindex: "0", role: "region", "aria-label": "Evidence, scrolls sideways"},
              el("table", {class: "evidence", data: {testid: "evidence"}},
                  el("thead", {}, el("tr", {}, headers.map((h) => el("th", {scope: "col", text: h})))),
                  el("tbody", {}, rows))));
  }

  groupPart(verdict) {
    if (!verdict.group) {
      return null;
    }
    const members = verdict.group.members ?? [];
    return el("div", {class: "detail-part"},
        el("h3", {text: `Members (healthy when at least ${verdict.group.healthy_at_least} are healthy)`}),
        el("table", {class: "members"},
            el("thead", {}, el("tr", {}, ["Member", "Verdict", "Fresh", "Maintenance", "Override"]
                .map((h) => el("th", {scope: "col", text: h})))),
            el("tbody", {}, members.map((m) => el("tr", {data: {target: m.target}},
                el("th", {scope: "row", text: m.target}),
                el("td", {}, el("span", {class: badgeClass(m, "badge-small"), text: m.verdict})),
                el("td", {text: m.fresh ? "yes" : "no"}),
                el("td", {text: m.maintenance ? "yes" : "no"}),
                el("td", {text: m.override ? "yes" : "no"}))))));
  }

  timelinePart(history) {
    const part = el("div", {class: "detail-part"}, el("h3", {text: "Timeline (newest first)"}));
    if (!history) {
      part.append(el("p", {class: "loading", text: "Loading history…"}));
      return part;
    }
    if (history.length === 0) {
      part.append(el("p", {text: "No transition recorded yet."}));
      return part;
    }
    part.append(el("ol", {class: "timeline", data: {testid: "timeline"}}, history.map((item) => {
      const at = parseTime(item.at);
      return el("li", {data: {generation: item.generation, verdict: item.verdict}},
          el("p", {class: "timeline-head"},
              el("time", {datetime: item.at, text: at === null ? item.at : dateTime(at)}),
              ` · generation ${item.generation} · `,
              el("span", {class: badgeClass(item, "badge-small"), text: verdictWords(item)}),
              item.reason_code ? el("span", {class: "reason-code", text: ` ${item.reason_code}`}) : null),
          el("p", {class: "timeline-reason", text: item.reason}));
    })));
    return part;
  }
}
