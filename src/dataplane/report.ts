/**
 * What one `apply` did, and the small context every reconciler writes into while doing it.
 *
 * Failures of single kernel operations do not abort an apply: the reconciler records them
 * (`errors`), carries on with everything else and the next apply — which starts again from what
 * the kernel has — retries. Conditions that retrying will not fix (no ipip module, a prefix held
 * by another routing daemon, nft without fully-random) are `warnings`.
 */
import { DataplaneError, MISSING } from './errors.js';
import type { Netlink, Nft, Sysctl } from './port.js';

export type DataplaneLogLevel = 'debug' | 'info' | 'warning' | 'error';
export interface DataplaneLogger {
  (level: DataplaneLogLevel, msg: string, fields?: Record<string, unknown>): void;
  /** Whether a line at `level` would be written (agent/log.ts); without it, every level is. */
  enabled?(level: DataplaneLogLevel): boolean;
}

export interface Counts {
  added: number;
  replaced: number;
  deleted: number;
}

export interface ApplyIssue {
  severity: 'warning' | 'error';
  /** DataplaneError code (`IPIP_UNSUPPORTED`, `EEXIST`, …) or a reconciler's own (`ROUTE_CONFLICT`, `NO_FULLY_RANDOM`). */
  code: string;
  message: string;
}

export interface ApplyReport {
  routes: Counts;
  /** Permanent ARP/NDP entries on vxlan.calico. */
  neighbors: Counts;
  /** FDB entries on vxlan.calico. */
  fdb: Counts;
  /** Addresses on vxlan.calico / tunl0. */
  addresses: Counts;
  devices: { created: number; updated: number; deleted: number };
  /** Sysctl files written. */
  sysctls: number;
  /** nft tables (re)written or deleted. */
  natTables: number;
  /** Kernel mutations in total (0 = the kernel already matched the plan). */
  changes: number;
  /**
   * Messages of the warning-level issues that are new since the previous apply (what the agent
   * logs; a kernel without ipip is said once, not on every apply). `issues` has all of them.
   */
  warnings: string[];
  /** Messages of the operations that failed; the next apply retries them. */
  errors: string[];
  issues: ApplyIssue[];
  /** No errors (warnings allowed). */
  ok: boolean;
  durationMs: number;
  /** `full`: the kernel was listed and compared; `route-only`: only routes changed since a clean pass, programmed without listing. */
  pass?: 'full' | 'route-only';
}

const counts = (): Counts => ({ added: 0, replaced: 0, deleted: 0 });

export function emptyReport(): ApplyReport {
  return {
    routes: counts(),
    neighbors: counts(),
    fdb: counts(),
    addresses: counts(),
    devices: { created: 0, updated: 0, deleted: 0 },
    sysctls: 0,
    natTables: 0,
    changes: 0,
    warnings: [],
    errors: [],
    issues: [],
    ok: true,
    durationMs: 0,
  };
}

/** The ports, the report being filled and the logger, handed to each reconciler for one apply. */
export class Run {
  readonly report = emptyReport();
  /** Debug lines are written: each successful operation is logged, and its text is built for that. */
  private readonly debug: boolean;

  constructor(
    readonly netlink: Netlink,
    readonly sysctl: Sysctl,
    readonly nft: Nft,
    private readonly log: DataplaneLogger,
    /** Warning messages the previous apply reported. */
    private readonly known: ReadonlySet<string> = new Set(),
  ) {
    this.debug = log.enabled?.('debug') ?? true;
  }

  warn(code: string, message: string): void {
    this.report.issues.push({ severity: 'warning', code, message });
    if (this.known.has(message)) {
      this.log('debug', message, { code, repeated: true });
      return;
    }
    this.report.warnings.push(message);
    this.log('warning', message, { code });
  }

  error(code: string, message: string): void {
    this.report.issues.push({ severity: 'error', code, message });
    this.report.errors.push(message);
    this.report.ok = false;
    this.log('error', message, { code });
  }

  /**
   * Runs one kernel mutation: counts it and logs it at debug when it succeeds; records the error
   * and returns false when it fails (anything that is not a DataplaneError is a bug: rethrown).
   * `op` names the operation in messages; as a function it is called only when a message needs it
   * (a failure, or debug logging on), not for every route of every pass.
   */
  async attempt(op: string | (() => string), fn: () => Promise<void>, onSuccess?: () => void, opts: { goneIsFine?: boolean } = {}): Promise<boolean> {
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof DataplaneError)) throw e;
      const text = typeof op === 'string' ? op : op();
      if (opts.goneIsFine && MISSING.includes(e.code)) {
        // Deleting what already went (with its device, or by someone else) is the outcome we wanted.
        this.log('debug', `${text}: already gone`);
        return true;
      }
      this.error(e.code, e.message.startsWith(e.op) ? e.message : `${text}: ${e.message}`);
      return false;
    }
    this.report.changes++;
    onSuccess?.();
    if (this.debug) this.log('debug', typeof op === 'string' ? op : op());
    return true;
  }

  /** Reads kernel state; a failure is recorded and yields undefined (the caller skips that part). */
  async read<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof DataplaneError)) throw e;
      this.error(e.code, `reading ${what}: ${e.message}`);
      return undefined;
    }
  }
}
