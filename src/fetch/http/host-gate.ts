/**
 * Per-host politeness: one request at a time per host, and each one starting no sooner than the
 * host's delay after the previous one ended (or later, when a server asked to be left alone a while).
 * Written here because p-queue's interval limits count starts in a window, not the gap after an end.
 */
import { setTimeout as sleep } from 'node:timers/promises';

interface HostState {
  /** The end of the last queued request on this host. */
  tail: Promise<void>;
  /** Epoch ms before which no request to this host starts. */
  notBefore: number;
}

export class HostGate {
  private readonly hosts = new Map<string, HostState>();

  /** Runs `request` when the host is free and its delay has passed; `delayMs` is read when the request ends. */
  async run<T>(host: string, delayMs: () => number, request: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const state = this.state(host);
    const previous = state.tail;
    let release!: () => void;
    state.tail = new Promise((resolve) => {
      release = resolve;
    });
    try {
      await previous;
      const wait = state.notBefore - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      try {
        return await request();
      } finally {
        state.notBefore = Math.max(state.notBefore, Date.now() + delayMs());
      }
    } finally {
      release();
    }
  }

  /** Keeps every request to `host` from starting before `until` (a 429's or 503's Retry-After). */
  holdOff(host: string, until: number): void {
    const state = this.state(host);
    state.notBefore = Math.max(state.notBefore, until);
  }

  private state(host: string): HostState {
    let state = this.hosts.get(host);
    if (!state) {
      state = { tail: Promise.resolve(), notBefore: 0 };
      this.hosts.set(host, state);
    }
    return state;
  }
}
