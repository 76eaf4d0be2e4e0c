/**
 * An in-memory socket for session and speaker tests: the test emits the peer's bytes as 'data';
 * what tortie writes is kept in `written`. Shared by src/ tests and test/helpers/bgp-fuzz.ts.
 */
import { EventEmitter } from 'node:events';

export class FakeSocket extends EventEmitter {
  destroyed = false;
  ended = false;
  writableNeedDrain = false;
  readonly written: Buffer[] = [];
  readonly remotePort = 40179;
  readonly localPort = 179;

  constructor(
    readonly remoteAddress: string,
    readonly localAddress: string,
  ) {
    super();
  }

  write(b: Uint8Array): boolean {
    if (!this.destroyed && !this.ended) this.written.push(Buffer.from(b));
    return true;
  }

  end(): this {
    this.ended = true;
    return this;
  }

  /** Like net.Socket: 'close' follows on the next tick. */
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      process.nextTick(() => this.emit('close', false));
    }
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  /** The whole messages written since index `from` (one write may hold several). */
  messagesSince(from = 0): Buffer[] {
    const all = Buffer.concat(this.written.slice(from));
    const out: Buffer[] = [];
    for (let o = 0; o + 19 <= all.length; ) {
      const len = all.readUInt16BE(o + 16);
      if (len < 19) throw new Error(`a message of length ${len} was written`);
      out.push(all.subarray(o, o + len));
      o += len;
    }
    return out;
  }

  /** Every whole message written so far. */
  messages(): Buffer[] {
    return this.messagesSince(0);
  }
}
