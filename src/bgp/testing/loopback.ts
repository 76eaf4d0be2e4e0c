/**
 * Test helpers for speakers over loopback: `loopbackSpeakers()` makes speakers listening on
 * 127.x addresses (port 0) and closes them after each test; `until` polls a condition.
 */
import { afterEach } from 'node:test';
import { Speaker, type SpeakerOptions } from '../speaker.js';

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

export interface LoopbackFactory {
  (id: string, as: number, address: string, extra?: Partial<SpeakerOptions>): Promise<LoopbackSpeaker>;
  /** Registers a speaker made some other way, so it is closed after the test too. */
  track(s: Speaker): Speaker;
}

/** Call at module level: returns a factory whose speakers are closed after each test. */
export function loopbackSpeakers(): LoopbackFactory {
  const made: Speaker[] = [];
  afterEach(async () => {
    for (const s of made.splice(0)) await s.close();
  });
  const make = async (id: string, as: number, address: string, extra: Partial<SpeakerOptions> = {}): Promise<LoopbackSpeaker> => {
    const s = new Speaker({ routerId: id, asNumber: as, listen: { address, port: 0 }, ...extra });
    made.push(s);
    const port = (await s.start())!;
    return { s, port, address };
  };
  return Object.assign(make, {
    track: (s: Speaker) => {
      made.push(s);
      return s;
    },
  });
}
