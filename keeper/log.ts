// Structured logs: one JSON object per line on stderr (level, time, component, message, fields).
// Secrets never reach here: callers pass addresses, never keys.

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

const json = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x instanceof Error ? String(x) : x));

export function createLogger(
  component = "keeper",
  level: Level = "info",
  sink: (line: string) => void = (l) => process.stderr.write(l + "\n"),
): Logger {
  const min = ORDER[level];
  const emit = (lv: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lv] < min) return;
    sink(json({ level: lv, time: new Date().toISOString(), component, msg, ...fields }));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (c) => createLogger(`${component}.${c}`, level, sink),
  };
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
