/**
 * The client side of the agent's status socket (`<run-dir>/agent.sock`, see status-types.ts):
 * connect, send one JSON request line, read one JSON answer line (`{"ok":true,"result":…}` or
 * `{"ok":false,"error":"…"}`), hang up. `tortie node status` uses it; so can tests and scripts.
 *
 * Failures are `AgentClientError`s with a stable `code`:
 *  - `NOT_RUNNING`  nothing listens: the socket file is absent (ENOENT/ENOTDIR) or refuses (ECONNREFUSED,
 *                   a socket left by a dead agent);
 *  - `UNREACHABLE`  any other connection failure (EACCES when not root, …);
 *  - `TIMEOUT`      no complete answer within `timeoutMs` (connecting included);
 *  - `PROTOCOL`     the answer is not one JSON line of the expected shape, or the agent hung up first;
 *  - `AGENT`        the agent answered `{"ok":false,"error":…}` (the message is its error).
 */
import net from 'node:net';
import { join } from 'node:path';
import { AGENT_SOCKET } from './status-types.js';

export type AgentClientErrorCode = 'NOT_RUNNING' | 'UNREACHABLE' | 'TIMEOUT' | 'PROTOCOL' | 'AGENT';

export class AgentClientError extends Error {
  constructor(
    readonly code: AgentClientErrorCode,
    message: string,
    /** The socket path that was asked. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'AgentClientError';
  }
}

export interface AgentRequest {
  cmd: string;
  [k: string]: unknown;
}

/** An answer line longer than this is not something the agent sends. */
const MAX_ANSWER = 64 * 1024 * 1024;

export function agentSocketPath(runDir: string): string {
  return join(runDir, AGENT_SOCKET);
}

/** Sends `req` to the agent serving `<runDir>/agent.sock`; resolves with its `result`. */
export function queryAgent(runDir: string, req: AgentRequest, timeoutMs = 2000): Promise<unknown> {
  const path = agentSocketPath(runDir);
  return new Promise((resolve, reject) => {
    let done = false;
    let buf = '';
    const sock = net.connect(path);
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      fn();
    };
    const fail = (code: AgentClientErrorCode, msg: string): void => finish(() => reject(new AgentClientError(code, msg, path)));
    const timer = setTimeout(() => fail('TIMEOUT', `no answer from the tortie agent at ${path} within ${timeoutMs} ms`), timeoutMs);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_ANSWER) fail('PROTOCOL', `the answer from the tortie agent at ${path} is too long`);
        return;
      }
      const line = buf.slice(0, nl);
      let a: unknown;
      try {
        a = JSON.parse(line);
      } catch {
        fail('PROTOCOL', `the tortie agent at ${path} answered something that is not JSON`);
        return;
      }
      if (typeof a !== 'object' || a === null || typeof (a as { ok?: unknown }).ok !== 'boolean') {
        fail('PROTOCOL', `the tortie agent at ${path} answered without an "ok" field`);
        return;
      }
      const ans = a as { ok: boolean; result?: unknown; error?: unknown };
      if (ans.ok) finish(() => resolve(ans.result));
      else fail('AGENT', typeof ans.error === 'string' && ans.error ? ans.error : 'the tortie agent reported an error');
    });
    sock.once('end', () => fail('PROTOCOL', `the tortie agent at ${path} closed the connection without answering`));
    sock.once('close', () => fail('PROTOCOL', `the tortie agent at ${path} closed the connection without answering`));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'ECONNREFUSED') fail('NOT_RUNNING', `no tortie agent is running at ${path} (${e.code})`);
      else fail('UNREACHABLE', `cannot reach the tortie agent at ${path}: ${e.message}`);
    });
  });
}
