// The domains x targets matrix: what each failure domain says about each
// target (up, down, split, degraded, suspect, unknown), with the evidence
// behind a cell on hover or keyboard focus, and the domains whose resolvers
// answered differently from the rest marked "disagrees". A domain's vote
// comes from the summary's `votes` lists; "suspect" from the vantages.

import {el, placeAt, removeFrom, replaceChildren, setClass, setData, setText, show} from "./dom.js";
import {answersText, badgeClass, clockTime, joinWords, latencyText, parseTime, relative, validity,
  verdictWords} from "./format.js";

/** What each cell state means, for its tooltip. */
const VOTE_MEANING = {
  up: "its observers see it working",
  down: "its observers see it failing",
  split: "its own observers disagree: counted neither up nor down",
  degraded: "its observers see the latency objective broken",
  suspect: "every observer of this domain is suspect (it fails its canaries): not counted",
  unknown: "no current vote (no fresh observation yet, or not counted)",
};

/**
 * The failure domains, sorted: [{name, vantages, suspect}] from the
 * vantages' domains plus any domain a verdict names. `suspect` is true when
 * the domain has vantages and every one of them is suspect.
 */
export function domainsOf(vantages, summaries) {
  const domains = new Map();
  const domain = (name) => {
    if (!domains.has(name)) {
      domains.set(name, {name, vantages: []});
    }
    return domains.get(name);
  };
  for (const vantage of vantages) {
    domain(vantage.domain).vantages.push(vantage);
  }
  for (const summary of summaries) {
    const votes = summary.votes;
    if (votes) {
      for (const list of [votes.up_domains, votes.down_domains, votes.split_domains, votes.degraded_domains]) {
        (list ?? []).forEach(domain);
      }
    }
  }
  return [...domains.values()]
      .map((d) => ({...d, suspect: d.vantages.length > 0 && d.vantages.every((v) => v.suspect)}))
      .sort((a, b) => a.name.localeCompare(b.name));
}

/** A domain's vote on a target: up, down, split, degraded, suspect or unknown. */
function cellVote(votes, domain) {
  const has = (list) => (list ?? []).includes(domain.name);
  if (has(votes.down_domains)) {
    return "down";
  }
  if (has(votes.split_domains)) {
    return "split";
  }
  if (has(votes.degraded_domains)) {
    return "degraded";
  }
  if (has(votes.up_domains)) {
    return "up";
  }
  return domain.suspect ? "suspect" : "unknown";
}

/**
 * Who resolved what, from a full verdict's `divergence`: null when every
 * domain agrees, else {diverging: Set of domains whose answers differ from
 * the most common answer (every domain when no answer is most common),
 * text: "beta answered [] (empty) while alpha and gamma answered 192.0.2.1"}.
 */
export function analyseDivergence(divergence) {
  if (!divergence || divergence.length === 0) {
    return null;
  }
  const byAnswers = new Map();
  for (const item of divergence) {
    const answers = [...(item.answers ?? [])].sort();
    const key = JSON.stringify(answers);
    if (!byAnswers.has(key)) {
      byAnswers.set(key, {answers, domains: new Set()});
    }
    byAnswers.get(key).domains.add(item.domain);
  }
  const groups = [...byAnswers.values()].sort((a, b) => a.domains.size - b.domains.size);
  if (groups.length < 2) {
    return null;
  }
  const largest = groups[groups.length - 1];
  const majority = largest.domains.size > groups[groups.length - 2].domains.size ? largest : null;
  const diverging = new Set();
  const say = (group) => `${joinWords([...group.domains].sort())} answered ${answersText(group.answers)}`;
  const minorities = groups.filter((group) => group !== majority);
  for (const group of minorities) {
    group.domains.forEach((name) => diverging.add(name));
  }
  const text = majority
      ? `${minorities.map(say).join("; ")} while ${say(majority)}`
      : groups.map(say).join("; ");
  return {diverging, text};
}

/**
 * Why a cell disagrees with the rest, or null: its resolvers answered
 * otherwise (`answersDiffer`, from analyseDivergence), or it is a domain
 * saying down in a dispute, outvoted by domains that say up.
 */
function disagreement(summary, vote, answersDiffer) {
  const outvoted = summary.verdict === "disputed" && vote === "down" && summary.votes.up > 0;
  if (answersDiffer && outvoted) {
    return "resolved other answers than the other domains, and says down while they say up";
  }
  if (answersDiffer) {
    return "resolved other answers than the other domains";
  }
  return outvoted ? "says down while the other domains say up: too few to confirm" : null;
}

export class Matrix {
  /**
   * `root`: the matrix section; `tooltip`: the shared tooltip element;
   * `onSelect(target)` opens a detail; `needDetail(target)` asks for a
   * full verdict that is not loaded yet (a cell was hovered).
   */
  constructor(root, tooltip, {onSelect, needDetail}) {
    this.table = root.querySelector("table");
    this.headRow = root.querySelector("thead tr");
    this.tbody = root.querySelector("tbody");
    this.notes = root.querySelector("[data-testid=divergence-notes]");
    this.empty = root.querySelector("[data-testid=matrix-empty]");
    this.tooltip = tooltip;
    this.onSelect = onSelect;
    this.needDetail = needDetail;
    this.domainsKey = null;
    this.rows = new Map();  // target -> {tr, button, verdict, cells: Map domain -> {td, button}, quorum}
    this.shown = null;      // the cell whose tooltip is open: {target, domain, td}
    this.data = {details: new Map(), domains: [], now: 0, connected: false};
    this.listen();
  }

  /**
   * `rows`: summaries with votes, in order; `domains` from domainsOf();
   * `details`: target -> full verdict (evidence, divergence), where loaded.
   */
  render({rows, domains, details, connected, now}) {
    this.data = {details, domains, now, connected};
    show(this.empty, rows.length === 0);
    this.table.classList.toggle("not-current", !connected);
    const key = domains.map((d) => `${d.name}:${d.suspect}`).join("\u0000");
    if (key !== this.domainsKey) {
      this.domainsKey = key;
      this.renderHead(domains);
      this.rows.clear();
      this.tbody.replaceChildren();
    }
    const notes = [];
    let cursor = this.tbody.firstElementChild;
    for (const summary of rows) {
      let row = this.rows.get(summary.target);
      if (!row) {
        row = this.makeRow(summary.target, domains);
        this.rows.set(summary.target, row);
      }
      const divergence = analyseDivergence(details.get(summary.target)?.divergence);
      if (divergence) {
        notes.push({target: summary.target, text: divergence.text});
      }
      this.update(row, summary, domains, divergence, now);
      cursor = placeAt(this.tbody, row.tr, cursor);
    }
    removeFrom(cursor, (tr) => this.rows.delete(tr.dataset.target));
    this.renderNotes(notes);
    if (this.shown) {
      this.fillTooltip();
      this.place();
    }
  }

  renderHead(domains) {
    replaceChildren(this.headRow,
        el("th", {scope: "col", text: "Target"}),
        domains.map((d) => el("th", {scope: "col", data: {domain: d.name},
          title: d.vantages.length ? `vantages: ${d.vantages.map((v) => v.name).join(", ")}` : "named by a verdict"},
        d.name, d.suspect ? el("span", {class: "head-note", text: " suspect"}) : null)),
        el("th", {scope: "col", text: "Quorum"}));
  }

  renderNotes(notes) {
    const key = notes.map((n) => `${n.target}\u0000${n.text}`).join("\u0001");
    if (key === this.notesKey) {
      return;
    }
    this.notesKey = key;
    replaceChildren(this.notes, notes.map((n) => el("p", {class: "divergence-note", data: {target: n.target}},
        el("span", {class: "marker", "aria-hidden": "true", text: "⚠"}), " ",
        el("strong", {text: n.target}), ` — failure domains disagree: ${n.text}.`)));
  }

  makeRow(target, domains) {
    const button = el("button", {type: "button", class: "target-link", text: target});
    button.addEventListener("click", () => this.onSelect(target));
    const verdict = el("span", {class: "badge badge-small"});
    const cells = new Map();
    const tds = domains.map((domain) => {
      const cellButton = el("button", {type: "button", class: "cell", "aria-describedby": "cell-tooltip"});
      const td = el("td", {data: {target, domain: domain.name}}, cellButton);
      cells.set(domain.name, {td, button: cellButton});
      return td;
    });
    const quorum = el("td", {class: "quorum"});
    const tr = el("tr", {data: {target}}, el("th", {scope: "row"}, button, " ", verdict), tds, quorum);
    return {tr, button, verdict, cells, quorum};
  }

  update(row, summary, domains, divergence, now) {
    setClass(row.verdict, badgeClass(summary, "badge-small"));
    setText(row.verdict, verdictWords(summary));
    row.tr.classList.toggle("not-current", validity(summary.valid_until, now).expired);
    const votes = summary.votes;
    for (const domain of domains) {
      const {td, button} = row.cells.get(domain.name);
      const vote = cellVote(votes, domain);
      const why = disagreement(summary, vote, divergence?.diverging.has(domain.name) ?? false);
      setData(td, "vote", vote);
      setData(td, "diverges", why !== null);
      setData(td, "disagreement", why ?? "");
      setClass(button, `cell vote-${vote}${why ? " diverges" : ""}`);
      setText(button, why ? `⚠ ${vote} (disagrees)` : vote);
      const label = `${summary.target}, domain ${domain.name}: ${vote}${why ? `; ${why}` : ""}`;
      if (button.getAttribute("aria-label") !== label) {
        button.setAttribute("aria-label", label);
      }
    }
    setText(row.quorum, `down ${votes.down} of ${votes.down_quorum} needed · up ${votes.up} of ${votes.up_quorum} needed`);
  }

  // Hover and focus open the tooltip of a cell; leaving or Escape closes it.
  listen() {
    const cellOf = (node) => node instanceof Element ? node.closest("td[data-domain]") : null;
    this.tbody.addEventListener("mouseover", (event) => {
      const td = cellOf(event.target);
      if (td && this.shown?.td !== td) {
        this.open(td);
      }
    });
    this.tbody.addEventListener("mouseout", (event) => {
      const from = cellOf(event.target);
      if (from && cellOf(event.relatedTarget) !== from && !from.contains(document.activeElement)) {
        this.close();
      }
    });
    this.tbody.addEventListener("focusin", (event) => {
      const td = cellOf(event.target);
      if (td) {
        this.open(td);
      } else {
        this.close();
      }
    });
    this.tbody.addEventListener("focusout", (event) => {
      if (!cellOf(event.relatedTarget)) {
        this.close();
      }
    });
    this.tbody.addEventListener("click", (event) => {
      const td = cellOf(event.target);
      if (td) {
        this.onSelect(td.dataset.target);
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.shown) {
        this.close();
      }
    });
    window.addEventListener("scroll", () => this.place(), {passive: true, capture: true});
  }

  open(td) {
    const {target, domain} = td.dataset;
    this.shown = {target, domain, td};
    if (!this.data.details.has(target)) {
      this.needDetail(target);
    }
    this.fillTooltip();
    show(this.tooltip, true);
    this.place();
  }

  close() {
    this.shown = null;
    show(this.tooltip, false);
  }

  fillTooltip() {
    const {target, domain, td} = this.shown;
    if (!td.isConnected) {
      this.close();
      return;
    }
    const vote = td.dataset.vote;
    const why = td.dataset.disagreement;
    const detail = this.data.details.get(target);
    const evidence = (detail?.evidence ?? []).filter((item) => item.domain === domain);
    replaceChildren(this.tooltip,
        el("p", {class: "tip-title"}, el("strong", {text: `${target} · domain ${domain}: ${vote}`}),
            why ? el("span", {class: "tip-diverges", text: ` — ${why}`}) : null),
        el("p", {class: "tip-meaning", text: `${domain}: ${VOTE_MEANING[vote] ?? ""}`}),
        detail ? null : el("p", {class: "tip-loading",
          text: this.data.connected ? "Loading evidence…" : "Evidence not loaded: the oracle does not answer."}),
        detail && evidence.length === 0 ? el("p", {text: "No vantage of this domain has evidence for this target."}) : null,
        evidence.map((item) => this.evidenceBlock(item)));
    setData(this.tooltip, "target", target);
    setData(this.tooltip, "domain", domain);
  }

  evidenceBlock(item) {
    const observed = parseTime(item.last_observed);
    const rows = [
      ["vote", item.raw_vote && item.raw_vote !== item.vote ? `${item.vote} (observed ${item.raw_vote})` : item.vote],
      ["observer", [item.suspect ? "suspect" : "trusted", item.stale ? "stale" : null].filter(Boolean).join(", ")],
      ["last observed", observed === null ? "never" : `${clockTime(observed)} (${relative(observed, this.data.now)})`],
      ["outcome", [item.outcome, item.layer ? `at ${item.layer}` : null].filter(Boolean).join(" ") || "—"],
      ["latency", latencyText(item.latency_ms)],
      ["detail", item.detail ?? "—"],
      ["answers", answersText(item.answers)],
    ];
    return el("div", {class: "tip-evidence"},
        el("p", {class: "tip-vantage", text: `${item.vantage}${item.node ? ` on ${item.node}` : ""}`}),
        el("dl", {}, rows.map(([name, value]) => [el("dt", {text: name}), el("dd", {text: value})])));
  }

  // Beside the cell, inside the viewport (below it, or above when there is no room).
  place() {
    if (!this.shown) {
      return;
    }
    const margin = 8;
    const cell = this.shown.td.getBoundingClientRect();
    const tip = this.tooltip.getBoundingClientRect();
    const left = Math.max(margin, Math.min(cell.left, window.innerWidth - tip.width - margin));
    const below = cell.bottom + 6;
    const top = below + tip.height + margin > window.innerHeight && cell.top - tip.height - 6 > margin
        ? cell.top - tip.height - 6 : below;
    this.tooltip.style.left = `${Math.round(left)}px`;
    this.tooltip.style.top = `${Math.round(top)}px`;
  }
}
