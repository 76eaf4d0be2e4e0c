/** Errors of the BGP engine's API (configuration handed to the speaker). Peer input never throws. */
export class BgpConfigError extends Error {
  readonly code = 'BGP_CONFIG' as const;
  constructor(message: string) {
    super(message);
    this.name = 'BgpConfigError';
  }
}
