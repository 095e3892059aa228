// The status page's entry point: the state the oracle last told us, the
// live loop that keeps it current, and the views that show it. The page
// never shows a verdict as current unless the last round of reads succeeded
// within the watch's wait and the verdict's valid_until has not passed.

import * as api from "./api.js";
import {ackActor, askForToken, initAuth, nextToken, refusalText} from "./auth.js";
import {Board} from "./board.js";
import {Detail} from "./detail.js";
import {setData, setText, show} from "./dom.js";
import {clockTime, duration, learnServerClock, parseTime, serverNow, verdictRank,
  verdictWords} from "./format.js";
import {LiveLoop} from "./live.js";
import {Matrix, domainsOf} from "./matrix.js";
import {Escalations, Holds, Vantages} from "./panels.js";

/** Board and matrix rows shown at once (the rest: filter). */
const MAX_ROWS = 200;
/**
 * Full verdicts (evidence, divergence) read every round: every matrix row
 * up to this many; past it only the rows not healthy, up to this many;
 * the others on hover or selection.
 */
const EAGER_DETAILS = 50;
/** Bounds of the watch's wait; within them, half the shortest validity. */
const MIN_WAIT_MS = 1000;
const MAX_WAIT_MS = 25000;
/** Verdict changes announced to screen readers per round, at most. */
const MAX_ANNOUNCED = 3;

const state = {
  node: null,
  summaries: [],
  details: new Map(),   // target -> full verdict, for the matrix's evidence and the detail
  vantages: [],
  escalations: [],
  selected: null,
  history: null,
  detailError: null,
  filter: "",
  connection: "connecting",  // connecting | live | lost | auth
  problem: "",
  lastGood: null,            // local ms of the last successful round
  retryAt: null,
  waitMs: MAX_WAIT_MS,       // the wait of the watch in flight
  ackState: new Map(),       // escalation id -> {state, text}
};

const $ = (selector) => document.querySelector(selector);
const board = new Board($("#board"), {onSelect: select});
const matrix = new Matrix($("#matrix"), $("#cell-tooltip"), {onSelect: select, needDetail: loadDetail});
const detail = new Detail($("#detail"), {onClose: closeDetail});
const escalations = new Escalations($("[data-testid=escalations]"), {onAck: acknowledge});
const holds = new Holds($("[data-testid=holds]"));
const vantages = new Vantages($("[data-testid=vantages]"));

const isGroup = (summary) => summary.target.startsWith("group:");

// Plain code-unit order for names: localeCompare costs too much on 10,000 rows.
function problemFirst(a, b) {
  return verdictRank(a.verdict) - verdictRank(b.verdict) || (a.target < b.target ? -1 : a.target > b.target ? 1 : 0);
}

/** The summaries passing the filter, problems first. */
function matchedRows(summaries = state.summaries) {
  const filter = state.filter.trim().toLowerCase();
  const matched = filter
    ? summaries.filter((s) => `${s.target} ${verdictWords(s)} ${s.failing_layer ?? ""}`.toLowerCase().includes(filter))
    : [...summaries];
  return matched.sort(problemFirst);
}

function matrixRows(matched) {
  return matched.filter((s) => s.votes && !isGroup(s)).slice(0, MAX_ROWS);
}

let viewCache = {summaries: null, filter: null, vantages: null};

/** What the board and the matrix show, computed again only when its inputs changed. */
function currentView() {
  if (viewCache.summaries !== state.summaries || viewCache.filter !== state.filter || viewCache.vantages !== state.vantages) {
    const matched = matchedRows();
    viewCache = {summaries: state.summaries, filter: state.filter, vantages: state.vantages, matched,
      matrix: matrixRows(matched), domains: domainsOf(state.vantages, state.summaries)};
  }
  return viewCache;
}

/** Half the shortest validity span, so valid_until is read again before it passes. */
function nextWaitMs() {
  let shortest = Infinity;
  for (const s of state.summaries) {
    const span = parseTime(s.valid_until) - parseTime(s.evaluated_at);
    if (span > 0 && span < shortest) {
      shortest = span;
    }
  }
  state.waitMs = Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, shortest / 2));
  return state.waitMs;
}

/** A full verdict, or null when the target is gone (404). */
async function readVerdict(target) {
  try {
    return await api.getVerdict(target);
  } catch (error) {
    if (error instanceof api.ApiError && error.status === 404) {
      return null;
    }
    throw error;
  }
}

/** One round of reads after a watch answer (or none); resolves to the revision seen. */
async function refresh(changed) {
  let revision;
  let summaries;
  if (changed) {
    ({revision, verdicts: summaries} = changed);
  } else {
    const list = await api.getVerdicts();
    ({revision, verdicts: summaries} = list);
    state.node = list.node;
  }
  const receivedAt = Date.now();
  const selected = state.selected;  // the user may select another one meanwhile
  const rows = matrixRows(matchedRows(summaries));
  const eager = rows.length <= EAGER_DETAILS ? rows : rows.filter((s) => s.verdict !== "healthy").slice(0, EAGER_DETAILS);
  const wanted = new Set(eager.map((s) => s.target));
  for (const target of [selected, matrix.shown?.target]) {
    if (target) {
      wanted.add(target);
    }
  }
  const [vantageList, escalationList, verdicts, transitions] = await Promise.all([
    api.getVantages(),
    api.getEscalations(),
    Promise.all([...wanted].map(async (target) => [target, await readVerdict(target)])),
    selected ? api.getHistory(selected).catch((error) => (error.status === 404 ? null : Promise.reject(error))) : null,
  ]);
  announceChanges(state.summaries, summaries);
  state.summaries = summaries;
  state.vantages = vantageList;
  state.escalations = escalationList;
  state.details = new Map(verdicts.filter(([, verdict]) => verdict !== null));
  if (selected && state.selected === selected) {
    state.history = transitions;
    state.detailError = state.details.has(selected) ? null
      : `This oracle has no target named ${selected}.`;
  }
  const open = new Set(escalationList.map((e) => String(e.id)));
  for (const id of state.ackState.keys()) {
    if (!open.has(id)) {
      state.ackState.delete(id);
    }
  }
  let newest = null;
  for (const s of summaries) {
    newest = Math.max(newest ?? 0, parseTime(s.evaluated_at) ?? 0);
  }
  learnServerClock(newest, receivedAt);
  return revision;
}

/** Tells screen readers which verdicts changed (a few; the board shows all). */
function announceChanges(before, after) {
  if (before.length === 0) {
    return;
  }
  const old = new Map(before.map((s) => [s.target, verdictWords(s)]));
  const changes = after.filter((s) => old.has(s.target) && old.get(s.target) !== verdictWords(s))
      .map((s) => `${s.target} is now ${verdictWords(s)}`);
  if (changes.length > 0) {
    const more = changes.length > MAX_ANNOUNCED ? ` and ${changes.length - MAX_ANNOUNCED} more` : "";
    setText($("[data-testid=announcer]"), `${changes.slice(0, MAX_ANNOUNCED).join("; ")}${more}.`);
  }
}

function render() {
  const now = serverNow();
  const connected = state.connection === "live";
  const view = currentView();
  board.render({rows: view.matched.slice(0, MAX_ROWS), all: state.summaries, matched: view.matched.length,
    selected: state.selected, connected, now});
  matrix.render({rows: view.matrix, domains: view.domains, details: state.details, connected, now});
  detail.render({target: state.selected, detail: state.details.get(state.selected) ?? null,
    history: state.history, error: state.detailError, connected, now});
  escalations.render({escalations: state.escalations, ackState: state.ackState, now});
  holds.render({summaries: state.summaries, now});
  vantages.render({vantages: state.vantages, escalations: state.escalations, node: state.node, now});
  renderConnection(now);
}

/** Header, banners and title: whether what is shown is current, and since when. */
function renderConnection(now) {
  const live = $("[data-testid=live-state]");
  const since = state.lastGood === null ? null : clockTime(state.lastGood);
  const texts = {
    connecting: "connecting…",
    live: `live · updated ${since}`,
    lost: "connection lost",
    auth: "token needed",
  };
  setData(live, "state", state.connection);
  setText(live.querySelector(".live-text"), texts[state.connection]);
  setText($("[data-testid=node-name]"), state.node ?? "…");
  document.body.classList.toggle("is-disconnected", state.connection !== "live");

  const lost = $("[data-testid=connection-lost]");
  show(lost, state.connection === "lost");
  if (state.connection === "lost") {
    const left = state.retryAt === null ? null : state.retryAt - Date.now();
    const retry = left === null ? "" : ` Retrying ${left >= 1000 ? `in ${duration(left)}` : "now"}.`;
    setText(lost.querySelector(".banner-text"), since === null
      ? `— no answer from the oracle yet (${state.problem}).${retry}`
      : `— showing data from ${since} (${duration(Date.now() - state.lastGood)} ago): every verdict below is the last known, not current. ${state.problem}.${retry}`);
    setData(lost, "since", since ?? "");
  }
  const auth = $("[data-testid=auth-needed]");
  show(auth, state.connection === "auth");
  if (state.connection === "auth") {
    setText(auth.querySelector(".banner-text"), `— ${state.problem}${since ? ` Showing data from ${since}, not current.` : ""}`);
  }
  const problems = state.summaries.filter((s) => s.verdict !== "healthy").length;
  const prefix = state.connection === "live" ? "" : "(not current) ";
  document.title = `${prefix}${problems ? `${problems} not healthy · ` : ""}crosscheck${state.node ? ` ${state.node}` : ""}`;
  // A verdict whose valid_until passes between rounds turns "expired" here.
  board.tickAll(now, state.connection === "live");
}

function tick() {
  const silentMs = state.lastGood === null ? 0 : Date.now() - state.lastGood;
  if (state.connection === "live" && silentMs > state.waitMs + api.WATCH_GRACE_MS) {
    state.connection = "lost";
    state.problem = `No answer for ${duration(silentMs)}`;
    state.retryAt = null;
    render();
    return;
  }
  const now = serverNow();
  const connected = state.connection === "live";
  detail.tick(now, connected);
  escalations.tick(now);
  holds.tick(now);
  vantages.tick(now);
  const view = currentView();
  matrix.render({rows: view.matrix, domains: view.domains, details: state.details, connected, now});
  renderConnection(now);
}

async function loadDetail(target) {
  try {
    const verdict = await readVerdict(target);
    if (verdict) {
      state.details.set(target, verdict);
      render();
    }
  } catch (error) {
    // The live loop reports connection trouble; a hover only misses its evidence.
    if (!(error instanceof api.ApiError)) {
      throw error;
    }
  }
}

async function select(target) {
  state.selected = target;
  state.history = null;
  state.detailError = null;
  history.replaceState(null, "", `#${encodeURIComponent(target)}`);
  render();
  $("#detail-title").focus();
  try {
    const [verdict, transitions] = await Promise.all([readVerdict(target), api.getHistory(target)]);
    if (state.selected !== target) {
      return;
    }
    if (verdict) {
      state.details.set(target, verdict);
    }
    state.history = transitions;
  } catch (error) {
    if (!(error instanceof api.ApiError)) {
      throw error;
    }
    // Without an answer, the last known detail (if any) stays, marked as such.
    if (state.selected === target && (error.status === 404 || !state.details.has(target))) {
      state.detailError = error.status === 404 ? `This oracle has no target named ${target}.`
        : `Could not read ${target}: ${error.detail ?? error.code}.`;
    }
  }
  render();
}

function closeDetail() {
  const target = state.selected;
  state.selected = null;
  history.replaceState(null, "", location.pathname);
  render();
  document.querySelector(`#board button.target-link[data-target="${CSS.escape(target)}"]`)?.focus();
}

/** Words for a refused ack. */
function ackRefusal(error) {
  if (error.kind === "auth") {
    return refusalText(error, "ack");
  }
  return error.code === "storage_unavailable"
    ? "Acknowledged in memory, but not yet on disk: press Ack again to confirm."
    : `Not acknowledged: ${error.detail ?? error.code}.`;
}

/** Acks one escalation, asking for a token first when there is none or it was refused. */
async function acknowledge(escalation) {
  const id = String(escalation.id);
  const why = "Acknowledging needs a token with scope ack.";
  let haveToken = api.hasToken() || await askForToken(why);
  while (haveToken) {
    state.ackState.set(id, {state: "pending", text: ""});
    render();
    try {
      await api.ackEscalation(escalation.id, ackActor());
    } catch (error) {
      if (!(error instanceof api.ApiError)) {
        throw error;
      }
      const text = ackRefusal(error);
      state.ackState.set(id, {state: "error", text});
      render();
      // Another token may do (a missing scope, a typo); nothing will where writes are disabled.
      haveToken = error.kind === "auth" && error.code !== "writes_disabled" && await askForToken(why, text);
      continue;
    }
    state.ackState.set(id, {state: "done", text: "Acknowledged; waiting for the oracle's list to show it."});
    render();
    await showAcked();
    return;
  }
}

/** Reads the escalations again at once, so the ack shows without waiting for the next round. */
async function showAcked() {
  try {
    state.escalations = await api.getEscalations();
    render();
  } catch (error) {
    // The live loop reads the list again and reports connection trouble.
    if (!(error instanceof api.ApiError)) {
      throw error;
    }
  }
}

const loop = new LiveLoop({
  refresh,
  waitMs: nextWaitMs,
  answered: () => {
    state.connection = "live";
    state.lastGood = Date.now();
    state.problem = "";
    state.retryAt = null;
    render();
  },
  failed: (error, retryMs) => {
    state.connection = "lost";
    state.problem = error instanceof api.ApiError
      ? (error.kind === "network" ? "The oracle does not answer" : `Last error: ${error.detail ?? error.code}`)
      : "The page could not show the oracle's answer";
    state.retryAt = Date.now() + retryMs;
    render();
  },
  authNeeded: (error) => {
    state.connection = "auth";
    state.problem = refusalText(error, "read");
    render();
    // A refused token is worth a word in the dialog; a first request without one is not an error.
    askForToken("This oracle needs a token to read its verdicts.", api.hasToken() ? state.problem : "");
    return nextToken();
  },
});

/** The target a link names (#NAME); "" when the fragment is not valid percent-encoding. */
function linkedTarget() {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return "";  // "#%": a broken link must not keep the page from starting
  }
}

function start() {
  initAuth(document);
  $("#filter").addEventListener("input", (event) => {
    state.filter = event.target.value;
    render();
  });
  $("[data-testid=auth-needed] .banner-action").addEventListener("click",
      () => askForToken("This oracle needs a token to read its verdicts.", state.problem));
  const linked = linkedTarget();
  render();
  if (linked) {
    select(linked);
  }
  setInterval(tick, 1000);
  loop.start();
}

start();
