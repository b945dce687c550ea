// Decoded journal commands in a flat binary form (decode.ts writes it, unpackBatch reads it), so a
// worker thread can decode the journal while the engine thread applies it: a Float64Array moves
// between threads for free, where a structured clone of command objects cost more than decoding them.
// Place and cancel records are packed field by field, their strings in a side table; any other
// record travels as its JSON text. Unpacking gives the command that was encoded (the fields in
// placeCommand() / cancelCommand()'s order, the same values, -0 and NaN included).
// Record layout (STRIDE numbers): [kind, inSeq, ts, account, market, ...] then
//   place:  side, orderType, tif, price, qty, stopPrice, workingType, reduceOnly, closePosition,
//           activationPrice, callbackRatePpm, stp, clientOrderId, hash, presence bits (at 19)
//   cancel: orderId, clientOrderId, (unused), presence bits (at 19)
// Strings are indices into the batch's table; enumerations the value's index in engine/types.ts's
// list (TEXT + a string index for other text); booleans 1 / 0; UNDEF where a field is absent.
import * as ty from "../engine/types";
import type { CancelCmd, Command, OrderType, PlaceCmd } from "../engine/types";
import * as bk from "../engine/book";

// Imported bindings copied into module constants (tsx's CommonJS output reads imports through getters).
const { ORDER_TYPES, SIDES, STP_MODES, TIME_IN_FORCES, WORKING_TYPES } = ty;
const { smi } = bk;

/** Numbers per record. */
export const STRIDE = 20;
export const KIND_PLACE = 1;
export const KIND_CANCEL = 2;
/** the record's JSON text is strings[records[o + 2]] */
export const KIND_JSON = 3;
/** An enumeration field's code at or above this is a string of the table (unknown text). */
export const TEXT = 1000;
/** an absent optional field (enumerations, strings, booleans) */
export const UNDEF = -1;
// bits of the presence field (optional numbers that were set)
export const HAS_PRICE = 1;
export const HAS_STOP = 2;
export const HAS_ACTIVATION = 4;
export const HAS_CALLBACK = 8;
export const HAS_ORDER_ID = 1;

/** One batch: records[0, n * STRIDE) and the strings they point to. */
export interface PackedBatch {
  records: Float64Array;
  n: number;
  strings: string[];
}

function enumValue(values: readonly string[], code: number, strings: string[]): string | undefined {
  if (code === UNDEF) return undefined;
  return code >= TEXT ? strings[code - TEXT] : values[code];
}

function bool3(code: number): boolean | undefined {
  return code === UNDEF ? undefined : code === 1;
}

/**
 * Calls fn(inSeq, command) for each record of a batch, in order (engine side).
 * Numbers come out of the Float64Array as doubles; the integer ones are turned back into small
 * integers (smi) as the gateway gives them. Storing a double in a command field first
 * seen holding small integers makes V8 widen that field for every command object of the shape:
 * after a worker replay, journaling live commands took twice the CPU (Redis journal benchmark:
 * ~290k against ~530k ops/s).
 */
export function unpackBatch(b: PackedBatch, fn: (inSeq: number, cmd: Command) => void): void {
  const r = b.records;
  const s = b.strings;
  for (let i = 0; i < b.n; i++) {
    const o = i * STRIDE;
    const kind = r[o];
    const inSeq = r[o + 1];
    if (kind === KIND_PLACE) {
      const has = r[o + 19];
      const cid = r[o + 17];
      const hash = r[o + 18];
      // the fields of placeCommand(), in its order
      const c: PlaceCmd = {
        type: "place",
        ts: smi(r[o + 2]),
        account: s[r[o + 3]],
        market: smi(r[o + 4]),
        side: enumValue(SIDES, r[o + 5], s) as PlaceCmd["side"],
        orderType: enumValue(ORDER_TYPES, r[o + 6], s) as OrderType,
        tif: enumValue(TIME_IN_FORCES, r[o + 7], s) as PlaceCmd["tif"],
        price: (has & HAS_PRICE) !== 0 ? smi(r[o + 8]) : undefined,
        limitPrice: undefined,
        qty: smi(r[o + 9]),
        stopPrice: (has & HAS_STOP) !== 0 ? smi(r[o + 10]) : undefined,
        workingType: enumValue(WORKING_TYPES, r[o + 11], s) as PlaceCmd["workingType"],
        reduceOnly: bool3(r[o + 12]),
        closePosition: bool3(r[o + 13]),
        activationPrice: (has & HAS_ACTIVATION) !== 0 ? smi(r[o + 14]) : undefined,
        callbackRatePpm: (has & HAS_CALLBACK) !== 0 ? smi(r[o + 15]) : undefined,
        stp: enumValue(STP_MODES, r[o + 16], s) as PlaceCmd["stp"],
        clientOrderId: cid === UNDEF ? undefined : s[cid],
        hash: hash === UNDEF ? undefined : s[hash],
      };
      fn(inSeq, c);
    } else if (kind === KIND_CANCEL) {
      const cid = r[o + 6];
      const c: CancelCmd = {
        type: "cancel",
        ts: smi(r[o + 2]),
        account: s[r[o + 3]],
        market: smi(r[o + 4]),
        orderId: (r[o + 19] & HAS_ORDER_ID) !== 0 ? smi(r[o + 5]) : undefined,
        clientOrderId: cid === UNDEF ? undefined : s[cid],
      };
      fn(inSeq, c);
    } else fn(inSeq, JSON.parse(s[r[o + 2]]) as Command);
  }
}
