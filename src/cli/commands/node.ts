/**
 * `tortie node status | run`.
 *
 *  - `status` is calicoctl v3.32's `node status` (calicoctl/commands/node/status.go), asking the
 *    tortie agent over `<run-dir>/agent.sock` instead of scanning processes and BIRD's sockets.
 *    The text is calicoctl's with "Calico process" → "tortie agent"; the tables are
 *    olekukonko/tablewriter v0.0.5's (`NewWriter` + `SetHeader`), cell wrapping included.
 *    `-o wide` adds RECEIVED, ADVERTISED and LAST ERROR columns; `-o json` prints the agent's
 *    status as it sent it.
 *  - `run` is node-run.ts (the agent, src/agent/index.ts), loaded only when asked for.
 */
import { AgentClientError, queryAgent } from '../../agent/status-client.js';
import { DEFAULT_RUN_DIR, type AgentPeerStatus, type AgentStatus } from '../../agent/status-types.js';
import { invalidOption, parseArgs, str } from '../args.js';
import { NODE_HELP, NODE_RUN_HELP, NODE_STATUS_HELP } from '../help.js';
import { CommandError, type IO } from '../io.js';

export async function runNode(args: string[], io: IO): Promise<void> {
  const sub = args[1];
  if (sub === undefined || sub === '-h' || sub === '--help') {
    io.stdout.write(NODE_HELP);
    return;
  }
  switch (sub) {
    case 'status':
      return status(args, io);
    case 'run': {
      const rest = args.slice(2);
      const end = rest.indexOf('--');
      if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === '-h' || a === '--help')) {
        io.stdout.write(NODE_RUN_HELP);
        return;
      }
      // Loaded only here, so that other commands never load the agent.
      const { runNodeRun } = await import('./node-run.js');
      return runNodeRun(args.slice(1), io);
    }
  }
  // calicoctl commands/node_linux.go: an unknown subcommand prints the usage (fmt.Println(doc)).
  io.stdout.write(`${NODE_HELP}\n`);
}

// --- status -------------------------------------------------------------------------------------

export type NodeStatusOutput = 'ps' | 'wide' | 'json';

async function status(args: string[], io: IO): Promise<void> {
  const p = parseArgs(args.slice(2), [{ long: 'run-dir', value: true }, { long: 'output', short: 'o', value: true }, { long: 'allow-version-mismatch' }], args);
  if (p.help) {
    io.stdout.write(NODE_STATUS_HELP);
    return;
  }
  if (p.pos.length) throw invalidOption(args);
  const output = str(p, 'output') ?? 'ps';
  if (output !== 'ps' && output !== 'wide' && output !== 'json') throw new CommandError(`unrecognized output format '${output}' (use wide or json)`);
  // calicoctl node/permissions.go enforceRoot (no version-mismatch check for this command).
  const uid = io.uid?.() ?? process.getuid?.() ?? -1;
  if (uid !== 0 && io.env.TORTIE_SKIP_ROOT_CHECK !== '1') throw new CommandError('Need super user privileges: Operation not permitted');
  let st: AgentStatus;
  try {
    st = checkStatus(await queryAgent(str(p, 'run-dir') ?? DEFAULT_RUN_DIR, { cmd: 'status' }));
  } catch (e) {
    if (e instanceof AgentClientError) {
      if (e.code === 'NOT_RUNNING') throw new CommandError('tortie agent is not running.');
      throw new CommandError(`Error querying the tortie agent: ${e.message}`);
    }
    throw e;
  }
  io.stdout.write(output === 'json' ? JSON.stringify(st, null, 2) + '\n' : renderNodeStatus(st, { wide: output === 'wide' }));
}

function checkStatus(v: unknown): AgentStatus {
  const s = v as Partial<AgentStatus> | null;
  if (typeof s !== 'object' || s === null || typeof s.bgp !== 'object' || s.bgp === null || !Array.isArray(s.bgp.peers)) {
    throw new AgentClientError('PROTOCOL', 'the tortie agent sent a status without bgp.peers', '');
  }
  return s as AgentStatus;
}

/**
 * calicoctl's layout: the running line, then for each family `\nIPv4 BGP status\n` and a table
 * or `No IPv4 peers found.`, then an empty line. Rows in the agent's order.
 */
export function renderNodeStatus(st: AgentStatus, opts: { wide?: boolean; now?: number } = {}): string {
  const now = opts.now ?? Date.now();
  let out = 'tortie agent is running.\n';
  if (st.bgp.enabled === false) {
    // calicoctl: "\nThe BGP backend process (BIRD) is not running.\n"
    out += '\nBGP is disabled on this node.\n';
  } else {
    for (const [fam, v] of [
      ['ipv4', '4'],
      ['ipv6', '6'],
    ] as const) {
      out += `\nIPv${v} BGP status\n`;
      const peers = st.bgp.peers.filter((pr) => pr.family === fam);
      out += peers.length ? peerTable(peers, now, opts.wide ?? false) : `No IPv${v} peers found.\n`;
    }
  }
  if (opts.wide && st.warnings?.length) out += `\nWarnings:\n${st.warnings.map((w) => `  ${w}\n`).join('')}`;
  return out + '\n';
}

const HEADER = ['Peer address', 'Peer type', 'State', 'Since', 'Info'];
const WIDE_HEADER = [...HEADER, 'Received', 'Advertised', 'Last error'];

function peerTable(peers: readonly AgentPeerStatus[], now: number, wide: boolean): string {
  const rows = peers.map((pr) => {
    const row = [peerAddress(pr), peerType(pr), pr.state, formatSince(pr.since, now), fields(pr.info).join(' ')];
    if (wide) row.push(String(pr.prefixes?.received ?? 0), String(pr.prefixes?.advertised ?? 0), pr.lastError ?? '');
    return row;
  });
  return renderTablewriter(wide ? WIDE_HEADER : HEADER, rows);
}

const PEER_NAME = /^(Global|Node|Mesh)_(.+)$/;
const TYPE_TEXT: Record<string, string> = { Global: 'global', Mesh: 'node-to-node mesh', Node: 'node specific' };

/**
 * calicoctl reads the address out of BIRD's protocol name: everything after `Mesh_`/`Node_`/
 * `Global_` with `_` turned into `.` (IPv4) or `:` (IPv6). A peer on another port is named
 * `Node_10_0_0_9_port_1179`, so calicoctl prints `10.0.0.9.port.1179` (`fd00::9:port:1179`) —
 * reproduced. A name of another form (calicoctl would skip the row) shows the address.
 */
export function peerAddress(pr: Pick<AgentPeerStatus, 'name' | 'family' | 'address'>): string {
  const m = PEER_NAME.exec(pr.name ?? '');
  return m ? m[2]!.replaceAll('_', pr.family === 'ipv6' ? ':' : '.') : pr.address;
}

function peerType(pr: AgentPeerStatus): string {
  const m = PEER_NAME.exec(pr.name ?? '');
  return TYPE_TEXT[m ? m[1]! : pr.type] ?? String(pr.type).toLowerCase();
}

/** Go's strings.Fields: calicoctl splits BIRD's row on white space and joins the info with single spaces. */
function fields(s: string | undefined): string[] {
  return (s ?? '').split(/\s+/).filter(Boolean);
}

/**
 * BIRD 1.6's `since` column for `show protocols`: `timeformat protocol` defaults to
 * `"%T" "%F" 72000` (conf/conf.c config_alloc: `{"%T", "%F", 20*3600}`), applied by
 * sysdep/unix/io.c tm_format_datetime — local `HH:MM:SS` when the state changed less than 20 hours
 * ago, else the local date `YYYY-MM-DD`. Calico's bird.cfg does not set a timeformat.
 */
export function formatSince(sinceMs: number, nowMs: number = Date.now()): string {
  if (!Number.isFinite(sinceMs)) return '';
  const d = new Date(sinceMs);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const deltaSec = Math.floor(nowMs / 1000) - Math.floor(sinceMs / 1000);
  return deltaSec < 20 * 3600
    ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    : `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// --- olekukonko/tablewriter v0.0.5 --------------------------------------------------------------

/** tablewriter's MAX_ROW_WIDTH: cells wider than this are word-wrapped. */
const MAX_CELL_WIDTH = 30;
const DECIMAL = /^-?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?$/;

function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** tablewriter WrapWords: minimal raggedness (squared slack per line), 1e5 penalty for overlong lines. */
function wrapWords(words: string[], spc: number, lim: number, pen: number): string[][] {
  const n = words.length;
  const len: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = new Array<number>(n).fill(0);
    row[i] = width(words[i]!);
    for (let j = i + 1; j < n; j++) row[j] = row[j - 1]! + spc + width(words[j]!);
    len.push(row);
  }
  const nbrk = new Array<number>(n).fill(0);
  const cost = new Array<number>(n).fill(2 ** 31 - 1);
  for (let i = n - 1; i >= 0; i--) {
    if (len[i]![n - 1]! <= lim) {
      cost[i] = 0;
      nbrk[i] = n;
    } else {
      for (let j = i + 1; j < n; j++) {
        const d = lim - len[i]![j - 1]!;
        let c = d * d + cost[j]!;
        if (len[i]![j - 1]! > lim) c += pen;
        if (c < cost[i]!) {
          cost[i] = c;
          nbrk[i] = j;
        }
      }
    }
  }
  const lines: string[][] = [];
  for (let i = 0; i < n; i = nbrk[i]!) lines.push(words.slice(i, nbrk[i]));
  return lines;
}

/** tablewriter WrapString: split on single spaces; the limit grows to the longest word. */
function wrapString(s: string, lim: number): string[] {
  const words = s.replaceAll('\n', ' ').split(' ');
  for (const w of words) lim = Math.max(lim, width(w));
  return wrapWords(words, 1, lim, 1e5).map((l) => l.join(' '));
}

/** tablewriter parseDimension with autoWrap and reflowText on: the cell's lines and its width. */
function cellLines(s: string): { lines: string[]; width: number } {
  const raw = s.split('\n');
  let max = Math.min(Math.max(...raw.map(width)), MAX_CELL_WIDTH);
  const lines = wrapString(raw.join(' '), max);
  for (const l of lines) max = Math.max(max, width(l));
  return { lines, width: max };
}

/** tablewriter Title: `_` and most `.` become spaces, trimmed, upper-cased. */
function title(name: string): string {
  const rs = [...name];
  const numOrSpace = (r: string | undefined): boolean => r !== undefined && /[0-9 ]/.test(r);
  rs.forEach((r, i) => {
    if (r === '_') rs[i] = ' ';
    else if (r === '.' && ((i !== 0 && !numOrSpace(rs[i - 1])) || (i !== rs.length - 1 && !numOrSpace(rs[i + 1])))) rs[i] = ' ';
  });
  const t = rs.join('').trim();
  return (t === '' && name.length > 0 ? ' ' : t).toUpperCase();
}

const padRight = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - width(s)));
const padLeft = (s: string, w: number): string => ' '.repeat(Math.max(0, w - width(s))) + s;
const padCentre = (s: string, w: number): string => {
  const gap = w - width(s);
  if (gap <= 0) return s;
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + s + ' '.repeat(gap - left);
};

/**
 * A table as tablewriter v0.0.5 renders it with its defaults: borders, a line under the
 * centred upper-cased header, no row lines, numeric cells right-aligned, others left-aligned,
 * and cells wider than 30 columns word-wrapped onto further lines (the other cells of the row
 * continue with blanks). For tables without wrapping it prints what asciitable.renderTable does.
 */
export function renderTablewriter(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  const grow = (c: number, w: number): void => {
    if (widths[c] === undefined || widths[c]! < w) widths[c] = w;
  };
  const head = header.map((h, c) => {
    const d = cellLines(h);
    grow(c, d.width);
    return d.lines;
  });
  const body = rows.map((r) =>
    r.map((v, c) => {
      const d = cellLines(v);
      grow(c, d.width);
      return d.lines;
    }),
  );
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n';
  let out = line;
  const headHeight = Math.max(1, ...head.map((l) => l.length));
  for (let x = 0; x < headHeight; x++) out += '|' + widths.map((w, c) => ` ${padCentre(title(head[c]?.[x] ?? ''), w)} |`).join('') + '\n';
  out += line;
  for (const cells of body) {
    const height = Math.max(0, ...cells.map((l) => l.length));
    for (let x = 0; x < height; x++) {
      out +=
        '|' +
        cells
          .map((l, c) => {
            // tablewriter fills a shorter cell's missing lines with "  ".
            const s = l[x] ?? '  ';
            return ` ${DECIMAL.test(s.trim()) ? padLeft(s, widths[c]!) : padRight(s, widths[c]!)} |`;
          })
          .join('') +
        '\n';
    }
  }
  return out + line;
}
