import { connect, type Socket } from 'node:net';

/** What {@link uploadRawBody} sends. */
export interface RawUploadOptions {
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Size of the body, in bytes. */
  readonly bytes: number;
  /** Send the body chunked (`Transfer-Encoding: chunked`) instead of with a Content-Length. */
  readonly chunked?: boolean;
  /** Body bytes sent before waiting for the whole reply; the rest goes out once it is in. */
  readonly pauseAfterBytes: number;
  /** After the reply, send nothing more and wait for the server to close (tests its time limit). */
  readonly stallAfterReply?: boolean;
  /** How long to wait for a reply before sending the rest anyway (default 5 s): a server that reads the whole body first answers only then. */
  readonly replyWaitMs?: number;
}

/** How a raw upload went. */
export interface RawUploadResult {
  /** The reply's status, 0 when none (or only part of one) came. */
  readonly status: number;
  /** Reply headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Body bytes written before the connection ended or failed. */
  readonly sentBytes: number;
  /** The first socket error code (EPIPE, ECONNRESET), or null. */
  readonly error: string | null;
  /** The server ended the connection before the client had sent the whole body. */
  readonly endedEarly: boolean;
}

const PIECE = 64 * 1024;

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The reply once `raw` holds all of it (status line, headers, Content-Length bytes), else null. */
function toReply(raw: Buffer): Reply | null {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) return null;
  const [statusLine = '', ...lines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  if (raw.length < split + 4 + length) return null;
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.subarray(split + 4, split + 4 + length).toString('utf8') };
}

function write(socket: Socket, data: Buffer | string): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed || socket.writableEnded) return resolve(false);
    socket.write(data, (error) => resolve(!error));
  });
}

/**
 * POSTs a body of `bytes` over a plain TCP connection the way a well-behaved
 * HTTP/1.1 client uploads a large file: `pauseAfterBytes` of it, then (once the
 * whole reply is in, or `replyWaitMs` passed) the rest, then waits for the
 * server to close. It reports
 * whether the server let the upload finish (no EPIPE or ECONNRESET, no early
 * end), which fetch cannot tell apart from a lost reply.
 */
export async function uploadRawBody(url: string, options: RawUploadOptions): Promise<RawUploadResult> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let raw = Buffer.alloc(0);
  let error: string | null = null;
  let ended = false;
  let reply: Reply | null = null;
  let onReply = () => {};
  const replied = new Promise<void>((resolve) => (onReply = resolve));
  socket.on('data', (chunk: Buffer) => {
    raw = Buffer.concat([raw, chunk]);
    reply ??= toReply(raw);
    if (reply) onReply();
  });
  socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
  socket.on('end', () => (ended = true));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(onReply);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));

  const framing = options.chunked ? 'transfer-encoding: chunked' : `content-length: ${options.bytes}`;
  const extra = Object.entries(options.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  let ok = await write(
    socket,
    `POST ${options.path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n${extra}${framing}\r\n\r\n`,
  );
  let sent = 0;
  const piece = Buffer.alloc(PIECE, 'x');
  const sendUpTo = async (limit: number) => {
    while (ok && sent < limit && !ended) {
      const size = Math.min(PIECE, limit - sent);
      const data = options.chunked
        ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), piece.subarray(0, size), Buffer.from('\r\n')])
        : piece.subarray(0, size);
      ok = await write(socket, data);
      if (ok) sent += size;
    }
  };
  await sendUpTo(Math.min(options.pauseAfterBytes, options.bytes));
  const deadline = setTimeout(onReply, options.replyWaitMs ?? 5000);
  await replied;
  clearTimeout(deadline);
  if (!options.stallAfterReply) {
    await sendUpTo(options.bytes);
    if (ok && !ended && options.chunked) ok = await write(socket, '0\r\n\r\n');
  }
  if (!options.stallAfterReply && ok && !ended) socket.end();
  await closed;
  const got: Reply = reply ?? { status: 0, headers: {}, body: '' };
  return { ...got, sentBytes: sent, error, endedEarly: ended && sent < options.bytes };
}
