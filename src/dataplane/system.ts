/**
 * The real Sysctl and Nft ports: files under /proc/sys, and the `nft` binary.
 *
 * `nft -f -` runs a whole script as one kernel transaction (all of it or nothing), which is what
 * makes "replace the tortie table" atomic. `nft list table` answers "No such file or directory"
 * (exit 1) for a missing table — the one stderr text read here, at the adapter, so nobody else
 * has to.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DataplaneError } from './errors.js';
import type { Nft, Sysctl } from './port.js';

export class ProcSysctl implements Sysctl {
  constructor(private readonly root = '/proc/sys') {}

  async read(path: string): Promise<string | undefined> {
    try {
      return (await readFile(join(this.root, path), 'utf8')).trimEnd();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new DataplaneError('SYSCTL_FAILED', `sysctl ${path}`, `reading /proc/sys/${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async write(path: string, value: string): Promise<void> {
    try {
      await writeFile(join(this.root, path), value);
    } catch (e) {
      throw new DataplaneError('SYSCTL_FAILED', `sysctl ${path}=${value}`, `writing /proc/sys/${path}: ${(e as Error).message}`, { cause: e });
    }
  }
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class NftCommand implements Nft {
  constructor(
    private readonly bin = process.env.NFT_BIN ?? 'nft',
    private readonly timeoutMs = 20_000,
  ) {}

  private exec(args: string[], input?: string): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new DataplaneError('NFT_FAILED', `${this.bin} ${args.join(' ')}`, `cannot run ${this.bin}: ${e.message}`, { cause: e }));
      });
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
      child.stdin.on('error', () => {
        /* nft exited without reading: its status says why */
      });
      child.stdin.end(input ?? '');
    });
  }

  async run(script: string): Promise<void> {
    const r = await this.exec(['-f', '-'], script);
    if (r.status !== 0) {
      throw new DataplaneError('NFT_FAILED', 'nft -f -', `nft refused the script (exit ${r.status}): ${r.stderr.trim()}`);
    }
  }

  async list(table: string): Promise<string | undefined> {
    const r = await this.exec(['list', 'table', ...table.split(' ')]);
    if (r.status === 0) return r.stdout;
    if (/No such file or directory/.test(r.stderr)) return undefined;
    throw new DataplaneError('NFT_FAILED', `nft list table ${table}`, `nft list table ${table} failed (exit ${r.status}): ${r.stderr.trim()}`);
  }
}
