// The oracle's REST API (docs/api.md) as the page uses it: same origin only
// (paths relative to the page, so a reverse proxy may serve it under a prefix),
// a bearer token kept in this module's memory (never in storage, cookies or
// URLs), ETag revalidation of reads, and a bounded wait on every request.
// No DOM here: callers decide what a failure looks like.

import {learnServerDate} from "./format.js";

/** How long a plain read may take before it counts as failed. */
const READ_TIMEOUT_MS = 10000;
/** A watch may take its own timeout plus this much before it counts as failed. */
export const WATCH_GRACE_MS = 5000;
/** Bodies remembered for If-None-Match; the oldest is forgotten past this. */
const ETAG_CACHE_LIMIT = 200;

let token = null;
const etagCache = new Map();  // path -> {etag, data}

/** Sets (or, with an empty value, forgets) the bearer token. */
export function setToken(value) {
  token = value ? value : null;
}

export function hasToken() {
  return token !== null;
}

/**
 * A request that did not give an answer the page can use.
 * kind: "network" (no answer), "timeout" (no answer in time), "auth" (401,
 * 403: a token is missing, wrong or lacks a scope) or "http" (any other
 * status). `code` and `detail` are the API's {"error", "detail"}.
 */
export class ApiError extends Error {
  constructor(kind, status, code, detail) {
    super(detail || code || kind);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

function remember(path, etag, data) {
  etagCache.delete(path);
  etagCache.set(path, {etag, data});
  if (etagCache.size > ETAG_CACHE_LIMIT) {
    etagCache.delete(etagCache.keys().next().value);
  }
}

async function errorFrom(response) {
  let code = `http_${response.status}`;
  let detail = response.statusText;
  try {
    const body = await response.json();
    code = body.error || code;
    detail = body.detail || detail;
  } catch {
    // Not the API's JSON error (a proxy's page, say): keep the status text.
  }
  const kind = response.status === 401 || response.status === 403 ? "auth" : "http";
  return new ApiError(kind, response.status, code, detail);
}

/**
 * One request. Resolves to {status, data}: data is the parsed body, the
 * remembered body on a 304, null on a 204. Rejects with an ApiError.
 * `revalidate`: remember the body by its ETag and ask with If-None-Match
 * next time (reads whose path repeats; not the watch, whose path moves).
 */
async function request(path, {method = "GET", body, timeoutMs = READ_TIMEOUT_MS, revalidate = true} = {}) {
  const headers = {Accept: "application/json"};
  if (token !== null) {
    headers.Authorization = `Bearer ${token}`;
  }
  const cached = method === "GET" && revalidate ? etagCache.get(path) : undefined;
  if (cached) {
    headers["If-None-Match"] = cached.etag;
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      redirect: "error",
      signal: abort.signal,
    });
  } catch (error) {
    throw abort.signal.aborted
        ? new ApiError("timeout", 0, "timeout", `no answer within ${Math.round(timeoutMs / 1000)} s`)
        : new ApiError("network", 0, "network", error.message);
  } finally {
    clearTimeout(timer);
  }
  // Every answer dates itself by the oracle's clock: verdicts expire by it.
  const date = Date.parse(response.headers.get("Date") ?? "");
  if (!Number.isNaN(date)) {
    learnServerDate(date, Date.now());
  }
  if (response.status === 304 && cached) {
    return {status: 304, data: cached.data};
  }
  if (response.status === 204) {
    return {status: 204, data: null};
  }
  if (!response.ok) {
    throw await errorFrom(response);
  }
  let data;
  try {
    data = await response.json();
  } catch (error) {
    throw new ApiError("http", response.status, "bad_body", `not JSON: ${error.message}`);
  }
  const etag = response.headers.get("ETag");
  if (method === "GET" && revalidate && etag) {
    remember(path, etag, data);
  }
  return {status: response.status, data};
}

const verdictPath = (target) => `v1/verdicts/${encodeURIComponent(target)}`;

/** GET /v1/verdicts: {revision, node, verdicts: [summary]}. */
export async function getVerdicts() {
  return (await request("v1/verdicts")).data;
}

/** GET /v1/verdicts/{target}: the summary plus evidence, votes and divergence. */
export async function getVerdict(target) {
  return (await request(verdictPath(target))).data;
}

/** GET /v1/verdicts/{target}/history: transitions, newest first. */
export async function getHistory(target) {
  return (await request(`${verdictPath(target)}/history`)).data.history;
}

/** GET /v1/vantages: [vantage]. */
export async function getVantages() {
  return (await request("v1/vantages")).data.vantages;
}

/** GET /v1/escalations: [open escalation]. */
export async function getEscalations() {
  return (await request("v1/escalations")).data.escalations;
}

/**
 * GET /v1/watch: waits up to `waitMs` for a revision newer than `since`.
 * Resolves to {revision, verdicts} on a change, null when the wait ended
 * without one (204).
 */
export async function watch(since, waitMs) {
  const path = `v1/watch?since=${encodeURIComponent(since)}&timeout=${Math.round(waitMs)}ms`;
  return (await request(path, {timeoutMs: waitMs + WATCH_GRACE_MS, revalidate: false})).data;
}

/** POST /v1/escalations/{id}/ack (scope ack), naming `by` when given. */
export async function ackEscalation(id, by) {
  const path = `v1/escalations/${encodeURIComponent(id)}/ack`;
  return (await request(path, {method: "POST", body: by ? {by} : undefined})).data;
}
