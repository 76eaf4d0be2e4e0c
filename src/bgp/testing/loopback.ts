/**
 * Test helpers for speakers over loopback: `loopbackSpeakers()` makes speakers listening on
 * 127.x addresses (port 0) and closes them after each test; `until` polls a condition.
 */
import { afterEach } from 'node:test';
import { Speaker } from '../speaker.js';

export async function until<T>(f: () => T | undefined | false, ms = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface LoopbackSpeaker {
  s: Speaker;
  port: number;
  address: string;
}

/** Call at module level: returns a factory whose speakers are closed after each test. */
export function loopbackSpeakers(): (id: string, as: number, address: string) => Promise<LoopbackSpeaker> {
  const made: Speaker[] = [];
  afterEach(async () => {
    for (const s of made.splice(0)) await s.close();
  });
  return async (id, as, address) => {
    const s = new Speaker({ routerId: id, asNumber: as, listen: { address, port: 0 } });
    made.push(s);
    const port = (await s.start())!;
    return { s, port, address };
  };
}
