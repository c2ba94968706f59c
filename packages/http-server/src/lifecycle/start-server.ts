import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';

/** Anything with a fetch handler: a Hono app. */
export interface FetchApp {
  fetch(request: Request, env: { incoming: IncomingMessage; outgoing: ServerResponse }): Response | Promise<Response>;
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  /** TCP port; 0 (default) picks a free one. */
  readonly port?: number;
  /** How long an idle keep-alive connection stays open (default 60 s: clients pool their connections). */
  readonly keepAliveTimeoutMs?: number;
  /** How long close() lets in-flight requests finish before it cuts their connections (default 2 s). */
  readonly closeGraceMs?: number;
}

/** A listening server. */
export interface RunningServer {
  /** `http://host:port`, an IPv6 host in brackets. */
  readonly url: string;
  readonly port: number;
  /** The node server, for the few callers that need sockets (fault injection). */
  readonly server: Server;
  /**
   * Graceful close: stops accepting, closes idle connections, lets in-flight
   * requests finish (up to `closeGraceMs`), then closes every socket that is
   * left and resolves once the server is closed. Calling it again waits for
   * the same close.
   */
  close(): Promise<void>;
}

/** `http://host:port` of a bound address. */
export function toServerUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * Serves `app` on node:http through @hono/node-server: binds `host:port`,
 * resolves once listening (rejects on EADDRINUSE, EACCES) with the URL and a
 * graceful close.
 */
export async function startServer(app: FetchApp, options: StartServerOptions = {}): Promise<RunningServer> {
  const server = createAdaptorServer({
    fetch: (request, env) => app.fetch(request, env as { incoming: IncomingMessage; outgoing: ServerResponse }),
    serverOptions: { keepAliveTimeout: options.keepAliveTimeoutMs ?? 60_000 },
  }) as Server;
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  // once() rejects when 'error' (EADDRINUSE, EACCES) comes first.
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | null = null;
  const closeGraceMs = options.closeGraceMs ?? 2000;
  return {
    url: toServerUrl(address),
    port: address.port,
    server,
    close() {
      closing ??= (async () => {
        if (!server.listening) return;
        const closed = once(server, 'close');
        server.close();
        server.closeIdleConnections();
        // A keep-alive connection whose request finishes after close() becomes idle: close those as they do.
        const sweep = setInterval(() => server.closeIdleConnections(), 20);
        const timer = setTimeout(() => server.closeAllConnections(), closeGraceMs);
        sweep.unref();
        timer.unref();
        await closed;
        clearInterval(sweep);
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}
