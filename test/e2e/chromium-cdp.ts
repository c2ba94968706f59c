/**
 * Headless Chromium driven over the DevTools protocol on a pipe
 * (`--remote-debugging-pipe`: commands on fd 3, replies and events on fd 4,
 * each a JSON message ended by a NUL byte), so a test can log in, open a page
 * of another origin, run script in it and click the dashboard's own buttons
 * with one browser profile (one cookie jar). No WebSocket client is needed.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

interface CdpMessage {
  readonly id?: number;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly sessionId?: string;
  readonly result?: Record<string, unknown>;
  readonly error?: { message: string };
}

/** One tab: navigate and wait for its load event, and evaluate script in its page. */
export interface CdpPage {
  /** Loads `url` and resolves once the page (after any redirects) has fired `load`. */
  navigate(url: string): Promise<void>;
  /** Resolves at the next `load` of this tab (start waiting before the action that navigates). */
  nextLoad(): Promise<void>;
  /** Evaluates `expression` in the page (promises awaited) and returns its value as JSON. */
  evaluate<T>(expression: string): Promise<T>;
}

/** A running Chromium with one profile. */
export interface CdpBrowser {
  newPage(): Promise<CdpPage>;
  close(): Promise<void>;
}

/** Starts headless Chromium with `flags` and a fresh profile; `close` kills it and removes the profile. */
export async function launchCdpChromium(flags: readonly string[]): Promise<CdpBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'differad-cdp-'));
  const child = spawn('chromium', [...flags, `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const toBrowser = child.stdio[3] as Writable;
  const fromBrowser = child.stdio[4] as Readable;
  let nextId = 1;
  const pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(message: CdpMessage) => void>();
  let buffer = '';
  fromBrowser.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffer.slice(0, end)) as CdpMessage;
      buffer = buffer.slice(end + 1);
      if (message.id !== undefined) {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error.message));
        else waiter?.resolve(message.result ?? {});
      } else {
        for (const listener of listeners) listener(message);
      }
    }
  });
  void exited.then(() => {
    for (const waiter of pending.values()) waiter.reject(new Error('chromium exited'));
  });

  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
    });
  const once = (method: string, sessionId: string): Promise<void> =>
    new Promise((resolve) => {
      const listener = (message: CdpMessage): void => {
        if (message.method !== method || message.sessionId !== sessionId) return;
        listeners.delete(listener);
        resolve();
      };
      listeners.add(listener);
    });

  return {
    async newPage() {
      const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      await send('Page.enable', {}, sessionId);
      const page: CdpPage = {
        nextLoad: () => once('Page.loadEventFired', sessionId),
        async navigate(url) {
          const loaded = page.nextLoad();
          const { errorText } = (await send('Page.navigate', { url }, sessionId)) as { errorText?: string };
          if (errorText) throw new Error(`${url}: ${errorText}`);
          await loaded;
        },
        async evaluate<T>(expression: string) {
          const reply = (await send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId)) as {
            result: { value?: unknown };
            exceptionDetails?: { text: string; exception?: { description?: string } };
          };
          if (reply.exceptionDetails) throw new Error(reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text);
          return reply.result.value as T;
        },
      };
      return page;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      await exited;
      await rm(profile, { recursive: true, force: true });
    },
  };
}
