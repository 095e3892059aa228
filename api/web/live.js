// The live loop: read everything once, then long-poll /v1/watch and read
// again after each answer (a change at once, or the end of the wait, which
// brings fresh valid_until times); on a failure retry with a growing pause.
// The page decides what "current" means from the hooks it gets called with.

import {ApiError, watch} from "./api.js";

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 4000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class LiveLoop {
  /**
   * hooks:
   *   refresh(changed): reads what the page shows and resolves to the
   *     revision it saw; `changed` is the watch's answer ({revision,
   *     verdicts}) or null when there is none (first read, or no change).
   *   waitMs(): how long the next watch may wait.
   *   answered(): a round of reads succeeded.
   *   failed(error, retryMs): a round failed; the next try is in retryMs.
   *   authNeeded(error): a read was refused for want of a (good) token;
   *     resolves when another token may work.
   */
  constructor(hooks) {
    this.hooks = hooks;
  }

  start() {
    this.run();
  }

  async run() {
    let revision = null;
    let retryMs = FIRST_RETRY_MS;
    for (;;) {
      try {
        if (revision === null) {
          revision = await this.hooks.refresh(null);
        } else {
          const changed = await watch(revision, this.hooks.waitMs());
          revision = await this.hooks.refresh(changed);
        }
        this.hooks.answered();
        retryMs = FIRST_RETRY_MS;
      } catch (error) {
        revision = null;  // read everything again once answers come back
        if (error instanceof ApiError && error.kind === "auth") {
          await this.hooks.authNeeded(error);
          continue;
        }
        if (!(error instanceof ApiError)) {
          console.error("crosscheck status page: could not show the oracle's answer", error);
        }
        this.hooks.failed(error, retryMs);
        await sleep(retryMs);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    }
  }
}
