// The side panels: open escalations with their Ack button, the overrides,
// maintenance windows and cooldowns in force, and the vantages and peers
// (suspect and why, last seen, whether a peer answers and signs).

import {el, placeAt, removeFrom, replaceChildren, setText} from "./dom.js";
import {clockTime, parseTime, relative} from "./format.js";

const ESCALATION_TITLES = {
  dispute: "Dispute",
  split: "Split failure domain",
  flapping: "Flapping",
  blast_radius: "Blast-radius hold",
  quorum_unreachable: "Quorum unreachable",
  canary_down: "Canary down",
  vantage_suspect: "Suspect vantage",
  config_rejected: "Config rejected",
  peer_unreachable: "Peer unreachable",
  peer_unauthenticated: "Peer fails its signature check",
  cert_expiring: "Certificate expiring",
  rrsig_expiring: "DNSSEC signatures expiring",
};

/** A <span> whose text time keeps current: `compute(now)`; pushed on `clock`. */
function liveText(clock, compute) {
  const node = el("span");
  clock.push((now) => setText(node, compute(now)));
  return node;
}

/** "12:03:09 (2 min ago)" for an RFC 3339 time, kept current. */
function liveWhen(clock, iso) {
  const at = parseTime(iso);
  return at === null ? "—" : liveText(clock, (now) => `${clockTime(at)} (${relative(at, now)})`);
}

export class Escalations {
  /**
   * `root`: the panel body; `onAck(escalation)` acknowledges one. `ackState`
   * (id -> {state: "pending"|"done"|"error", text}) says how an ack went.
   */
  constructor(root, {onAck}) {
    this.root = root;
    this.onAck = onAck;
    this.items = new Map();  // id -> {li, key, clock}
    this.list = el("ul", {class: "escalations"});
    this.empty = el("p", {class: "empty-note", text: "None open: nothing waits for a human."});
  }

  render({escalations, ackState, now}) {
    if (escalations.length === 0) {
      if (!this.empty.isConnected) {
        replaceChildren(this.root, this.empty);
      }
      this.items.clear();
      return;
    }
    if (!this.list.isConnected) {
      replaceChildren(this.root, this.list);
    }
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const seen = new Set();
    let cursor = this.list.firstElementChild;
    for (const escalation of escalations) {
      const id = String(escalation.id);
      seen.add(id);
      const ack = ackState.get(id) ?? null;
      const key = JSON.stringify([escalation, ack]);
      let item = this.items.get(id);
      if (!item || item.key !== key) {
        const clock = [];
        const li = this.item(escalation, ack, clock);
        if (item) {
          item.li.replaceWith(li);
          if (focused && item.li.contains(focused)) {
            li.focus({preventScroll: true});  // the Ack button is gone: keep the keyboard here
          }
          if (cursor === item.li) {
            cursor = li;
          }
        }
        item = {li, key, clock};
        this.items.set(id, item);
      }
      cursor = placeAt(this.list, item.li, cursor);
    }
    removeFrom(cursor);
    for (const id of [...this.items.keys()]) {
      if (!seen.has(id)) {
        this.items.delete(id);
      }
    }
    this.tick(now);
  }

  tick(now) {
    for (const item of this.items.values()) {
      item.clock.forEach((update) => update(now));
    }
  }

  item(escalation, ack, clock) {
    const acked = Boolean(escalation.acked_at);
    const about = escalation.target ?? escalation.vantage;
    const li = el("li", {class: `escalation${acked ? " is-acked" : ""}`, tabindex: "-1",
      data: {escalationId: escalation.id, kind: escalation.kind, target: escalation.target, acked}},
    el("p", {class: "escalation-head"},
        el("strong", {text: ESCALATION_TITLES[escalation.kind] ?? escalation.kind.replaceAll("_", " ")}),
        about ? ` · ${about}` : "", el("span", {class: "escalation-id", text: ` #${escalation.id}`})),
    el("p", {class: "escalation-reason", text: escalation.reason}),
    el("p", {class: "escalation-when"}, "opened ", liveWhen(clock, escalation.opened_at),
        escalation.silenced ? el("span", {class: "mark mark-maintenance", text: "silenced: maintenance"}) : null));
    if (acked) {
      li.append(el("p", {class: "escalation-acked", data: {testid: "acked"}},
          el("span", {class: "mark mark-acked", text: "acknowledged"}),
          ` by ${escalation.acked_by ?? "—"} at `, liveWhen(clock, escalation.acked_at)));
    } else {
      const button = el("button", {type: "button", class: "ack", data: {escalation: escalation.id},
        disabled: ack?.state === "pending"}, ack?.state === "pending" ? "Acknowledging…" : "Ack");
      button.addEventListener("click", () => this.onAck(escalation));
      li.append(el("p", {class: "escalation-actions"}, button));
    }
    // An error stays until the next try; "done" only until the list shows the ack.
    if (ack && (ack.state === "error" || (ack.state === "done" && !acked))) {
      li.append(el("p", {class: `ack-status ack-${ack.state}`, role: "status", data: {testid: "ack-status"}, text: ack.text}));
    }
    return li;
  }
}

export class Holds {
  /** `root`: the panel body. */
  constructor(root) {
    this.root = root;
    this.key = null;
    this.clock = [];
  }

  /** Lists every override, maintenance window and cooldown among `summaries`. */
  render({summaries, now}) {
    const holds = [];
    for (const s of summaries) {
      if (s.override) {
        holds.push({target: s.target, kind: "override", what: `override: ${s.override.verdict}`,
          by: s.override.by, reason: s.override.reason, until: s.override.expires_at});
      }
      if (s.maintenance) {
        holds.push({target: s.target, kind: "maintenance",
          what: `maintenance${s.maintenance.source === "config" ? ` (window ${s.maintenance.window})` : ""}`,
          by: s.maintenance.by ?? s.maintenance.node, reason: s.maintenance.reason, until: s.maintenance.until});
      }
      if (s.cooldown) {
        holds.push({target: s.target, kind: "cooldown", what: `cooldown after ${s.cooldown.action}`,
          by: s.cooldown.by, reason: s.cooldown.what, until: s.cooldown.until});
      }
    }
    const key = JSON.stringify(holds);
    if (key !== this.key) {
      this.key = key;
      this.clock = [];
      replaceChildren(this.root, holds.length === 0
        ? el("p", {class: "empty-note", text: "None in force."})
        : el("ul", {class: "holds"}, holds.map((h) => el("li", {data: {target: h.target, kind: h.kind}},
            el("p", {}, el("strong", {text: h.target}), " ", el("span", {class: `mark mark-${h.kind}`, text: h.what}),
                h.by ? ` by ${h.by}` : ""),
            h.reason ? el("p", {class: "hold-reason", text: h.reason}) : null,
            el("p", {class: "hold-until"}, "until ", liveWhen(this.clock, h.until))))));
    }
    this.tick(now);
  }

  tick(now) {
    this.clock.forEach((update) => update(now));
  }
}

/** Each peer node with what the open escalations say about it. */
function peersOf(vantages, escalations) {
  const peers = new Map();
  for (const vantage of vantages) {
    if (vantage.node) {
      peers.set(vantage.node, {node: vantage.node, state: "no open escalation about it", problem: false});
    }
  }
  for (const escalation of escalations) {
    const problem = escalation.kind === "peer_unreachable" ? "unreachable"
        : escalation.kind === "peer_unauthenticated" ? "replies fail the signature check: its votes do not count"
          : null;
    if (problem && escalation.vantage) {
      peers.set(escalation.vantage, {node: escalation.vantage, state: problem, problem: true});
    }
  }
  return [...peers.values()].sort((a, b) => a.node.localeCompare(b.node));
}

export class Vantages {
  /** `root`: the panel body. */
  constructor(root) {
    this.root = root;
    this.key = null;
    this.clock = [];
  }

  /** `node`: this oracle's own node name, for its local vantages. */
  render({vantages, escalations, node, now}) {
    const peers = peersOf(vantages, escalations);
    const key = JSON.stringify([vantages, peers, node]);
    if (key !== this.key) {
      this.key = key;
      this.clock = [];
      const sorted = [...vantages].sort((a, b) => a.domain.localeCompare(b.domain) || a.name.localeCompare(b.name));
      replaceChildren(this.root,
          vantages.length === 0 ? el("p", {class: "empty-note", text: "No vantage reported yet."})
            : el("div", {class: "scroll-x"}, el("table", {class: "vantages"},
                el("thead", {}, el("tr", {}, ["Vantage", "Domain", "Node", "State", "Last seen"].map((h) => el("th", {scope: "col", text: h})))),
                el("tbody", {}, sorted.map((v) => [el("tr", {data: {vantage: v.name, domain: v.domain, suspect: v.suspect}},
                    el("th", {scope: "row", text: v.name}),
                    el("td", {text: v.domain}),
                    el("td", {text: v.node ? `peer ${v.node}` : "local", title: v.node ? null : `this node${node ? `, ${node}` : ""}`}),
                    el("td", {}, el("span", {class: v.suspect ? "mark mark-suspect" : "mark mark-trusted",
                      text: v.suspect ? "suspect" : "trusted"})),
                    el("td", {}, liveWhen(this.clock, v.last_seen))),
                  // Why it is suspect, on a row of its own: the reason is a sentence.
                  v.suspect ? el("tr", {class: "suspect-reason"}, el("td", {colspan: "5", text: v.suspect_reason ?? "no reason given"})) : null])))),
          peers.length === 0 ? el("p", {class: "help", text: "No peers: every vantage is this node's own."})
            : el("ul", {class: "peers"}, peers.map((p) => el("li", {data: {peer: p.node, problem: p.problem}},
                el("strong", {text: `peer ${p.node}`}), ": ",
                el("span", {class: p.problem ? "mark mark-suspect" : "mark mark-trusted", text: p.state})))));
    }
    this.tick(now);
  }

  tick(now) {
    this.clock.forEach((update) => update(now));
  }
}
