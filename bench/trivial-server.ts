/**
 * The ceiling server, run as a child process by run.ts: a bare node:http server that checks
 * nothing. PUT drains and discards the body and answers 200 with an ETag; GET answers 200
 * with a preallocated buffer whose length is that of the last PUT to the same path (or
 * ?size=N, default 4 KiB); anything else gets an empty 200. Prints
 * "trivial listening on http://127.0.0.1:PORT".
 */
import http from 'node:http';

const MAX = 64 * 2 ** 20;
const payload = Buffer.alloc(MAX, 0x61);
const sizes = new Map<string, number>();

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method === 'PUT' || req.method === 'POST') {
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('end', () => {
      sizes.set(path, n);
      res.writeHead(200, { etag: '"d41d8cd98f00b204e9800998ecf8427e"', 'content-length': 0 });
      res.end();
    });
    return;
  }
  if (req.method === 'GET') {
    const q = /[?&]size=(\d+)/.exec(req.url ?? '');
    const size = q ? Number(q[1]) : (sizes.get(path) ?? 4096);
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream', etag: '"d41d8cd98f00b204e9800998ecf8427e"' });
    if (size <= MAX) {
      res.end(payload.subarray(0, size));
      return;
    }
    // Larger than the buffer: write it repeatedly, honouring backpressure.
    let left = size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, MAX);
        left -= n;
        if (!res.write(payload.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  req.resume();
  res.writeHead(200, { 'content-length': 0 });
  res.end();
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.requestTimeout = 0;

server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : 0;
  process.stdout.write(`trivial listening on http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
