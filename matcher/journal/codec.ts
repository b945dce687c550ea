// Journal record encoding. Place and cancel commands (the bulk) use a compact comma-separated
// form, several times cheaper than JSON both ways; every other command, and any command whose
// strings hold a separator, is "J" + JSON.
import {
  cancelCommand,
  placeCommand,
  type CancelCmd,
  type Command,
  type OrderType,
  type PlaceCmd,
} from "../engine/types";

const SEP = /[,\n\t]/;

function s(v: string | undefined): string {
  return v === undefined ? "" : v;
}
function n(v: number | undefined): string {
  return v === undefined ? "" : String(v);
}
function b(v: boolean | undefined): string {
  return v === undefined ? "" : v ? "1" : "0";
}

const isNum = (v: unknown): boolean => typeof v === "number";
const optNum = (v: unknown): boolean => v === undefined || typeof v === "number";
const optStr = (v: unknown): boolean => v === undefined || (typeof v === "string" && v !== "" && !SEP.test(v));
const optBool = (v: unknown): boolean => v === undefined || typeof v === "boolean";
const word = (v: unknown): boolean => typeof v === "string" && !SEP.test(v);

/** Only well-typed commands take the compact form, so decoding gives back exactly what was sent. */
function compactPlace(c: PlaceCmd): boolean {
  return (
    isNum(c.ts) &&
    word(c.account) &&
    isNum(c.market) &&
    word(c.side) &&
    word(c.orderType) &&
    optStr(c.tif) &&
    optNum(c.price) &&
    isNum(c.qty) &&
    optNum(c.stopPrice) &&
    optStr(c.workingType) &&
    optBool(c.reduceOnly) &&
    optBool(c.closePosition) &&
    optNum(c.activationPrice) &&
    optNum(c.callbackRatePpm) &&
    optStr(c.stp) &&
    optStr(c.clientOrderId) &&
    optStr(c.hash)
  );
}

export function encodeCommand(c: Command): string {
  if (c.type === "place") {
    if (!compactPlace(c)) return "J" + JSON.stringify(c);
    return (
      "P," +
      c.ts +
      "," +
      c.account +
      "," +
      c.market +
      "," +
      c.side +
      "," +
      c.orderType +
      "," +
      s(c.tif) +
      "," +
      n(c.price) +
      "," +
      c.qty +
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
    return "C," + c.ts + "," + c.account + "," + c.market + "," + n(c.orderId) + "," + s(c.clientOrderId);
  }
  return "J" + JSON.stringify(c);
}

const num = (v: string): number | undefined => (v === "" ? undefined : Number(v));
const str = (v: string): string | undefined => (v === "" ? undefined : v);
const bool = (v: string): boolean | undefined => (v === "" ? undefined : v === "1");

export function decodeCommand(line: string): Command {
  const k = line.charCodeAt(0);
  if (k === 74 /* J */) return JSON.parse(line.slice(1)) as Command;
  const f = line.split(",");
  if (k === 80 /* P */)
    return placeCommand({
      type: "place",
      ts: Number(f[1]),
      account: f[2],
      market: Number(f[3]),
      side: f[4] as PlaceCmd["side"],
      orderType: f[5] as OrderType,
      tif: str(f[6]) as PlaceCmd["tif"],
      price: num(f[7]),
      qty: Number(f[8]),
      stopPrice: num(f[9]),
      workingType: str(f[10]) as PlaceCmd["workingType"],
      reduceOnly: bool(f[11]),
      closePosition: bool(f[12]),
      activationPrice: num(f[13]),
      callbackRatePpm: num(f[14]),
      stp: str(f[15]) as PlaceCmd["stp"],
      clientOrderId: str(f[16]),
      hash: str(f[17]),
    });
  if (k === 67 /* C */)
    return cancelCommand({
      type: "cancel",
      ts: Number(f[1]),
      account: f[2],
      market: Number(f[3]),
      orderId: num(f[4]),
      clientOrderId: str(f[5]),
    } as CancelCmd);
  throw new Error(`journal: unknown record kind in ${line.slice(0, 40)}`);
}
