// Journal record encoding (decode.ts reads it back). Place and cancel commands (the bulk) use a
// compact comma-separated form, several times cheaper than JSON both ways; every other command, and
// any command whose strings hold a separator, is "J" + JSON. Numbers are written as String(n),
// except -0 as "-0" (so decoding gives back exactly what was sent).
import * as ty from "../engine/types";
import type { CancelCmd, Command, PlaceCmd } from "../engine/types";

// imported bindings copied into module constants (tsx's CommonJS output reads imports through getters)
const { ORDER_TYPES, SIDES, STP_MODES, TIME_IN_FORCES, WORKING_TYPES } = ty;

function s(v: string | undefined): string {
  return v === undefined ? "" : v;
}
/** String(v), but "-0" for -0. */
function num(v: number): string {
  return v === 0 && 1 / v < 0 ? "-0" : String(v);
}
function n(v: number | undefined): string {
  return v === undefined ? "" : num(v);
}
function b(v: boolean | undefined): string {
  return v === undefined ? "" : v ? "1" : "0";
}

const isNum = (v: unknown): boolean => typeof v === "number";
const optNum = (v: unknown): boolean => v === undefined || typeof v === "number";
const optBool = (v: unknown): boolean => v === undefined || typeof v === "boolean";

/**
 * Strings found free of separators (accounts repeat): a lookup by the string's cached hash instead
 * of a scan of its characters. Bounded: cleared when full (client order ids are any text).
 */
const clean = new Set<string>();
const CLEAN_MAX = 1 << 16;
function noSep(v: string): boolean {
  const n = v.length;
  if (n === 0 || clean.has(v)) return true;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c === 44 /* , */ || c === 10 /* \n */ || c === 9 /* \t */) return false;
  }
  if (n <= 128) {
    if (clean.size >= CLEAN_MAX) clean.clear();
    clean.add(v);
  }
  return true;
}
/** An optional string field's separator check (its type is placeTyped's / cancelTyped's). */
const optNoSep = (v: string | undefined): boolean => v === undefined || noSep(v);

/** Only well-typed commands free of separators take the compact form, so decoding gives back exactly what was sent. */
function compactPlace(c: PlaceCmd): boolean {
  return (
    placeTyped(c) &&
    noSep(c.account) &&
    noSep(c.side) &&
    noSep(c.orderType) &&
    optNoSep(c.tif) &&
    optNoSep(c.workingType) &&
    optNoSep(c.stp) &&
    optNoSep(c.clientOrderId) &&
    optNoSep(c.hash)
  );
}

export function encodeCommand(c: Command): string {
  if (c.type === "place") {
    if (!compactPlace(c)) return "J" + JSON.stringify(c);
    return (
      "P," +
      num(c.ts) +
      "," +
      c.account +
      "," +
      num(c.market) +
      "," +
      c.side +
      "," +
      c.orderType +
      "," +
      s(c.tif) +
      "," +
      n(c.price) +
      "," +
      num(c.qty) +
      "," +
      n(c.stopPrice) +
      "," +
      s(c.workingType) +
      "," +
      b(c.reduceOnly) +
      "," +
      b(c.closePosition) +
      "," +
      n(c.activationPrice) +
      "," +
      n(c.callbackRatePpm) +
      "," +
      s(c.stp) +
      "," +
      s(c.clientOrderId) +
      "," +
      s(c.hash)
    );
  }
  if (c.type === "cancel") {
    if (!cancelTyped(c) || !noSep(c.account) || !optNoSep(c.clientOrderId)) return "J" + JSON.stringify(c);
    return "C," + num(c.ts) + "," + c.account + "," + num(c.market) + "," + n(c.orderId) + "," + s(c.clientOrderId);
  }
  return "J" + JSON.stringify(c);
}

/**
 * The compact place form's type checks: its strings must also be free of separators (compactPlace; the
 * Buffer writer checks them as it writes them).
 */
function placeTyped(c: PlaceCmd): boolean {
  return (
    isNum(c.ts) &&
    typeof c.account === "string" &&
    isNum(c.market) &&
    typeof c.side === "string" &&
    typeof c.orderType === "string" &&
    optText(c.tif) &&
    optNum(c.price) &&
    isNum(c.qty) &&
    optNum(c.stopPrice) &&
    optText(c.workingType) &&
    optBool(c.reduceOnly) &&
    optBool(c.closePosition) &&
    optNum(c.activationPrice) &&
    optNum(c.callbackRatePpm) &&
    optText(c.stp) &&
    optText(c.clientOrderId) &&
    optText(c.hash) &&
    // the compact line has no field for it (kept compatible with journals already written): JSON form
    c.limitPrice === undefined
  );
}

/** The compact cancel form's type checks (its strings must also be free of separators). */
function cancelTyped(c: CancelCmd): boolean {
  return (
    isNum(c.ts) && typeof c.account === "string" && isNum(c.market) && optNum(c.orderId) && optText(c.clientOrderId)
  );
}

/** An optional string field of the compact form: absent, or a non-empty string (empty reads back as absent). */
const optText = (v: unknown): boolean => v === undefined || (typeof v === "string" && v !== "");
/** Length of an optional string field (0 when absent). */
const len = (v: string | undefined): number => (v === undefined ? 0 : v.length);

/**
 * Bytes of a record's parts other than its strings, at most: inSeq and up to 7 numbers of at most 25
 * characters each (String(-0.0000012345678901234567)), 18 commas, tab, kind, 2 flags and newline.
 */
const FIXED_MAX = 32 + 9 * 26;

/**
 * Journal records written straight into a Buffer: the same bytes as
 * Buffer.from(`${inSeq}\t${encodeCommand(cmd)}\n`) without building the strings. A record's room is
 * reserved once, then it is written field by field (integers digit by digit, ASCII strings character by
 * character, checked for separators as they are copied; other strings by the native UTF-8 encoder). A
 * string holding a separator rolls the record back and writes the JSON form instead, as encodeCommand
 * does. Two buffers alternate: take() hands out the filled one, which stays untouched until the next
 * take() (one write in flight at a time).
 */
export class RecordWriter {
  private buf: Buffer;
  private other: Buffer;
  private len = 0;

  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
    this.other = Buffer.allocUnsafe(size);
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written since the last take(); writing continues in the other buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    const b = this.buf;
    this.buf = this.other;
    this.other = b;
    this.len = 0;
    return out;
  }

  /** Room for n more bytes (the buffer doubled as needed); returns the buffer to write into. */
  private room(n: number): Buffer {
    if (this.len + n <= this.buf.length) return this.buf;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
    return nb;
  }

  /** A journal line: inSeq, tab, the line's UTF-8, newline. */
  line(inSeq: number, line: string): void {
    const b = this.room(20 + 3 * line.length);
    let p = putInt(b, this.len, inSeq);
    b[p++] = 9;
    p = putText(b, p, line, false);
    b[p++] = 10;
    this.len = p;
  }

  /** Same bytes as line(inSeq, encodeCommand(c)). */
  command(inSeq: number, c: Command): void {
    let p = -1;
    if (c.type === "place" && placeTyped(c)) p = this.place(inSeq, c);
    else if (c.type === "cancel" && cancelTyped(c)) p = this.cancel(inSeq, c);
    if (p >= 0) this.len = p;
    else this.line(inSeq, encodeCommand(c)); // not compact: nothing was kept of the attempt
  }

  /**
   * What place and cancel records start with, at len (room reserved): inSeq, tab, kind, then ts, account
   * and market, each followed by a comma. Returns the end, or -1 when the account holds a separator.
   */
  private head(b: Buffer, inSeq: number, kind: number, c: { ts: number; account: string; market: number }): number {
    let p = putInt(b, this.len, inSeq);
    b[p++] = 9;
    b[p++] = kind;
    b[p++] = 44;
    p = putNum(b, p, c.ts);
    b[p++] = 44;
    if ((p = putText(b, p, c.account, true)) < 0) return -1;
    b[p++] = 44;
    p = putNum(b, p, c.market);
    b[p++] = 44;
    return p;
  }

  /** The compact place record at len; returns the end, or -1 when a string holds a separator. */
  private place(inSeq: number, c: PlaceCmd): number {
    const text =
      c.account.length +
      c.side.length +
      c.orderType.length +
      len(c.tif) +
      len(c.workingType) +
      len(c.stp) +
      len(c.clientOrderId) +
      len(c.hash);
    const b = this.room(FIXED_MAX + 3 * text);
    let p = this.head(b, inSeq, 80 /* P */, c);
    if (p < 0) return -1;
    if ((p = putEnum(b, p, SIDE_BYTES, c.side)) < 0) return -1;
    b[p++] = 44;
    if ((p = putEnum(b, p, TYPE_BYTES, c.orderType)) < 0) return -1;
    b[p++] = 44;
    if (c.tif !== undefined && (p = putEnum(b, p, TIF_BYTES, c.tif)) < 0) return -1;
    b[p++] = 44;
    if (c.price !== undefined) p = putNum(b, p, c.price);
    b[p++] = 44;
    p = putNum(b, p, c.qty);
    b[p++] = 44;
    if (c.stopPrice !== undefined) p = putNum(b, p, c.stopPrice);
    b[p++] = 44;
    if (c.workingType !== undefined && (p = putEnum(b, p, WORKING_BYTES, c.workingType)) < 0) return -1;
    b[p++] = 44;
    if (c.reduceOnly !== undefined) b[p++] = c.reduceOnly ? 49 : 48;
    b[p++] = 44;
    if (c.closePosition !== undefined) b[p++] = c.closePosition ? 49 : 48;
    b[p++] = 44;
    if (c.activationPrice !== undefined) p = putNum(b, p, c.activationPrice);
    b[p++] = 44;
    if (c.callbackRatePpm !== undefined) p = putNum(b, p, c.callbackRatePpm);
    b[p++] = 44;
    if (c.stp !== undefined && (p = putEnum(b, p, STP_BYTES, c.stp)) < 0) return -1;
    b[p++] = 44;
    if (c.clientOrderId !== undefined && (p = putText(b, p, c.clientOrderId, true)) < 0) return -1;
    b[p++] = 44;
    if (c.hash !== undefined && (p = putText(b, p, c.hash, true)) < 0) return -1;
    b[p++] = 10;
    return p;
  }

  /** The compact cancel record at len; returns the end, or -1 when a string holds a separator. */
  private cancel(inSeq: number, c: CancelCmd): number {
    const b = this.room(FIXED_MAX + 3 * (c.account.length + len(c.clientOrderId)));
    let p = this.head(b, inSeq, 67 /* C */, c);
    if (p < 0) return -1;
    if (c.orderId !== undefined) p = putNum(b, p, c.orderId);
    b[p++] = 44;
    if (c.clientOrderId !== undefined && (p = putText(b, p, c.clientOrderId, true)) < 0) return -1;
    b[p++] = 10;
    return p;
  }
}

/** An enumeration's values and their (ASCII) bytes. */
interface EnumBytes {
  values: readonly string[];
  bytes: readonly Uint8Array[];
}
const enumBytes = (values: readonly string[]): EnumBytes => ({
  values,
  bytes: values.map((v) => Buffer.from(v, "latin1")),
});
const SIDE_BYTES = enumBytes(SIDES);
const TYPE_BYTES = enumBytes(ORDER_TYPES);
const TIF_BYTES = enumBytes(TIME_IN_FORCES);
const WORKING_BYTES = enumBytes(WORKING_TYPES);
const STP_BYTES = enumBytes(STP_MODES);

/** An enumeration field at p: a known value's bytes from `table`, any other text as putText (checked). */
function putEnum(b: Buffer, p: number, table: EnumBytes, s: string): number {
  const vals = table.values;
  for (let k = 0; k < vals.length; k++) {
    if (vals[k] !== s) continue;
    const t = table.bytes[k];
    const n = t.length;
    for (let i = 0; i < n; i++) b[p + i] = t[i];
    return p + n;
  }
  return putText(b, p, s, true);
}

/** String(v) ("-0" for -0) at p; returns the end (25 bytes at most). */
function putNum(b: Buffer, p: number, v: number): number {
  if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) return putInt(b, p, v);
  return putText(b, p, num(v), false);
}

/** A safe integer in decimal at p; returns the end (17 bytes at most). */
function putInt(b: Buffer, p: number, v: number): number {
  if (v < 0) {
    b[p++] = 45;
    v = -v;
  }
  let n = 1;
  for (let t = 10; t <= v && n < 16; t *= 10) n++; // digits (10^15 < 2^53 < 10^16: 16 at most)
  const end = p + n;
  let i = end;
  // high digits in double arithmetic down to 31 bits, then integer arithmetic (cheaper than Math.floor)
  while (v > 0x7fffffff) {
    const q = Math.floor(v / 10);
    b[--i] = 48 + (v - q * 10);
    v = q;
  }
  let w = v | 0;
  do {
    const q = (w / 10) | 0;
    b[--i] = 48 + (w - q * 10);
    w = q;
  } while (w > 0);
  return end;
}

/**
 * UTF-8 of longer strings found free of separators (null: holds one), by the string's cached hash: an
 * account repeats on every record, and copying its bytes beats re-reading its characters (a string
 * built by concatenation is a rope, and charCodeAt on it costs several times a flat string's).
 * Bounded: cleared when full (client order ids are any text).
 */
const textCache = new Map<string, Uint8Array | null>();
const TEXT_CACHE_MAX = 1 << 14;
function cachedText(s: string): Uint8Array | null {
  let t = textCache.get(s);
  if (t === undefined) {
    t = noSep(s) ? Buffer.from(s, "utf8") : null;
    if (textCache.size >= TEXT_CACHE_MAX) textCache.clear();
    textCache.set(s, t);
  }
  return t;
}

/**
 * s's UTF-8 at p (room for 3 bytes per character reserved); returns the end, or -1 when `checked` and
 * s holds a separator (, \n \t). Checked strings over 16 characters are copied from textCache; other
 * ASCII character by character; anything else goes through Buffer.write.
 */
function putText(b: Buffer, p: number, s: string, checked: boolean): number {
  const n = s.length;
  if (checked && n > 16) {
    const t = cachedText(s);
    if (t === null) return -1;
    const m = t.length;
    for (let i = 0; i < m; i++) b[p + i] = t[i];
    return p + m;
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) {
      if (checked && !noSep(s)) return -1;
      return p + b.write(s, p, "utf8");
    }
    if (checked && (c === 44 || c === 10 || c === 9)) return -1;
    b[p + i] = c;
  }
  return p + n;
}
