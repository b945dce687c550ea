// Journal decoding: lines `<inSeq>\t<record>\n` (codec.ts writes them) are read straight from
// their bytes into packed records (replayRecords.ts), with no string per line or per field and no
// command object on the way; unpackBatch makes the commands where they are applied. Decoding gives
// back exactly what was encoded: numbers by Number()'s rules (plain integers are parsed in place),
// strings as their UTF-8 text, enumeration values as the literal constants of engine/types.ts.
// Measured on the benchmark journal (1M commands, 95 MB): ~0.4 µs a command, where decoding 64 KB
// strings into command objects and packing those took ~1.4 µs (a replay worker was then slower than
// the engine applying what it decoded).
import * as ty from "../engine/types";
import type { Command } from "../engine/types";
import * as rr from "./replayRecords";
import type { PackedBatch } from "./replayRecords";

// Imported bindings copied into module constants: tsx's CommonJS output reads every imported name
// through getters, which cost a third of the decoding time here.
const { ORDER_TYPES, SIDES, STP_MODES, TIME_IN_FORCES, WORKING_TYPES } = ty;
const { HAS_ACTIVATION, HAS_CALLBACK, HAS_ORDER_ID, HAS_PRICE, HAS_STOP, KIND_CANCEL, KIND_JSON, KIND_PLACE } = rr;
const { STRIDE, TEXT, UNDEF, unpackBatch } = rr;

// The line being decoded is buf[pos, lim): fields end at a comma, the last one at the newline. lim
// starts at the end of the bytes (which end with a newline) and becomes the newline's index when a
// field reaches it; after the last field pos must be lim + 1 (a record with fewer or more fields
// than its kind has is refused). Each byte is read once on the common path (no separate search
// for the line's end, numbers parsed while their field is scanned).
const EMPTY = Buffer.alloc(0);
let buf: Buffer = EMPTY;
/** buf's bytes as a DataView (4-byte reads at any offset) */
let view = new DataView(buf.buffer);
let pos = 0;
let lim = 0;

/** End of the current field: the next comma or newline (lim becomes the newline's index). */
function fieldEnd(): number {
  let p = pos;
  for (; p < lim; p++) {
    const c = buf[p];
    if (c === 44) return p;
    if (c === 10) {
      lim = p;
      return p;
    }
  }
  return p;
}

/** UTF-8 text of buf[s, e). */
function text(s: number, e: number): string {
  return buf.toString("utf8", s, e);
}

/** Whether the last number field read was not empty. */
let present = false;

/**
 * Number(field text): plain decimal integers (up to 15 digits, an optional minus) are parsed as the
 * field is scanned, anything else (exponents, fractions, NaN, longer) through Number(); an empty
 * field gives 0 (as Number("") does) with `present` false.
 */
function numberField(): number {
  const s = pos;
  let p = s;
  const neg = p < lim && buf[p] === 45; /* - */
  if (neg) p++;
  const d0 = p;
  let v = 0;
  for (; p < lim; p++) {
    const d = buf[p] - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  if (p < lim && p - d0 <= 15) {
    const c = buf[p];
    if (c === 44 || c === 10) {
      const digits = p > d0;
      if (digits || !neg) {
        if (c === 10) lim = p;
        pos = p + 1;
        present = digits;
        return neg ? -v : v; // (no digits: an empty field, 0 as Number("") gives)
      }
    }
  }
  const e = fieldEnd();
  present = e > s;
  const r = Number(text(s, e));
  pos = e + 1;
  return r;
}

/** 1, 0, or UNDEF for an empty field. */
function optBoolean(): number {
  const e = fieldEnd();
  const v = e === pos ? UNDEF : e - pos === 1 && buf[pos] === 49 /* 1 */ ? 1 : 0;
  pos = e + 1;
  return v;
}

/** The index of the line's end (its newline) from p, for lines not decoded field by field. */
function lineEnd(p: number): number {
  const nl = buf.indexOf(10, p);
  return nl < 0 || nl > lim ? lim : nl;
}

/**
 * Recently decoded accounts by a hash of their bytes, so the same account is one string (and one
 * entry of a batch's table) without decoding or hashing it as a string each time: bytes equal to a
 * slot's bytes decode to the slot's string.
 */
const ACCT_SLOTS = 4096;
const ACCT_MAX = 64; // longer ones are not cached
const acctWords = new Int32Array((ACCT_SLOTS * ACCT_MAX) / 4);
const acctBytes = new Uint8Array(acctWords.buffer);
const acctLen = new Int32Array(ACCT_SLOTS).fill(-1);
const acctText: string[] = new Array<string>(ACCT_SLOTS).fill("");
/** the string's index in batch acctGen[slot]'s table */
const acctIndex = new Int32Array(ACCT_SLOTS);
const acctGen = new Int32Array(ACCT_SLOTS);
/** batch generations: unique across decoders, so a slot never answers for another batch */
let generations = 0;

/** Packs the records of journal lines into batches of `batchSize`, handing each to onBatch as it fills. */
export class RecordDecoder {
  private records: Float64Array;
  private n = 0;
  private strings: string[] = [];
  private ids = new Map<string, number>();
  private gen = ++generations;

  constructor(
    readonly batchSize: number,
    private readonly onBatch: (b: PackedBatch) => void,
  ) {
    this.records = new Float64Array(batchSize * STRIDE);
  }

  /**
   * Decodes the whole lines of bytes[start, end) (a partial last line is left) whose inSeq is above
   * `from`, each of which must follow `last` (a gap throws); returns the last inSeq. Records decoded
   * before an error are handed over before it is thrown.
   */
  decode(bytes: Buffer, start: number, end: number, from: number, last: number): number {
    // whole lines only: up to the last newline
    const stop = bytes.lastIndexOf(10, end - 1) + 1;
    if (stop <= start) return last;
    buf = bytes;
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      pos = start;
      while (pos < stop) {
        lim = stop;
        const inSeq = parseSeq();
        if (inSeq > from) {
          if (inSeq !== last + 1) throw new Error(`journal gap: ${last} -> ${inSeq}`);
          this.record(inSeq);
          last = inSeq;
        } else pos = lineEnd(pos) + 1;
      }
    } catch (err) {
      this.flush();
      throw err;
    } finally {
      buf = EMPTY;
      view = EMPTY_VIEW;
    }
    return last;
  }

  /** Hands over the records decoded so far, if any. */
  flush(): void {
    if (this.n === 0) return;
    const b: PackedBatch = { records: this.records, n: this.n, strings: this.strings };
    this.records = new Float64Array(this.batchSize * STRIDE);
    this.n = 0;
    this.strings = [];
    this.ids = new Map();
    this.gen = ++generations;
    this.onBatch(b);
  }

  private str(v: string): number {
    let i = this.ids.get(v);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(v);
      this.ids.set(v, i);
    }
    return i;
  }

  /** The field as a string index, UNDEF when empty. */
  private optStr(): number {
    const s = pos;
    const e = fieldEnd();
    pos = e + 1;
    return e === s ? UNDEF : this.str(text(s, e));
  }

  /** The field's index in `values`, or TEXT + its string's index for any other text. */
  private known(values: readonly string[]): number {
    const s = pos;
    for (let k = 0; k < values.length; k++) {
      const v = values[k];
      const len = v.length;
      if (s + len >= lim) continue;
      const c = buf[s + len];
      if (c !== 44 && c !== 10) continue;
      let i = 0;
      while (i < len && v.charCodeAt(i) === buf[s + i]) i++;
      if (i === len) {
        if (c === 10) lim = s + len;
        pos = s + len + 1;
        return k;
      }
    }
    const e = fieldEnd();
    pos = e + 1;
    return TEXT + this.str(text(s, e));
  }

  /** As known(), UNDEF when empty. */
  private optKnown(values: readonly string[]): number {
    if (pos < lim) {
      const c = buf[pos];
      if (c !== 44 && c !== 10) return this.known(values);
      if (c === 10) lim = pos;
    }
    pos++;
    return UNDEF;
  }

  private account(): number {
    const s = pos;
    let p = s;
    let h = 0;
    for (; p < lim; p++) {
      const c = buf[p];
      if (c === 44 || c === 10) break;
      h = (Math.imul(h, 31) + c) | 0;
    }
    if (p < lim && buf[p] === 10) lim = p;
    pos = p + 1;
    const len = p - s;
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    const slot = (h ^ (h >>> 16)) & (ACCT_SLOTS - 1);
    if (acctLen[slot] === len) {
      // compare 4 bytes at a time (a DataView read is inlined: ~15% of the whole decode against bytes), then the rest
      const dv = view;
      const w0 = (slot * ACCT_MAX) >> 2;
      let k = 0;
      for (; k + 4 <= len; k += 4) if (dv.getInt32(s + k, true) !== acctWords[w0 + (k >> 2)]) break;
      if (k + 4 > len) {
        const b0 = slot * ACCT_MAX;
        while (k < len && acctBytes[b0 + k] === buf[s + k]) k++;
      }
      if (k === len) {
        if (acctGen[slot] === this.gen) return acctIndex[slot];
        return this.slotIndex(slot);
      }
    }
    const v = text(s, p);
    if (len > ACCT_MAX) return this.str(v);
    acctBytes.set(buf.subarray(s, p), slot * ACCT_MAX);
    acctLen[slot] = len;
    acctText[slot] = v;
    return this.slotIndex(slot);
  }

  /** The index of slot's account in this batch's table. */
  private slotIndex(slot: number): number {
    const i = this.str(acctText[slot]);
    acctIndex[slot] = i;
    acctGen[slot] = this.gen;
    return i;
  }

  /** Decodes the record at pos (after its inSeq and tab) through its newline. */
  private record(inSeq: number): void {
    const r = this.records;
    const o = this.n * STRIDE;
    r[o + 1] = inSeq;
    const start = pos;
    const k = buf[start];
    if (k === 80 /* P */ && buf[start + 1] === 44) {
      pos = start + 2;
      // the fields of placeCommand(), in its order
      r[o] = KIND_PLACE;
      r[o + 2] = numberField();
      r[o + 3] = this.account();
      r[o + 4] = numberField();
      r[o + 5] = this.known(SIDES);
      r[o + 6] = this.known(ORDER_TYPES);
      r[o + 7] = this.optKnown(TIME_IN_FORCES);
      let has = 0;
      r[o + 8] = numberField();
      if (present) has |= HAS_PRICE;
      r[o + 9] = numberField();
      r[o + 10] = numberField();
      if (present) has |= HAS_STOP;
      r[o + 11] = this.optKnown(WORKING_TYPES);
      r[o + 12] = optBoolean();
      r[o + 13] = optBoolean();
      r[o + 14] = numberField();
      if (present) has |= HAS_ACTIVATION;
      r[o + 15] = numberField();
      if (present) has |= HAS_CALLBACK;
      r[o + 16] = this.optKnown(STP_MODES);
      r[o + 17] = this.optStr();
      r[o + 18] = this.optStr();
      r[o + 19] = has;
    } else if (k === 67 /* C */ && buf[start + 1] === 44) {
      pos = start + 2;
      r[o] = KIND_CANCEL;
      r[o + 2] = numberField();
      r[o + 3] = this.account();
      r[o + 4] = numberField();
      r[o + 5] = numberField();
      r[o + 19] = present ? HAS_ORDER_ID : 0;
      r[o + 6] = this.optStr();
    } else {
      lim = lineEnd(start);
      if (k !== 74 /* J */)
        throw new Error(`journal: unknown record kind in ${text(start, Math.min(lim, start + 40))}`);
      r[o] = KIND_JSON;
      r[o + 2] = this.strings.length;
      this.strings.push(text(start + 1, lim)); // parsed where it is applied
      pos = lim + 1;
    }
    if (pos !== lim + 1 || buf[lim] !== 10) throw new Error(`journal: record ${inSeq} has the wrong number of fields`);
    if (++this.n === this.batchSize) {
      // the consumer runs here, mid-decode: the scanner's state is kept across it (it may decode too)
      const b = buf;
      const v = view;
      const p = pos;
      const l = lim;
      this.flush();
      buf = b;
      view = v;
      pos = p;
      lim = l;
    }
  }
}

const EMPTY_VIEW = new DataView(EMPTY.buffer, 0, 0);

/** The inSeq at pos (decimal digits up to a tab; anything else as parseInt reads it); pos moves past the tab. */
function parseSeq(): number {
  const s = pos;
  let p = s;
  let v = 0;
  for (; p < lim; p++) {
    const d = buf[p] - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  if (p < lim && buf[p] === 9 && p > s && p - s <= 15) {
    pos = p + 1;
    return v;
  }
  const nl = lineEnd(s);
  let tab = s;
  while (tab < nl && buf[tab] !== 9) tab++;
  if (tab === nl) throw new Error(`journal: a line without its inSeq: ${text(s, Math.min(nl, s + 40))}`);
  pos = tab + 1;
  const seq = parseInt(text(s, tab), 10);
  if (Number.isNaN(seq)) throw new Error(`journal: a line without its inSeq: ${text(s, Math.min(nl, s + 40))}`);
  return seq;
}

/** A decoder that gives the commands to fn one by one (replay on this thread); the journal readers flush it at the end. */
export function decoderTo(fn: (inSeq: number, cmd: Command) => void): RecordDecoder {
  return new RecordDecoder(1024, (b) => unpackBatch(b, fn));
}

/** The command of one record (encodeCommand's output, no inSeq or newline). */
export function decodeCommand(line: string): Command {
  let out: Command | undefined;
  const d = decoderTo((_s, c) => (out = c));
  const bytes = Buffer.from(`1\t${line}\n`);
  d.decode(bytes, 0, bytes.length, 0, 0);
  d.flush();
  if (out === undefined) throw new Error("journal: no record decoded");
  return out;
}

/** The records of journal text (whole lines) above `from`, the first of them numbered last + 1. */
export function decodeJournal(log: string | Buffer, from = 0, last = from): [number, Command][] {
  const out: [number, Command][] = [];
  const d = decoderTo((s, c) => out.push([s, c]));
  const bytes = typeof log === "string" ? Buffer.from(log) : log;
  d.decode(bytes, 0, bytes.length, from, last);
  d.flush();
  return out;
}
