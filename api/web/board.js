// The verdict board: one row per target or group, its verdict in colour and
// in words with its marks under it (not fresh, override, maintenance,
// cooldown, split), the hold, since, generation, failing layer and scope,
// and how long the verdict may still be acted on. Rows are kept by target and updated in
// place, so a refresh neither flickers nor takes the keyboard focus away.

import {el, placeAt, removeFrom, replaceChildren, setClass, setData, setText, show} from "./dom.js";
import {badgeClass, dateTime, parseTime, relative, validity, verdictRank, verdictWords} from "./format.js";

const GROUP_PREFIX = "group:";

/** "10,002". */
const count = (n) => n.toLocaleString("en");

/** The marks of a summary: [{text, title, kind}], in a fixed order. */
export function marksOf(summary) {
  const marks = [];
  if (!summary.fresh) {
    marks.push({kind: "not-fresh", text: "not fresh",
      title: "The votes counted now do not confirm this verdict (restored, or kept through the dispute grace): gates hold."});
  }
  if (summary.override) {
    const o = summary.override;
    marks.push({kind: "override", text: `override: ${o.verdict}`,
      title: `Set by ${o.by ?? "an operator"} at ${o.set_at}, expires ${o.expires_at}: ${o.reason}`});
  }
  if (summary.maintenance) {
    const m = summary.maintenance;
    marks.push({kind: "maintenance", text: "maintenance",
      title: `${m.reason ?? m.window ?? "maintenance window"}, until ${m.until}${m.node ? ` (set on ${m.node})` : ""}: gates hold, escalations are silenced.`});
  }
  if (summary.cooldown) {
    const c = summary.cooldown;
    marks.push({kind: "cooldown", text: "cooldown",
      title: `${c.by} did "${c.what}" (action ${c.action}); gates hold until ${c.until} or an ack.`});
  }
  const split = summary.votes?.split_domains ?? [];
  if (split.length > 0) {
    marks.push({kind: "split", text: `split: ${split.join(", ")}`,
      title: "These failure domains' own observers disagree: they count neither up nor down."});
  }
  if (summary.group) {
    const members = summary.group.members ?? [];
    const healthy = members.filter((m) => m.verdict === "healthy").length;
    marks.push({kind: "group", text: `${healthy} of ${members.length} members healthy`,
      title: `Healthy when at least ${summary.group.healthy_at_least} members are healthy.`});
  }
  return marks;
}

/** How current a verdict is: {current, expired, label} ("" when current). */
export function currencyOf(summary, now, connected) {
  const {expired} = validity(summary.valid_until, now);
  const parts = [];
  if (!connected) {
    parts.push("last known");
  }
  if (expired) {
    parts.push("expired — not current");
  }
  return {current: connected && !expired, expired, label: parts.join(", ")};
}

export class Board {
  /** `root`: the board's section; `onSelect(target)` opens a target's detail. */
  constructor(root, {onSelect}) {
    this.tbody = root.querySelector("tbody");
    this.counts = root.querySelector("[data-testid=counts]");
    this.shownNote = root.querySelector("[data-testid=shown-note]");
    this.empty = root.querySelector("[data-testid=board-empty]");
    this.onSelect = onSelect;
    this.rows = new Map();  // target -> row record
  }

  /**
   * Shows `rows` (summaries, in order); `all` every summary, for the counts;
   * `matched` how many passed the filter; `selected` the target whose
   * detail is open; `connected` whether the last round of reads succeeded.
   */
  render({rows, all, matched, selected, connected, now}) {
    this.renderCounts(all);
    setText(this.shownNote, rows.length < matched
        ? `Showing ${rows.length} of ${count(matched)} matching targets, problems first: filter to find others.`
        : "");
    show(this.empty, all.length === 0);
    const focused = this.tbody.contains(document.activeElement) ? document.activeElement : null;
    let cursor = this.tbody.firstElementChild;
    for (const summary of rows) {
      let row = this.rows.get(summary.target);
      if (!row) {
        row = this.makeRow(summary.target);
        this.rows.set(summary.target, row);
      }
      this.update(row, summary, selected === summary.target);
      this.tick(row, now, connected);
      cursor = placeAt(this.tbody, row.tr, cursor);
    }
    removeFrom(cursor, (tr) => this.rows.delete(tr.dataset.target));
    if (focused && focused.isConnected && document.activeElement !== focused) {
      focused.focus({preventScroll: true});
    }
  }

  /** Updates what time changes: since, validity and currency of every row shown. */
  tickAll(now, connected) {
    for (const row of this.rows.values()) {
      this.tick(row, now, connected);
    }
  }

  /** "7 targets: 1 unhealthy, 1 disputed — held healthy, 5 healthy", worst first. */
  renderCounts(all) {
    const groups = new Map();  // words -> {count, rank}
    for (const summary of all) {
      const words = summary.verdict === "disputed" || summary.verdict === "unknown"
          ? verdictWords(summary) : summary.verdict;
      const group = groups.get(words) ?? {count: 0, rank: verdictRank(summary.verdict)};
      group.count += 1;
      groups.set(words, group);
    }
    const parts = [...groups].sort(([, a], [, b]) => a.rank - b.rank)
        .map(([words, group]) => `${count(group.count)} ${words}`);
    setText(this.counts, `${count(all.length)} target${all.length === 1 ? "" : "s"}${parts.length ? `: ${parts.join(", ")}` : ""}`);
  }

  makeRow(target) {
    const isGroup = target.startsWith(GROUP_PREFIX);
    const name = isGroup ? target.slice(GROUP_PREFIX.length) : target;
    const button = el("button", {type: "button", class: "target-link", data: {target}}, name);
    button.addEventListener("click", () => this.onSelect(target));
    const badge = el("span", {class: "badge"});
    const currency = el("span", {class: "currency"});
    const since = el("time");
    const generation = el("td", {class: "num"});
    const layer = el("td");
    const valid = el("td", {class: "valid"});
    const marks = el("span", {class: "marks"});
    const tr = el("tr", {data: {target}},
        el("th", {scope: "row"}, button, isGroup ? el("span", {class: "tag", text: "group"}) : null),
        el("td", {class: "cell-verdict"}, badge, currency, marks),
        el("td", {}, since), generation, layer, valid);
    // A click anywhere on the row selects it too; the keyboard uses the button.
    tr.addEventListener("click", (event) => {
      if (!event.target.closest("button, a")) {
        this.onSelect(target);
      }
    });
    return {tr, button, badge, currency, since, generation, layer, valid, marks, marksKey: "", summary: null};
  }

  update(row, summary, selected) {
    row.summary = summary;
    const {tr} = row;
    setData(tr, "verdict", summary.verdict);
    setData(tr, "held", summary.held ?? "none");
    setData(tr, "fresh", summary.fresh);
    setData(tr, "failingLayer", summary.failing_layer ?? "none");
    tr.classList.toggle("is-selected", selected);
    if (selected) {
      row.button.setAttribute("aria-current", "true");
    } else {
      row.button.removeAttribute("aria-current");
    }
    setClass(row.badge, badgeClass(summary));
    setText(row.badge, verdictWords(summary));
    row.since.dateTime = summary.since;
    const sinceMs = parseTime(summary.since);
    row.since.title = sinceMs === null ? "" : dateTime(sinceMs);
    setText(row.generation, String(summary.generation));
    const layer = summary.failing_layer ? `${summary.failing_layer} · scope ${summary.scope}` : "—";
    setText(row.layer, layer);
    const marks = marksOf(summary);
    const key = marks.map((m) => `${m.text}\u0000${m.title}`).join("\u0001");
    if (key !== row.marksKey) {
      row.marksKey = key;
      replaceChildren(row.marks, marks.map((m) => el("span", {class: `mark mark-${m.kind}`, title: m.title, text: m.text})));
    }
  }

  tick(row, now, connected) {
    const {summary} = row;
    if (!summary) {
      return;
    }
    const since = parseTime(summary.since);
    setText(row.since, since === null ? "—" : relative(since, now));
    const valid = validity(summary.valid_until, now);
    setText(row.valid, valid.text);
    const currency = currencyOf(summary, now, connected);
    setText(row.currency, currency.label);
    setData(row.tr, "current", currency.current);
    setData(row.tr, "expired", currency.expired);
    row.tr.classList.toggle("not-current", !currency.current);
  }
}
