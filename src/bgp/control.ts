/**
 * The speaker's local control socket (a unix socket): one JSON request per line, one JSON
 * answer per line. `tortie bgp status` and `tortie bgp routes` talk to a running speaker through
 * it. Requests: `{"cmd":"status"}`, `{"cmd":"routes","prefix"?:string}`. Answers:
 * `{"ok":true,"result":…}` or `{"ok":false,"error":"…"}`.
 */
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import type { Speaker } from './speaker.js';

export interface ControlRequest {
  cmd: 'status' | 'routes';
  prefix?: string;
}

export type ControlAnswer = { ok: true; result: unknown } | { ok: false; error: string };

export class ControlError extends Error {
  readonly code = 'CONTROL' as const;
}

/** Serves `speaker` on a unix socket at `path` (a stale socket file is replaced). */
export function serveControl(path: string, speaker: Speaker): Promise<{ close(): void }> {
  return serveLines(path, (line) => answer(speaker, line), 'speaker');
}

/**
 * A line-JSON unix socket server: each request line gets `answer(line)` as one JSON line. A
 * socket file left by a dead process is replaced; one something still answers on is refused
 * (`another <what> is already serving <path>`). Shared with the agent's status socket.
 */
export async function serveLines(path: string, answer: (line: string) => ControlAnswer | Promise<ControlAnswer>, what: string): Promise<{ close(): void }> {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) {
    const alive = await new Promise<boolean>((resolve) => {
      const c = net.connect(path);
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (alive) throw new ControlError(`another ${what} is already serving ${path}`);
    unlinkSync(path);
  }
  const server = net.createServer((sock) => {
    let buf = '';
    let chain = Promise.resolve();
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        // Answers go out in request order even when some are asynchronous.
        chain = chain.then(async () => {
          let a: ControlAnswer;
          try {
            a = await answer(line);
          } catch (e) {
            a = { ok: false, error: (e as Error).message };
          }
          if (!sock.destroyed) sock.write(JSON.stringify(a) + '\n');
        });
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    close: () => {
      server.close();
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

function answer(speaker: Speaker, line: string): ControlAnswer {
  let req: ControlRequest;
  try {
    req = JSON.parse(line) as ControlRequest;
  } catch {
    return { ok: false, error: 'request is not JSON' };
  }
  try {
    if (req.cmd === 'status') return { ok: true, result: speaker.status() };
    if (req.cmd === 'routes') return { ok: true, result: speaker.routes(req.prefix) };
    return { ok: false, error: `unknown command ${JSON.stringify((req as { cmd?: unknown }).cmd)}` };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Sends one request to a speaker's control socket. */
export async function queryControl(path: string, req: ControlRequest, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ControlError(`no answer from the speaker at ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (c: string) => {
      buf += c;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.destroy();
      const a = JSON.parse(buf.slice(0, nl)) as ControlAnswer;
      if (a.ok) resolve(a.result);
      else reject(new ControlError(a.error));
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new ControlError(
          e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `no speaker is running at ${path} (${e.code})` : `cannot reach the speaker at ${path}: ${e.message}`,
        ),
      );
    });
  });
}
