/**
 * The node:http(s) edge: IncomingMessage → S3Request, S3Result → ServerResponse.
 * It knows nothing of S3 semantics; main.ts hands it the pipeline as a function.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../util/clock.js';
import { newHostId, newRequestId } from '../util/ids.js';
import { parseQuery, type S3Request, type S3Result } from './request.js';

export type RequestHandler = (req: S3Request) => Promise<S3Result>;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function toS3Request(req: IncomingMessage, clock: Clock): S3Request {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const sock = req.socket as TLSSocket;
  const tls = sock.encrypted
    ? { version: sock.getProtocol() ?? 'unknown', cipher: sock.getCipher()?.standardName ?? sock.getCipher()?.name ?? 'unknown' }
    : null;
  return {
    requestId: newRequestId(),
    hostId: newHostId(),
    method: req.method ?? 'GET',
    rawPath,
    rawQuery,
    query: parseQuery(rawQuery),
    headers: req.headers,
    body: req,
    clientIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    tls,
    receivedAt: clock.now(),
  };
}

/**
 * Unread request bytes up to this size are drained after an early answer, keeping the
 * connection; beyond it the connection closes. Generous on purpose: many clients (python's
 * http.client under boto3, requests) send the whole body before reading the answer, and a
 * socket closed under them turns the S3 error into a broken pipe or a TLS EOF.
 */
const DRAIN_LIMIT = 64 * 1024 * 1024;

async function writeResult(res: ServerResponse, req: S3Request, result: S3Result): Promise<void> {
  // Headers go out in one writeHead with a flat list: cheaper than a setHeader per header,
  // which showed up in small-request profiles.
  const flat: string[] = ['x-amz-request-id', req.requestId, 'x-amz-id-2', req.hostId, 'Server', 'Kura'];
  let hasLength = false;
  for (const [k, v] of Object.entries(result.headers)) {
    if (v === undefined) continue;
    if (!hasLength && k.length === 14 && k.toLowerCase() === 'content-length') hasLength = true;
    if (Array.isArray(v)) for (const item of v as readonly string[]) flat.push(k, item);
    else flat.push(k, String(v));
  }
  const incoming = req.body as IncomingMessage;
  if (!incoming.complete) {
    // An early answer (an error, or a handler that needed no body). A body declared larger
    // than DRAIN_LIMIT is not worth reading: tell the client the connection ends here rather
    // than let it reuse a socket we are about to drop.
    incoming.unpipe();
    const len = Number(incoming.headers['content-length'] ?? NaN);
    if (len > DRAIN_LIMIT) {
      flat.push('Connection', 'close');
    } else {
      // Known to be small, or of unknown length (chunked, as boto3 sends aws-chunked bodies):
      // read it to the end so the client can finish sending and read the answer on a
      // connection that stays open; a chunked body that runs past the limit ends it.
      let drained = 0;
      incoming.removeAllListeners('data');
      incoming.on('data', (c: Buffer) => {
        drained += c.length;
        if (drained > DRAIN_LIMIT) incoming.socket.destroy();
      });
      incoming.resume();
    }
  }
  const body = result.body;
  if (body === undefined || req.method === 'HEAD') {
    if (body instanceof Readable) body.destroy();
    if (!hasLength && req.method !== 'HEAD') flat.push('Content-Length', '0');
    res.writeHead(result.status, flat);
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    if (!hasLength) flat.push('Content-Length', String(Buffer.byteLength(body)));
    res.writeHead(result.status, flat);
    res.end(body);
    return;
  }
  res.writeHead(result.status, flat);
  // A stream that fails midway (e.g. an integrity error while decrypting) must not look
  // like a complete response: destroying the socket makes the client see a short read.
  try {
    await pipeline(body, res);
  } catch {
    res.destroy();
  }
}

/** Wraps the pipeline into a node:http request listener. */
export function createListener(handler: RequestHandler, clock: Clock, log: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const s3req = toS3Request(req, clock);
    handler(s3req)
      .then((result) => writeResult(res, s3req, result))
      .catch((err: unknown) => {
        // The pipeline turns every failure into an S3Result, so this is a bug.
        log.error('unhandled pipeline failure', { requestId: s3req.requestId, err: String(err) });
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end();
        } else {
          res.destroy();
        }
      });
  };
}

export interface ListenOptions {
  host: string;
  port: number;
  httpsPort: number;
  tls?: { cert: Buffer; key: Buffer };
}

export interface RunningServer {
  httpPort: number;
  httpsPort: number | null;
  close(): Promise<void>;
}

function listen(server: http.Server | https.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/**
 * An Expect header other than 100-continue (an empty one, `Expect: 200`) is ignored, as S3
 * ignores it; Node would answer 417 on its own. 100-continue keeps Node's handling.
 */
function ignoreOddExpectations(server: http.Server | https.Server, listener: http.RequestListener): void {
  server.on('checkExpectation', listener);
}

/** Starts the HTTP listener and, when configured, the HTTPS one. */
export async function startServers(handler: RequestHandler, clock: Clock, log: Logger, opts: ListenOptions): Promise<RunningServer> {
  const listener = createListener(handler, clock, log);
  const servers: (http.Server | https.Server)[] = [];
  const plain = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, listener);
  ignoreOddExpectations(plain, listener);
  servers.push(plain);
  const httpPort = await listen(plain, opts.host, opts.port);
  let httpsPort: number | null = null;
  if (opts.tls && opts.httpsPort >= 0) {
    const secure = https.createServer({ cert: opts.tls.cert, key: opts.tls.key, keepAliveTimeout: 65_000, requestTimeout: 0 }, listener);
    ignoreOddExpectations(secure, listener);
    servers.push(secure);
    httpsPort = await listen(secure, opts.host, opts.httpsPort);
  }
  return {
    httpPort,
    httpsPort,
    close: async () => {
      await Promise.all(servers.map((s) => new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      })));
    },
  };
}
