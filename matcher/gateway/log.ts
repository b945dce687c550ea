// Structured logs: one JSON object per line on stderr.
type Level = "debug" | "info" | "warn" | "error";
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(level: Level, base: Record<string, unknown> = {}, sink = process.stderr): Logger {
  const min = RANK[level];
  const write = (lv: Level, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lv] < min) return;
    sink.write(JSON.stringify({ ts: new Date().toISOString(), level: lv, msg, ...base, ...fields }) + "\n");
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (f) => createLogger(level, { ...base, ...f }, sink),
  };
}
