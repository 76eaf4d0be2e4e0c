/**
 * Structured logs: one JSON object per line on stderr (`{"time":…,"level":"info","msg":…,…fields}`),
 * so a lab or a log shipper can parse them. Levels follow calico-node's LOG_LEVEL / logSeverityScreen.
 */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export interface Logger {
  (level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  /**
   * Whether a line at `level` would be written. A caller whose message or fields cost something to build
   * (a debug line on every route change) asks first; a logger without it writes every level.
   */
  enabled?(level: LogLevel): boolean;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };

export function parseLogLevel(s: string | undefined): LogLevel {
  const v = (s ?? 'info').toLowerCase();
  if (v === 'trace' || v === 'debug') return 'debug';
  if (v === 'warn' || v === 'warning') return 'warning';
  if (v === 'error' || v === 'fatal' || v === 'panic') return 'error';
  if (v === 'info') return 'info';
  throw new RangeError(`unknown log level ${JSON.stringify(s)}: expected one of trace, debug, info, warning, error, fatal, panic`);
}

export function jsonLogger(write: (line: string) => void, min: LogLevel = 'info', now: () => Date = () => new Date()): Logger {
  const log: Logger = (level, msg, fields) => {
    if (ORDER[level] < ORDER[min]) return;
    write(JSON.stringify({ time: now().toISOString(), level, msg, ...fields }) + '\n');
  };
  log.enabled = (level) => ORDER[level] >= ORDER[min];
  return log;
}

export const nullLogger: Logger = Object.assign(() => {}, { enabled: () => false });
