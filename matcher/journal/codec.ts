// Journal record encoding. Place and cancel commands (the bulk) use a compact comma-separated
// form, several times cheaper than JSON both ways; every other command, and any command whose
// strings hold a separator, is "J" + JSON. Numbers are written as String(n), except -0 as "-0"
// (so decoding gives back exactly what was sent).
import type { CancelCmd, Command, OrderType, PlaceCmd } from "../engine/types";

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

/** The last strings found free of separators (accounts repeat): skips re-scanning them. */
const clean: string[] = new Array(256).fill("");
function hashSlot(v: string): number {
  return (v.length * 31 + v.charCodeAt(v.length - 1) * 7 + v.charCodeAt(v.length >> 1)) & 255;
}
function noSep(v: string): boolean {
  const n = v.length;
  if (n === 0) return true;
  const h = hashSlot(v);
  if (clean[h] === v) return true;
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c === 44 /* , */ || c === 10 /* \n */ || c === 9 /* \t */) return false;
  }
  if (n <= 128) clean[h] = v;
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

export function decodeCommand(line: string): Command {
  return decodeAt(line, 0, line.length);
}

// Field scanner over text[pos, end): fields are read in order without split() or substrings
// for numbers (digits are parsed in place; anything else goes through Number()).
let text = "";
let pos = 0;
let lim = 0;

/** End of the current field (index of the next comma, or lim). */
function fieldEnd(): number {
  const e = text.indexOf(",", pos);
  return e < 0 || e > lim ? lim : e;
}

function str(): string | undefined {
  const e = fieldEnd();
  const v = e === pos ? undefined : text.slice(pos, e);
  pos = e + 1;
  return v;
}

/**
 * Recently decoded accounts by a hash of their text: the same account decodes to the same string
 * object (no substring per record, and the engine's Map lookups hit a string whose hash is cached).
 */
const accts: string[] = new Array(4096).fill("\u0000");

function account(): string {
  const e = fieldEnd();
  const len = e - pos;
  // hash of the length and the last (at most 8) characters: enough to tell accounts apart
  // (a collision only costs a fresh substring; startsWith decides)
  let h = len;
  for (let i = e - 8 > pos ? e - 8 : pos; i < e; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  h ^= h >>> 12;
  const slot = h & 4095;
  const cand = accts[slot];
  let v: string;
  if (cand.length === len && text.startsWith(cand, pos)) v = cand;
  else {
    v = text.slice(pos, e);
    accts[slot] = v;
  }
  pos = e + 1;
  return v;
}

function reqStr(): string {
  const e = fieldEnd();
  const v = text.slice(pos, e);
  pos = e + 1;
  return v;
}

/** Number(field), undefined for an empty field; plain decimal integers are parsed in place. */
function optNumber(): number | undefined {
  const e = fieldEnd();
  if (e === pos) {
    pos = e + 1;
    return undefined;
  }
  return numberTo(e);
}

/** Number(field) (an empty field gives 0, as Number("") does). */
function reqNumber(): number {
  return numberTo(fieldEnd());
}

function numberTo(e: number): number {
  let i = pos;
  const neg = text.charCodeAt(i) === 45; /* - */
  if (neg) i++;
  let v = 0;
  if (e - i > 0 && e - i <= 15) {
    for (; i < e; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
  }
  let r: number;
  if (i === e && e - pos > (neg ? 1 : 0)) r = neg ? -v : v;
  else r = Number(text.slice(pos, e)); // exponents, fractions, NaN, Infinity, long or empty
  pos = e + 1;
  return r;
}

function optBoolean(): boolean | undefined {
  const e = fieldEnd();
  const v = e === pos ? undefined : e - pos === 1 && text.charCodeAt(pos) === 49; /* 1 */
  pos = e + 1;
  return v;
}

/** Decode the record in line[start, end) (one journal line without its inSeq and newline). */
export function decodeAt(line: string, start: number, end: number): Command {
  const k = line.charCodeAt(start);
  if (k === 74 /* J */) return JSON.parse(line.slice(start + 1, end)) as Command;
  text = line;
  pos = start + 2;
  lim = end;
  if (k === 80 /* P */ && line.charCodeAt(start + 1) === 44) {
    // the fields of placeCommand(), in its order
    const c: PlaceCmd = {
      type: "place",
      ts: reqNumber(),
      account: account(),
      market: reqNumber(),
      side: reqStr() as PlaceCmd["side"],
      orderType: reqStr() as OrderType,
      tif: str() as PlaceCmd["tif"],
      price: optNumber(),
      limitPrice: undefined, // never in the compact form (compactPlace)
      qty: reqNumber(),
      stopPrice: optNumber(),
      workingType: str() as PlaceCmd["workingType"],
      reduceOnly: optBoolean(),
      closePosition: optBoolean(),
      activationPrice: optNumber(),
      callbackRatePpm: optNumber(),
      stp: str() as PlaceCmd["stp"],
      clientOrderId: str(),
      hash: str(),
    };
    text = "";
    return c;
  }
  if (k === 67 /* C */ && line.charCodeAt(start + 1) === 44) {
    // the fields of cancelCommand(), in its order
    const c: CancelCmd = {
      type: "cancel",
      ts: reqNumber(),
      account: account(),
      market: reqNumber(),
      orderId: optNumber(),
      clientOrderId: str(),
    };
    text = "";
    return c;
  }
  text = "";
  throw new Error(`journal: unknown record kind in ${line.slice(start, Math.min(end, start + 40))}`);
}

// The same decoder over the file's bytes (UTF-8) instead of a string: no string for the whole
// file, and no substring for the fields that repeat (accounts, the enumerations).
let bytes: Buffer = Buffer.alloc(0);

/** Newlines that ended a field since the record's decode started (see decodeLine). */
let nlEnds = 0;

/**
 * End of the current field in bytes: index of the next comma or newline, or lim (lim when the
 * field would start past lim, as fieldEnd() does).
 */
function bFieldEnd(): number {
  const b = bytes;
  let i = pos;
  while (i < lim) {
    const c = b[i];
    if (c === 44) return i;
    if (c === 10) {
      nlEnds++;
      return i;
    }
    i++;
  }
  return lim;
}

/** The field's text: its bytes decoded as UTF-8 (as the string reader saw them). */
function bText(s: number, e: number): string {
  if (e <= s) return "";
  for (let i = s; i < e; i++) if (bytes[i] >= 128) return bytes.toString("utf8", s, e);
  return bytes.toString("latin1", s, e);
}

function bStr(): string | undefined {
  const e = bFieldEnd();
  const v = e === pos ? undefined : bText(pos, e);
  pos = e + 1;
  return v;
}

/** A constant with its bytes (compared byte to byte: no charCodeAt on the hot path). */
interface Const {
  s: string;
  b: Uint8Array;
}
function konst(v: string): Const {
  return { s: v, b: Buffer.from(v, "latin1") };
}
const K_BUY = konst("BUY");
const K_SELL = konst("SELL");
const K_LIMIT = konst("LIMIT");
const K_MARKET = konst("MARKET");
const K_STOP_MARKET = konst("STOP_MARKET");
const K_GTC = konst("GTC");
const K_IOC = konst("IOC");
const K_EXPIRE_MAKER = konst("EXPIRE_MAKER");
const K_NONE = konst("NONE");

/** True when bytes[s, e) equal v. */
function bIs(s: number, e: number, v: Uint8Array): boolean {
  if (e - s !== v.length) return false;
  const b = bytes;
  for (let i = 0; i < v.length; i++) if (b[s + i] !== v[i]) return false;
  return true;
}

/** A field whose usual values are the given constants (the constant's string, else its text). */
function bEnum(a: Const, b: Const, c: Const): string {
  const e = bFieldEnd();
  const s = pos;
  pos = e + 1;
  if (bIs(s, e, a.b)) return a.s;
  if (bIs(s, e, b.b)) return b.s;
  if (bIs(s, e, c.b)) return c.s;
  return bText(s, e);
}

function bOptEnum(a: Const, b: Const): string | undefined {
  const e = bFieldEnd();
  if (e === pos) {
    pos = e + 1;
    return undefined;
  }
  const s = pos;
  pos = e + 1;
  if (bIs(s, e, a.b)) return a.s;
  if (bIs(s, e, b.b)) return b.s;
  return bText(s, e);
}

/** Accounts decoded from bytes, by a hash of their bytes: the string and its bytes (ASCII only). */
const bAccts: string[] = new Array(4096).fill(""); // bAcctBytes[i] holds the bytes of bAccts[i]
const bAcctBytes: Uint8Array[] = new Array(4096).fill(new Uint8Array(0));

/** Length of the last account read (accounts usually have the same length). */
let bAcctLen = 0;

function acctSlot(s: number, e: number): number {
  let h = e - s;
  for (let i = e - 8 > s ? e - 8 : s; i < e; i++) h = (Math.imul(h, 31) + bytes[i]) | 0;
  h ^= h >>> 12;
  return h & 4095;
}

function bAccount(): string {
  const s = pos;
  // the usual length first: a cached account (no separators in it) equal to bytes[s, s+len)
  // and followed by a comma is the field, without scanning for its end
  let e = s + bAcctLen;
  if (bAcctLen > 0 && e < lim && bytes[e] === 44) {
    const slot = acctSlot(s, e);
    if (bIs(s, e, bAcctBytes[slot])) {
      pos = e + 1;
      return bAccts[slot];
    }
  }
  e = bFieldEnd();
  pos = e + 1;
  const len = e - s;
  const slot = acctSlot(s, e);
  if (bIs(s, e, bAcctBytes[slot])) return bAccts[slot];
  const v = bText(s, e);
  if (v.length === len && len > 0) {
    // ASCII: one character per byte
    bAccts[slot] = v;
    bAcctBytes[slot] = Uint8Array.prototype.slice.call(bytes, s, e);
    bAcctLen = len;
  }
  return v;
}

function bOptNumber(): number | undefined {
  const e = bFieldEnd();
  if (e === pos) {
    pos = e + 1;
    return undefined;
  }
  return bNumberTo(e);
}

function bReqNumber(): number {
  return bNumberTo(bFieldEnd());
}

function bNumberTo(e: number): number {
  const b = bytes;
  let i = pos;
  const neg = b[i] === 45; /* - */
  if (neg) i++;
  let v = 0;
  if (e - i > 0 && e - i <= 15) {
    for (; i < e; i++) {
      const d = b[i] - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
  }
  let r: number;
  if (i === e && e - pos > (neg ? 1 : 0)) r = neg ? -v : v;
  else r = Number(bText(pos, e)); // exponents, fractions, NaN, Infinity, long or empty
  pos = e + 1;
  return r;
}

function bOptBoolean(): boolean | undefined {
  const e = bFieldEnd();
  const v = e === pos ? undefined : e - pos === 1 && bytes[pos] === 49; /* 1 */
  pos = e + 1;
  return v;
}

/**
 * Decode the record in buf[start, end) (one journal line's UTF-8 without its inSeq and newline):
 * the same command as decodeAt() on the decoded text.
 */
export function decodeBytes(buf: Buffer, start: number, end: number): Command {
  const k = buf[start];
  if (k === 74 /* J */) return JSON.parse(buf.toString("utf8", start + 1, end)) as Command;
  bytes = buf;
  pos = start + 2;
  lim = end;
  if (k === 80 /* P */ && buf[start + 1] === 44) {
    // the fields of placeCommand(), in its order
    const c: PlaceCmd = {
      type: "place",
      ts: bReqNumber(),
      account: bAccount(),
      market: bReqNumber(),
      side: bEnum(K_BUY, K_SELL, K_BUY) as PlaceCmd["side"],
      orderType: bEnum(K_LIMIT, K_MARKET, K_STOP_MARKET) as OrderType,
      tif: bOptEnum(K_GTC, K_IOC) as PlaceCmd["tif"],
      price: bOptNumber(),
      limitPrice: undefined, // never in the compact form (compactPlace)
      qty: bReqNumber(),
      stopPrice: bOptNumber(),
      workingType: bStr() as PlaceCmd["workingType"],
      reduceOnly: bOptBoolean(),
      closePosition: bOptBoolean(),
      activationPrice: bOptNumber(),
      callbackRatePpm: bOptNumber(),
      stp: bOptEnum(K_EXPIRE_MAKER, K_NONE) as PlaceCmd["stp"],
      clientOrderId: bStr(),
      hash: bStr(),
    };
    return c;
  }
  if (k === 67 /* C */ && buf[start + 1] === 44) {
    // the fields of cancelCommand(), in its order
    const c: CancelCmd = {
      type: "cancel",
      ts: bReqNumber(),
      account: bAccount(),
      market: bReqNumber(),
      orderId: bOptNumber(),
      clientOrderId: bStr(),
    };
    return c;
  }
  throw new Error(`journal: unknown record kind in ${buf.toString("utf8", start, Math.min(end, start + 40))}`);
}

/** End (the newline) of the line decodeLine() read last. */
let lineEnd = 0;

/**
 * A compact place or cancel record starting at buf[start] (its kind byte), whose line ends
 * somewhere before `have`: decoded in one pass (the newline found by the last field), the same
 * command as decodeBytes(buf, start, newline). null when that is not certain (another kind, a
 * line with more or fewer fields, no newline before `have`): then find the newline and use
 * decodeBytes. Sets lineEnd.
 */
export function decodeLine(buf: Buffer, start: number, have: number): Command | null {
  const k = buf[start];
  if ((k !== 80 && k !== 67) || buf[start + 1] !== 44) return null;
  nlEnds = 0;
  const c = decodeBytes(buf, start, have);
  // exactly one field (the last) ended at a newline
  if (nlEnds !== 1 || pos - 1 >= have || buf[pos - 1] !== 10) return null;
  lineEnd = pos - 1;
  return c;
}

/**
 * Apply fn to the complete lines in buf[0, have) with inSeq > from (r.last: the last inSeq read);
 * returns where the incomplete rest starts. A plain function, so the JIT optimizes it as a whole
 * (the async reader around it resumes once per chunk).
 */
export function replayLines(
  buf: Buffer,
  have: number,
  from: number,
  r: { last: number },
  fn: (inSeq: number, cmd: Command) => void,
): number {
  let pos = 0;
  let last = r.last;
  for (;;) {
    // the common line: inSeq, tab, a compact record read in one pass (decodeLine)
    let tab = pos;
    while (tab < have) {
      const c = buf[tab];
      if (c === 9 || c === 10) break;
      tab++;
    }
    if (tab < have && buf[tab] === 9) {
      const inSeq = parseSeqBytes(buf, pos, tab);
      if (inSeq > from && inSeq === last + 1) {
        const cmd = decodeLine(buf, tab + 1, have);
        if (cmd !== null) {
          fn(inSeq, cmd);
          last = inSeq;
          r.last = last;
          pos = lineEnd + 1;
          continue;
        }
      }
    }
    // any other line: find its end first
    let nl = pos;
    tab = -1;
    while (nl < have) {
      const c = buf[nl];
      if (c === 10) break;
      if (c === 9 && tab < 0) tab = nl;
      nl++;
    }
    if (nl === have) break; // no complete line left in this chunk
    if (tab < 0) tab = nl;
    const inSeq = parseSeqBytes(buf, pos, tab);
    if (inSeq > from) {
      if (inSeq !== last + 1) throw new Error(`journal gap: ${last} -> ${inSeq}`);
      fn(inSeq, decodeBytes(buf, tab + 1, nl));
      last = inSeq;
      r.last = last;
    }
    pos = nl + 1;
  }
  return pos;
}

/** inSeq of a journal line: the decimal digits in buf[start, end). */
export function parseSeqBytes(buf: Buffer, start: number, end: number): number {
  if (end - start > 15 || end <= start) return parseInt(buf.toString("utf8", start, end), 10);
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return parseInt(buf.toString("utf8", start, end), 10);
    v = v * 10 + d;
  }
  return v;
}

/** inSeq of a journal line: the decimal digits in text[start, end). */
export function parseSeq(text: string, start: number, end: number): number {
  if (end - start > 15 || end <= start) return parseInt(text.slice(start, end), 10);
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return parseInt(text.slice(start, end), 10);
    v = v * 10 + d;
  }
  return v;
}

/**
 * Journal records written straight into a Buffer: the same bytes as
 * Buffer.from(`${inSeq}\t${encodeCommand(cmd)}\n`) without building the strings (integers are
 * written digit by digit, ASCII strings byte by byte). Two buffers alternate: take() hands out
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
      this.str(c.side);
      this.byte(44);
      this.str(c.orderType);
      this.byte(44);
      this.optStr(c.tif);
      this.byte(44);
      this.optNum(c.price);
      this.byte(44);
      this.num(c.qty);
      this.byte(44);
      this.optNum(c.stopPrice);
      this.byte(44);
      this.optStr(c.workingType);
      this.byte(44);
      this.bool(c.reduceOnly);
      this.byte(44);
      this.bool(c.closePosition);
      this.byte(44);
      this.optNum(c.activationPrice);
      this.byte(44);
      this.optNum(c.callbackRatePpm);
      this.byte(44);
      this.optStr(c.stp);
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
    for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
    let i = this.len + n;
    this.len = i;
    do {
      const q = Math.floor(v / 10);
      b[--i] = 48 + (v - q * 10);
      v = q;
    } while (v > 0);
  }

  private str(s: string): void {
    const n = s.length;
    this.room(n * 3);
    const b = this.buf;
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
