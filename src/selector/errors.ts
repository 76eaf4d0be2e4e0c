/**
 * Errors of the selector module.
 *
 * One class, one stable code. The message is Calico's own error text (from libcalico-go's
 * tokenizer.go / parser.go), word for word, so that validation output matches calicoctl's; the
 * offending selector and the character position (a UTF-16 index into `selector`) ride alongside
 * instead of being folded into the message.
 */

export type SelectorErrorCode = 'SELECTOR_SYNTAX';

export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  readonly code: SelectorErrorCode = 'SELECTOR_SYNTAX';
  /** The full selector text that failed to parse. */
  readonly selector: string;
  /** Index into `selector` where the problem was found (the offending token or character). */
  readonly position?: number;

  constructor(message: string, selector: string, position?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.selector = selector;
    if (position !== undefined) this.position = position;
  }
}
