/*
 * Framer: turns a TCP byte stream into whole BGP messages (RFC 4271 §4.1).
 *
 * Chunks may split messages anywhere (even one byte at a time) and may hold many messages. For every
 * message the framer first reads the 19-byte header and checks it -- marker of 16 x 0xff, then the length
 * field against 19 .. maxMessageLength -- BEFORE it keeps a single byte of the body, so a peer announcing a
 * 65535-byte message on a 4096-byte session costs at most the header (RFC 8654 §4 raises the maximum to 65535
 * once the extended message capability is negotiated: set `maxMessageLength`).
 *
 *  - A message lying inside one chunk is returned as a `subarray` of that chunk: no copy. It shares memory with
 *    the chunk, so callers must not reuse chunk buffers (Node's socket chunks are fresh allocations).
 *  - A message spanning chunks is copied once into a Buffer of its exact length, allocated only after the
 *    header has been checked.
 *  - Pull model: `push(chunk)` queues, `next()` returns one message at a time, so the caller may raise
 *    `maxMessageLength` right after the OPEN that negotiated it, between two messages of the same chunk.
 *    `feed(chunk)` is push + next until empty.
 *  - On a bad header `error` is set (Message Header Error: Connection Not Synchronized, or Bad Message Length
 *    with the 2-byte length field as data), everything held is dropped and all later input is ignored:
 *    the session must send that NOTIFICATION and close.
 * Message types and per-type lengths are checked by `decodeMessage` (message.ts), not here.
 */

import { HEADER_ERR, HEADER_LENGTH, ERR, MARKER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './constants.js';
import { WireError, problem, type WireProblem } from './errors.js';

export class Framer {
  private max: number;
  private queue: Buffer[] = [];
  private head = 0; // index of the chunk being read in `queue`
  private off = 0; // read offset in queue[head]
  private queued = 0; // unread bytes in the queue
  private readonly hdr = Buffer.alloc(HEADER_LENGTH); // a header split across chunks
  private hdrFill = 0;
  private asm: Buffer | undefined; // a message split across chunks, header checked
  private asmFill = 0;
  private err: WireProblem | undefined;

  constructor(maxMessageLength: number = MAX_MESSAGE_LENGTH) {
    this.max = checkMax(maxMessageLength);
  }

  /** Largest accepted message: 4096, or 65535 once RFC 8654 extended messages are negotiated. */
  get maxMessageLength(): number {
    return this.max;
  }

  set maxMessageLength(n: number) {
    this.max = checkMax(n);
  }

  /** The header error that stopped this framer, if any. */
  get error(): WireProblem | undefined {
    return this.err;
  }

  /** Bytes held: queued input not yet framed, a partial header, a partial message. */
  get buffered(): number {
    return this.queued + this.hdrFill + (this.asm ? this.asmFill : 0);
  }

  /** Queues a chunk (no copy). Ignored once `error` is set. */
  push(chunk: Uint8Array): void {
    if (this.err || chunk.length === 0) return;
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.queue.push(b);
    this.queued += b.length;
  }

  /** The next complete message (header included), or undefined when more input is needed or `error` is set. */
  next(): Buffer | undefined {
    if (this.err) return undefined;
    for (;;) {
      if (this.asm) {
        this.asmFill += this.take(this.asm, this.asmFill, this.asm.length - this.asmFill);
        if (this.asmFill < this.asm.length) return undefined;
        const m = this.asm;
        this.asm = undefined;
        this.asmFill = 0;
        return m;
      }
      const chunk = this.queue[this.head];
      if (chunk === undefined) return undefined;
      const avail = chunk.length - this.off;
      if (this.hdrFill === 0 && avail >= HEADER_LENGTH) {
        const len = this.check(chunk, this.off);
        if (len < 0) return undefined;
        if (avail >= len) {
          const m = chunk.subarray(this.off, this.off + len);
          this.advance(len);
          return m;
        }
        this.asm = Buffer.allocUnsafe(len);
        chunk.copy(this.asm, 0, this.off);
        this.asmFill = avail;
        this.advance(avail);
        continue;
      }
      // The header itself is split: collect it in `hdr`, checking marker bytes as they come.
      const before = this.hdrFill;
      this.hdrFill += this.take(this.hdr, this.hdrFill, HEADER_LENGTH - this.hdrFill);
      for (let i = before; i < Math.min(this.hdrFill, MARKER_LENGTH); i++) {
        if (this.hdr[i] !== 0xff) return this.fail(notSynchronized());
      }
      if (this.hdrFill < HEADER_LENGTH) return undefined;
      const len = this.check(this.hdr, 0);
      if (len < 0) return undefined;
      this.asm = Buffer.allocUnsafe(len);
      this.hdr.copy(this.asm, 0, 0, HEADER_LENGTH);
      this.asmFill = HEADER_LENGTH;
      this.hdrFill = 0;
    }
  }

  /** push + next until no complete message is left. Check `error` afterwards. */
  feed(chunk: Uint8Array): Buffer[] {
    this.push(chunk);
    const out: Buffer[] = [];
    for (let m = this.next(); m !== undefined; m = this.next()) out.push(m);
    return out;
  }

  /** Checks a whole header at b[o..o+19): returns the message length, or -1 after `fail`. */
  private check(b: Buffer, o: number): number {
    for (let i = 0; i < MARKER_LENGTH; i++) {
      if (b[o + i] !== 0xff) {
        this.fail(notSynchronized());
        return -1;
      }
    }
    const len = ((b[o + 16] as number) << 8) | (b[o + 17] as number);
    if (len < HEADER_LENGTH || len > this.max) {
      this.fail(
        problem(
          ERR.MESSAGE_HEADER,
          HEADER_ERR.BAD_MESSAGE_LENGTH,
          'session-reset',
          `message length ${len} outside ${HEADER_LENGTH}..${this.max}`,
          Uint8Array.of(b[o + 16] as number, b[o + 17] as number),
        ),
      );
      return -1;
    }
    return len;
  }

  /** Copies up to `want` queued bytes into dst at `at`; returns how many. */
  private take(dst: Buffer, at: number, want: number): number {
    let got = 0;
    while (got < want) {
      const chunk = this.queue[this.head];
      if (chunk === undefined) break;
      const n = Math.min(want - got, chunk.length - this.off);
      chunk.copy(dst, at + got, this.off, this.off + n);
      got += n;
      this.advance(n);
    }
    return got;
  }

  private advance(n: number): void {
    this.off += n;
    this.queued -= n;
    const chunk = this.queue[this.head];
    if (chunk !== undefined && this.off === chunk.length) {
      this.queue[this.head] = EMPTY_BUFFER; // let the chunk be collected
      this.head++;
      this.off = 0;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
    }
  }

  private fail(p: WireProblem): undefined {
    this.err = p;
    this.queue = [];
    this.head = 0;
    this.off = 0;
    this.queued = 0;
    this.hdrFill = 0;
    this.asm = undefined;
    this.asmFill = 0;
    return undefined;
  }
}

const EMPTY_BUFFER = Buffer.alloc(0);

function notSynchronized(): WireProblem {
  return problem(ERR.MESSAGE_HEADER, HEADER_ERR.CONNECTION_NOT_SYNCHRONIZED, 'session-reset', 'marker is not 16 x 0xff');
}

function checkMax(n: number): number {
  if (!Number.isInteger(n) || n < MAX_MESSAGE_LENGTH || n > MAX_EXTENDED_MESSAGE_LENGTH) {
    throw new WireError('INVALID_VALUE', `maxMessageLength must be ${MAX_MESSAGE_LENGTH}..${MAX_EXTENDED_MESSAGE_LENGTH}, got ${n}`);
  }
  return n;
}
