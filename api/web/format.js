// Words and times: how a verdict, a vote, a duration or an instant reads on
// the page. Pure functions of their arguments, plus the estimate of the
// oracle's clock that every "expired" mark is judged against.

/** Verdicts, worst first: the board lists problems before healthy targets. */
const VERDICT_RANK = {unhealthy: 0, disputed: 1, unreachable: 2, degraded: 3, unknown: 4, healthy: 5};
const KNOWN_VERDICTS = new Set(Object.keys(VERDICT_RANK));

export function verdictRank(verdict) {
  return VERDICT_RANK[verdict] ?? -1;  // a verdict this page does not know sorts first
}

/**
 * The classes of a verdict's badge: its colour, and a hold's stripes
 * ({verdict, held}, as in a summary or a transition); the words always
 * come with it. `size`: "" or "badge-small".
 */
export function badgeClass({verdict, held}, size = "") {
  const colour = KNOWN_VERDICTS.has(verdict) ? `v-${verdict}` : "v-other";
  return ["badge", size, colour, held ? `held-${held}` : ""].filter(Boolean).join(" ");
}

/**
 * A verdict in words, e.g. "disputed — held healthy": a hold always says
 * what stays in force, so nobody reads "disputed" as "down".
 */
export function verdictWords({verdict, held}) {
  const holding = held ? `held ${held}` : "nothing confirmed to hold";
  switch (verdict) {
    case "disputed":
      return `disputed — ${holding}`;
    case "unknown":
      return `unknown — ${holding}`;
    case "unreachable":
      return `unreachable (a parent is down) — ${holding}`;
    case "degraded":
      return "degraded (too slow)";
    default:
      return verdict;
  }
}

/** One sentence on what a verdict means for someone about to act on it. */
export function verdictMeaning({verdict, held}) {
  switch (verdict) {
    case "healthy":
      return "A quorum of failure domains sees it working.";
    case "unhealthy":
      return "A quorum of failure domains sees it failing: confirmed.";
    case "disputed":
      return `Some failure domains see it failing, too few to confirm: the last confirmed verdict${
        held ? ` (${held})` : ""} stays in force and a human is asked. Gates hold.`;
    case "unknown":
      return "Too few failure domains have a current vote: nothing is confirmed. Gates hold.";
    case "degraded":
      return "A quorum of failure domains sees its latency objective broken.";
    case "unreachable":
      return "A target it depends on is confirmed unhealthy. Gates hold.";
    default:
      return "";
  }
}

/** Milliseconds since the epoch of an RFC 3339 time, or null. */
export function parseTime(text) {
  if (!text) {
    return null;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

// How far the oracle's clock is ahead of this browser's, in ms.
let clockOffsetMs = 0;
// Whether an answer's Date header set it (the oracle's own clock).
let knowsServerDate = false;

/**
 * Learns the oracle's clock from an answer's Date header (`dateMs`, whole
 * seconds) received at local time `receivedAt`. The oracle's clock read
 * somewhere in [date, date + 1 s) when it answered: the later end is taken,
 * so a verdict expires up to a second early, never late. Both directions
 * are corrected: a browser clock behind would show expired verdicts as
 * current, one ahead would show current ones as expired.
 */
export function learnServerDate(dateMs, receivedAt) {
  clockOffsetMs = dateMs + 999 - receivedAt;
  knowsServerDate = true;
}

/**
 * Without a Date header (a proxy that drops it): learns from an answer whose
 * newest evaluation is `newestEvaluatedAt` (ms), received at local time
 * `receivedAt`: the oracle's clock read at least that. Only a browser clock
 * running behind is corrected; one running ahead marks verdicts expired
 * early, which is the safe mistake.
 */
export function learnServerClock(newestEvaluatedAt, receivedAt) {
  if (!knowsServerDate && newestEvaluatedAt !== null) {
    clockOffsetMs = Math.max(0, newestEvaluatedAt - receivedAt);
  }
}

/** The oracle's time now, as well as the page can tell. */
export function serverNow() {
  return Date.now() + clockOffsetMs;
}

const pad = (n) => String(n).padStart(2, "0");

/** "14:03:09" in this browser's time zone. */
export function clockTime(ms) {
  const at = new Date(ms);
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

/** "2026-12-06 14:03:09" in this browser's time zone. */
export function dateTime(ms) {
  const at = new Date(ms);
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${clockTime(ms)}`;
}

/** A span of time in the two largest units: "4 s", "2 min 5 s", "3 h 2 min", "5 d 2 h". */
export function duration(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  const parts = [];
  let rest = seconds;
  for (const [name, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (parts.length === 0 && size === 1)) {
      parts.push(`${count} ${name}`);
    }
    if (parts.length > 0 && (parts.length === 2 || count === 0)) {
      break;
    }
  }
  return parts.join(" ");
}

/** "12 s ago", "in 3 min", or "just now", from `now` (ms). */
export function relative(ms, now) {
  const delta = ms - now;
  if (Math.abs(delta) < 1000) {
    return "just now";
  }
  return delta < 0 ? `${duration(-delta)} ago` : `in ${duration(delta)}`;
}

/**
 * How long a verdict may still be acted on: {expired, text}, e.g.
 * {false, "4 s left"} or {true, "expired 12 s ago"}.
 */
export function validity(validUntil, now) {
  const until = parseTime(validUntil);
  if (until === null) {
    return {expired: true, text: "no validity"};
  }
  return until < now
      ? {expired: true, text: `expired ${duration(now - until)} ago`}
      : {expired: false, text: `${duration(until - now)} left`};
}

/** "a", "a and b", "a, b and c". */
export function joinWords(items) {
  if (items.length <= 1) {
    return items.join("");
  }
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** What a resolver answered: "192.0.2.1, 192.0.2.2", "[] (empty)", or "—" without an observation. */
export function answersText(answers) {
  if (answers === null || answers === undefined) {
    return "—";
  }
  return answers.length === 0 ? "[] (empty)" : answers.join(", ");
}

/** "12 ms", or "—". */
export function latencyText(ms) {
  return ms === null || ms === undefined ? "—" : `${Math.round(ms)} ms`;
}
