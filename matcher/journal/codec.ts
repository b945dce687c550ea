// Journal record encoding (decode.ts reads it back). Place and cancel commands (the bulk) use a
// compact comma-separated form, several times cheaper than JSON both ways; every other command, and
// any command whose strings hold a separator, is "J" + JSON. Numbers are written as String(n),
// except -0 as "-0" (so decoding gives back exactly what was sent).
import * as ty from "../engine/types";
import type { Command, PlaceCmd } from "../engine/types";

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
const word = (v: unknown): boolean => typeof v === "string" && noSep(v);
const optStr = (v: unknown): boolean => v === undefined || (typeof v === "string" && v !== "" && noSep(v));
// the enumerations: known values first (no scan), anything else checked like any string
const side = (v: unknown): boolean => v === "BUY" || v === "SELL" || word(v);
const otype = (v: unknown): boolean => v === "LIMIT" || v === "MARKET" || v === "STOP_MARKET" || word(v);
const tifOk = (v: unknown): boolean => v === undefined || v === "GTC" || v === "IOC" || optStr(v);
const stpOk = (v: unknown): boolean => v === undefined || v === "EXPIRE_MAKER" || v === "NONE" || optStr(v);

/** Only well-typed commands take the compact form, so decoding gives back exactly what was sent. */
function compactPlace(c: PlaceCmd): boolean {
  return (
    isNum(c.ts) &&
    word(c.account) &&
    isNum(c.market) &&
    side(c.side) &&
    otype(c.orderType) &&
    tifOk(c.tif) &&
    optNum(c.price) &&
    isNum(c.qty) &&
    optNum(c.stopPrice) &&
    optStr(c.workingType) &&
    optBool(c.reduceOnly) &&
    optBool(c.closePosition) &&
    optNum(c.activationPrice) &&
    optNum(c.callbackRatePpm) &&
    stpOk(c.stp) &&
    optStr(c.clientOrderId) &&
    optStr(c.hash) &&
    // the compact line has no field for it (kept compatible with journals already written): JSON form
    c.limitPrice === undefined
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
    if (!isNum(c.ts) || !word(c.account) || !isNum(c.market) || !optNum(c.orderId) || !optStr(c.clientOrderId))
      return "J" + JSON.stringify(c);
    return "C," + num(c.ts) + "," + c.account + "," + num(c.market) + "," + n(c.orderId) + "," + s(c.clientOrderId);
  }
  return "J" + JSON.stringify(c);
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

/**
 * Journal records written straight into a Buffer: the same bytes as
 * Buffer.from(`${inSeq}\t${encodeCommand(cmd)}\n`) without building the strings (integers digit by
 * digit, enumeration values from byte tables, short strings byte by byte, longer ones by the native
 * UTF-8 encoder). Two buffers alternate: take() hands out
 * the filled one, which stays untouched until the next take() (one write in flight at a time).
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

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** A journal line: inSeq, tab, the line's UTF-8, newline. */
  line(inSeq: number, line: string): void {
    this.int(inSeq);
    this.byte(9);
    this.str(line);
    this.byte(10);
  }

  /** Same bytes as line(inSeq, encodeCommand(c)). */
  command(inSeq: number, c: Command): void {
    if (c.type === "place" && compactPlace(c)) {
      this.int(inSeq);
      this.byte(9);
      this.byte(80); // P
      this.byte(44);
      this.num(c.ts);
      this.byte(44);
      this.str(c.account);
      this.byte(44);
      this.num(c.market);
      this.byte(44);
      this.enumeration(SIDE_BYTES, c.side);
      this.byte(44);
      this.enumeration(TYPE_BYTES, c.orderType);
      this.byte(44);
      if (c.tif !== undefined) this.enumeration(TIF_BYTES, c.tif);
      this.byte(44);
      this.optNum(c.price);
      this.byte(44);
      this.num(c.qty);
      this.byte(44);
      this.optNum(c.stopPrice);
      this.byte(44);
      if (c.workingType !== undefined) this.enumeration(WORKING_BYTES, c.workingType);
      this.byte(44);
      this.bool(c.reduceOnly);
      this.byte(44);
      this.bool(c.closePosition);
      this.byte(44);
      this.optNum(c.activationPrice);
      this.byte(44);
      this.optNum(c.callbackRatePpm);
      this.byte(44);
      if (c.stp !== undefined) this.enumeration(STP_BYTES, c.stp);
      this.byte(44);
      this.optStr(c.clientOrderId);
      this.byte(44);
      this.optStr(c.hash);
      this.byte(10);
      return;
    }
    if (
      c.type === "cancel" &&
      isNum(c.ts) &&
      word(c.account) &&
      isNum(c.market) &&
      optNum(c.orderId) &&
      optStr(c.clientOrderId)
    ) {
      this.int(inSeq);
      this.byte(9);
      this.byte(67); // C
      this.byte(44);
      this.num(c.ts);
      this.byte(44);
      this.str(c.account);
      this.byte(44);
      this.num(c.market);
      this.byte(44);
      this.optNum(c.orderId);
      this.byte(44);
      this.optStr(c.clientOrderId);
      this.byte(10);
      return;
    }
    this.line(inSeq, encodeCommand(c));
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  private bool(v: boolean | undefined): void {
    if (v !== undefined) this.byte(v ? 49 : 48);
  }

  private optStr(v: string | undefined): void {
    if (v !== undefined) this.str(v);
  }

  private optNum(v: number | undefined): void {
    if (v !== undefined) this.num(v);
  }

  /** String(v) ("-0" for -0). */
  private num(v: number): void {
    if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) this.int(v);
    else this.str(num(v));
  }

  /** A safe integer in decimal. */
  private int(v: number): void {
    this.room(17);
    const b = this.buf;
    if (v < 0) {
      b[this.len++] = 45;
      v = -v;
    }
    let n = 1;
    for (let t = 10; t <= v && n < 16; t *= 10) n++; // digits (10^15 < 2^53 < 10^16: 16 at most)
    let i = this.len + n;
    this.len = i;
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
  }

  /** An enumeration field: a known value's bytes copied from `table`, any other text as str() writes it. */
  private enumeration(table: EnumBytes, s: string): void {
    const vals = table.values;
    for (let k = 0; k < vals.length; k++) {
      if (vals[k] !== s) continue;
      const bytes = table.bytes[k];
      const n = bytes.length;
      this.room(n);
      const b = this.buf;
      const p = this.len;
      for (let i = 0; i < n; i++) b[p + i] = bytes[i];
      this.len = p + n;
      return;
    }
    this.str(s);
  }

  private str(s: string): void {
    const n = s.length;
    this.room(n * 3);
    const b = this.buf;
    // longer strings (accounts) through the native encoder: cheaper than a JS loop over 42 characters
    if (n > 16) {
      this.len += b.write(s, this.len, "utf8");
      return;
    }
    let p = this.len;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128) {
        this.len += b.write(s, this.len, "utf8");
        return;
      }
      b[p++] = c;
    }
    this.len = p;
  }
}
