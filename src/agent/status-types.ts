/**
 * What a running agent reports on its status socket (`<run-dir>/agent.sock`, one JSON request per
 * line — `{"cmd":"status"}` — one JSON answer per line: `{"ok":true,"result":AgentStatus}` or
 * `{"ok":false,"error":"…"}`). `tortie node status` renders it; tests read it as JSON.
 */
export interface AgentPeerStatus {
  /** Calico's protocol name: `Mesh_10_0_0_2`, `Node_10_0_0_9_port_1179`, `Global_…`. */
  name: string;
  type: 'Mesh' | 'Node' | 'Global';
  address: string;
  port: number;
  family: 'ipv4' | 'ipv6';
  asNumber: number;
  /** BIRD's protocol state column: `up` when Established, `start` otherwise (`down` when closed by config). */
  state: 'up' | 'start' | 'down';
  /** The BGP FSM state: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  bgpState: string;
  /** ms since epoch when the state was entered. */
  since: number;
  /** BIRD's info column: the BGP state, then the last error when not Established (`Active Socket: Connection refused`). */
  info: string;
  lastError?: string;
  prefixes: { received: number; accepted: number; advertised: number };
}

export interface AgentStatus {
  node: string;
  version: string;
  pid: number;
  /** ms since epoch */
  startedAt: number;
  bgp: { enabled: boolean; routerId: string; asNumber: number; clusterId?: string; peers: AgentPeerStatus[] };
  /** Kernel routes tortie programs, by source. */
  routes: { bgp: number; vxlan: number; blackhole: number };
  /** Last datastore change → kernel programmed, ms (undefined before the first). */
  lastConvergenceMs?: number;
  warnings: string[];
}

export const AGENT_SOCKET = 'agent.sock';
export const DEFAULT_RUN_DIR = '/var/run/tortie';
