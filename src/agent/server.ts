/**
 * The agent's local status endpoint: `<run-dir>/agent.sock`, line-JSON (`status-types.ts`).
 * Commands: `status` (AgentStatus), `routes` (the speaker's Loc-RIB, optionally one `prefix`),
 * `dataplane` (the last kernel plan), `resync` (re-read the datastore now, like SIGHUP).
 */
import { join } from 'node:path';
import { serveLines, type ControlAnswer } from '../bgp/control.js';
import type { Agent } from './agent.js';
import { AGENT_SOCKET } from './status-types.js';

export function serveAgent(runDir: string, agent: Agent): Promise<{ close(): void }> {
  return serveLines(join(runDir, AGENT_SOCKET), (line) => answer(agent, line), 'tortie agent');
}

async function answer(agent: Agent, line: string): Promise<ControlAnswer> {
  let req: { cmd?: unknown; prefix?: unknown };
  try {
    req = JSON.parse(line) as typeof req;
  } catch {
    return { ok: false, error: 'request is not JSON' };
  }
  switch (req.cmd) {
    case 'status':
      return { ok: true, result: agent.status() };
    case 'routes':
      return { ok: true, result: agent.routes(typeof req.prefix === 'string' ? req.prefix : undefined) };
    case 'dataplane':
      return { ok: true, result: agent.dataplanePlan ?? null };
    case 'resync':
      await agent.reload();
      return { ok: true, result: null };
    default:
      return { ok: false, error: `unknown command ${JSON.stringify(req.cmd)}: expected status, routes, dataplane or resync` };
  }
}
