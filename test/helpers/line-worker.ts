/**
 * A test worker process that talks JSON lines: the test sends commands on its stdin, the worker
 * prints one JSON object per line, each with an `event`. `next(event)` waits for the next line
 * and fails with the details (timeout, exit and stderr, or the unexpected line) if it is not that
 * event. Workers are killed by PID on exit of the test process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Msg {
  event: string;
  id: number;
  [k: string]: unknown;
}

const running = new Set<LineWorker>();
process.on('exit', () => {
  for (const w of running) w.kill();
});

export class LineWorker {
  readonly child: ChildProcess;
  private lines: Msg[] = [];
  private waiting: ((m: Msg) => void) | undefined;
  private stderr = '';
  private exited = false;

  constructor(
    cwd: string,
    script: string,
    args: string[],
    readonly id: number,
    private readonly timeoutMs = 60_000,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(this);
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      let m: Msg;
      try {
        m = JSON.parse(l) as Msg;
      } catch {
        m = { event: 'garbage', id, line: l };
      }
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(m);
      } else this.lines.push(m);
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.on('exit', (code, sig) => {
      this.exited = true;
      running.delete(this);
      this.waiting?.({ event: 'exited', id, code, sig, stderr: this.stderr.slice(-2000) });
      this.waiting = undefined;
    });
  }

  send(cmd: string): void {
    this.child.stdin!.write(`${cmd}\n`);
  }

  /** The next message; a timeout, an exit or an error message fails the test with the details. */
  async next(expect: string): Promise<Msg> {
    let timer: NodeJS.Timeout | undefined;
    const m = this.lines.shift() ??
      (this.exited
        ? { event: 'exited', id: -1, stderr: this.stderr.slice(-2000) }
        : await new Promise<Msg>((res) => {
            this.waiting = res;
            timer = setTimeout(() => {
              this.waiting = undefined;
              res({ event: 'timeout', id: -1 });
            }, this.timeoutMs);
          }));
    clearTimeout(timer);
    if (m.event !== expect) throw new Error(`worker ${this.child.pid}: expected "${expect}", got ${JSON.stringify(m)}`);
    return m;
  }

  /** Kill by PID if still running. */
  kill(): void {
    if (!this.exited && this.child.pid) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  /** Asks it to exit ("exit" on stdin), killing it after 10 s. */
  async exit(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send('exit');
    const timer = setTimeout(() => this.kill(), 10_000);
    await done;
    clearTimeout(timer);
  }
}
