/**
 * The CLI's side effects, injected: output streams, stdin, environment, and how to reach the
 * datastore. `main(argv, io)` is tested with an in-memory IO; `bin.ts` wires the real process.
 */
import type { Client } from '../datastore/client.js';

export interface Output {
  write(s: string): void;
}

export interface IO {
  stdout: Output;
  stderr: Output;
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  /** Opens a client for `-c/--config` (undefined = default). Tests may substitute their own. */
  connect?(configPath: string | undefined, env: NodeJS.ProcessEnv): Promise<Client>;
  /** Current user id (`node status` needs root, as calicoctl does). */
  uid?(): number;
  /** Sleep, injectable so retry loops are fast in tests. */
  sleep?(ms: number): Promise<void>;
}

/** A failure to report on stderr with exit status 1 (calicoctl prints the error and exits 1). */
export class CommandError extends Error {
  readonly code = 'COMMAND' as const;
  constructor(
    message: string,
    /** Lines already destined for stdout before the error (partial success). */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** An IO that records everything, for tests. */
export function memoryIO(opts: { stdin?: string; env?: NodeJS.ProcessEnv } & Partial<IO> = {}): IO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s) => void (out += s) },
    stderr: { write: (s) => void (err += s) },
    readStdin: async () => opts.stdin ?? '',
    env: opts.env ?? {},
    ...(opts.connect ? { connect: opts.connect } : {}),
    ...(opts.uid ? { uid: opts.uid } : {}),
    sleep: opts.sleep ?? (async () => {}),
    out: () => out,
    err: () => err,
  };
}
