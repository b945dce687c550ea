// Stream names in the fapi dialect. Market streams are `<symbol lowercase>@<kind>`; a user
// data stream is the bare listenKey.
export const KLINE_INTERVALS: Record<string, number> = {
  "1m": 60_000,
  "3m": 180_000,
  "5m": 300_000,
  "15m": 900_000,
  "30m": 1_800_000,
  "1h": 3_600_000,
  "2h": 7_200_000,
  "4h": 14_400_000,
  "6h": 21_600_000,
  "8h": 28_800_000,
  "12h": 43_200_000,
  "1d": 86_400_000,
  "3d": 259_200_000,
  "1w": 604_800_000,
};

export type StreamKind =
  | { kind: "depth"; speedMs: number } // diff: 0 = every engine event, else batched
  | { kind: "partial"; levels: number; speedMs: number }
  | { kind: "aggTrade" }
  | { kind: "markPrice"; speedMs: number }
  | { kind: "kline"; interval: string }
  | { kind: "bookTicker" }
  | { kind: "ticker" }
  | { kind: "miniTicker" }
  | { kind: "forceOrder" };

export interface ParsedStream {
  name: string;
  /** Upper-case symbol, or "" for all-market streams (`!…@arr`). */
  symbol: string;
  spec: StreamKind;
}

const LISTEN_KEY_RE = /^[A-Za-z0-9]{32,64}$/;

export function isListenKey(name: string): boolean {
  return LISTEN_KEY_RE.test(name);
}

/** Parse a market stream name; null if it is not one we serve. */
export function parseStream(name: string): ParsedStream | null {
  if (name.length > 64) return null;
  const all: Record<string, StreamKind> = {
    "!markPrice@arr": { kind: "markPrice", speedMs: 3000 },
    "!markPrice@arr@1s": { kind: "markPrice", speedMs: 1000 },
    "!bookTicker": { kind: "bookTicker" },
    "!ticker@arr": { kind: "ticker" },
    "!miniTicker@arr": { kind: "miniTicker" },
    "!forceOrder@arr": { kind: "forceOrder" },
  };
  if (name.startsWith("!")) return all[name] ? { name, symbol: "", spec: all[name] } : null;
  const at = name.indexOf("@");
  if (at <= 0) return null;
  const sym = name.slice(0, at);
  if (!/^[a-z0-9]{2,20}$/.test(sym)) return null;
  const rest = name.slice(at + 1);
  const symbol = sym.toUpperCase();
  let spec: StreamKind | null = null;
  let m: RegExpExecArray | null;
  if (rest === "depth") spec = { kind: "depth", speedMs: 0 };
  else if ((m = /^depth@(100|250|500)ms$/.exec(rest))) spec = { kind: "depth", speedMs: Number(m[1]) };
  else if ((m = /^depth(5|10|20)(?:@(100|250|500)ms)?$/.exec(rest)))
    spec = { kind: "partial", levels: Number(m[1]), speedMs: m[2] ? Number(m[2]) : 250 };
  else if (rest === "aggTrade") spec = { kind: "aggTrade" };
  else if (rest === "markPrice") spec = { kind: "markPrice", speedMs: 3000 };
  else if (rest === "markPrice@1s") spec = { kind: "markPrice", speedMs: 1000 };
  else if ((m = /^kline_(\w+)$/.exec(rest)) && KLINE_INTERVALS[m[1]]) spec = { kind: "kline", interval: m[1] };
  else if (rest === "bookTicker") spec = { kind: "bookTicker" };
  else if (rest === "ticker") spec = { kind: "ticker" };
  else if (rest === "miniTicker") spec = { kind: "miniTicker" };
  else if (rest === "forceOrder") spec = { kind: "forceOrder" };
  return spec ? { name, symbol, spec } : null;
}
