// Asking for the API token: one dialog, for reads that need a token and for
// the Ack button alike. The token goes to api.js's memory and nowhere else:
// the input is emptied as soon as it is read, and nothing is stored.

import {hasToken, setToken} from "./api.js";
import {setText} from "./dom.js";

let dialog;
let form;
let why;
let problem;
let tokenInput;
let byInput;
let headerButton;
let pending = null;  // {promise, resolve}: the open request, shared by every caller
let actor = "";      // who acks, as typed in the dialog
let waiters = [];      // resolved the next time a token is set

/** Who to name in an ack's body ("" lets the oracle say "api"). */
export function ackActor() {
  return actor;
}

/** Resolves the next time a token is set (from any dialog). */
export function nextToken() {
  return new Promise((resolve) => waiters.push(resolve));
}

/** Wires the dialog and the header's token button. */
export function initAuth(root) {
  dialog = root.querySelector("[data-testid=token-dialog]");
  form = dialog.querySelector("form");
  why = dialog.querySelector(".token-why");
  problem = dialog.querySelector("[data-testid=token-error]");
  tokenInput = dialog.querySelector("#token-input");
  byInput = dialog.querySelector("#token-by");
  headerButton = root.querySelector("[data-testid=token-button]");

  form.addEventListener("submit", (event) => {
    event.preventDefault();  // nothing is submitted anywhere: the CSP allows no form action
    const value = tokenInput.value.trim();
    tokenInput.value = "";
    if (!value) {
      setText(problem, "Enter a token, or cancel.");
      return;
    }
    if (!/^[\x21-\x7e]+$/.test(value)) {
      // An HTTP header carries only these; fetch() would refuse every
      // request with it, which looked like the oracle not answering.
      setText(problem, "A token is one word of printable ASCII characters: this is not one.");
      return;
    }
    setToken(value);
    actor = byInput.value.trim();
    finish(true);
    const woken = waiters;
    waiters = [];
    woken.forEach((resolve) => resolve());
  });
  dialog.querySelector(".token-cancel").addEventListener("click", () => finish(false));
  dialog.addEventListener("cancel", (event) => {  // Escape
    event.preventDefault();
    finish(false);
  });
  headerButton.addEventListener("click", () => askForToken("Use another token for reads and acks."));
  updateHeader();
}

function finish(given) {
  if (dialog.open) {
    dialog.close();
  }
  updateHeader();
  if (pending) {
    const {resolve} = pending;
    pending = null;
    resolve(given);
  }
}

function updateHeader() {
  setText(headerButton, hasToken() ? "Change token" : "Enter token");
}

/**
 * Opens the dialog saying `reason` (and `error`, what went wrong with the
 * last token). Resolves to true once a token is set, false on cancel.
 * Callers asking while it is open share the answer.
 */
export function askForToken(reason, error = "") {
  setText(why, reason);
  setText(problem, error);
  if (!pending) {
    let resolve;
    const promise = new Promise((r) => {
      resolve = r;
    });
    pending = {promise, resolve};
    dialog.showModal();
    tokenInput.focus();
  }
  return pending.promise;
}

/** Words for an auth refusal of the API (401 or 403), for the dialog and the banners. */
export function refusalText(error, scope) {
  switch (error.code) {
    case "insufficient_scope":
      return `This token lacks scope ${scope}: use a token that has it.`;
    case "writes_disabled":
      return `No token of this oracle has scope ${scope}: this action is disabled here.`;
    case "reads_disabled":
      return "No token of this oracle may read: reading is disabled here.";
    default:
      return error.detail === "invalid bearer token"
        ? "The oracle does not accept this token."
        : error.detail || "The oracle asks for a bearer token.";
  }
}
