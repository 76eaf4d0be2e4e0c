/**
 * A push-to-pull queue: producers `push` batches, `fail` with an error or `close`; one consumer
 * iterates with `for await`. Backends use it to expose their change feeds as KVWatchStream.
 *
 * Tricky: the iterator must deliver everything pushed before a `fail`/`close` first, and
 * `close()` from the consumer side (break out of for-await, or an explicit close) must run the
 * producer's cleanup exactly once.
 */
import type { KVEvent, KVWatchStream } from './kv.js';

export class EventQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private error: unknown;
  private done = false;
  private cleanedUp = false;

  constructor(private readonly onClose: () => void = () => {}) {}

  push(item: T): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Ends the stream with an error, after the items already queued. */
  fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    this.cleanup();
    this.wake();
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.cleanup();
    this.wake();
  }

  get closed(): boolean {
    return this.done;
  }

  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.onClose();
  }

  private wake(): void {
    if (!this.waiter || this.items.length > 0) return;
    const w = this.waiter;
    this.waiter = undefined;
    if (this.error !== undefined) w.reject(this.error);
    else w.resolve({ value: undefined as never, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.done) {
          if (this.error !== undefined) {
            const e = this.error;
            this.error = undefined;
            return Promise.reject(e);
          }
          return Promise.resolve({ value: undefined as never, done: true });
        }
        return new Promise((resolve, reject) => {
          this.waiter = { resolve, reject };
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined as never, done: true });
      },
    };
  }
}

export class QueueWatchStream extends EventQueue<KVEvent[]> implements KVWatchStream {
  /** Set by a backend whose streams take wake topics (SQLite). */
  setWake?: (topics: readonly string[] | undefined) => void;
}
