// Request parameters in the fapi dialect: query string and form body (or a JSON body),
// decoded strictly, with typed getters that refuse bad input with Binance codes. Also
// extracts the exact signed bytes: Binance's "totalParams" (query string followed by the
// body) without the trailing `signature` parameter.
import { E } from "../errors";
import { parseUnits } from "../../../sdk/units";

export interface ParsedRequest {
  params: Map<string, string>;
  /** query ‖ body minus `signature=…`; undefined when there is no signature. */
  signedPayload: string | undefined;
  signature: string | undefined;
}

const MAX_PARAMS = 64;

function decode(s: string, what: string): string {
  if (s.indexOf("%") < 0 && s.indexOf("+") < 0) return s; // nothing escaped (the usual case)
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    throw E.illegalChars(`Illegal characters found in ${what}.`);
  }
}

function parseForm(raw: string, into: Map<string, string>, where: string): void {
  if (raw === "") return;
  const parts = raw.split("&");
  if (parts.length + into.size > MAX_PARAMS) throw E.tooManyParams(`Too many parameters; maximum is ${MAX_PARAMS}.`);
  for (const p of parts) {
    if (p === "") continue;
    const eq = p.indexOf("=");
    const k = decode(eq < 0 ? p : p.slice(0, eq), `a parameter name in the ${where}`);
    const v = eq < 0 ? "" : decode(p.slice(eq + 1), `parameter '${k}'`);
    if (into.has(k)) throw E.tooManyParams(`Duplicate values for a parameter detected: '${k}'.`);
    into.set(k, v);
  }
}

/** Strip a trailing `signature=<value>` parameter; returns [payload, signature]. */
function stripSignature(raw: string): [string, string | undefined] {
  const m = /(^|&)signature=([^&]*)$/.exec(raw);
  if (!m) return [raw, undefined];
  return [raw.slice(0, m.index), decode(m[2], "parameter 'signature'")];
}

export function parseRequest(rawQuery: string, rawBody: string, contentType: string | undefined): ParsedRequest {
  const params = new Map<string, string>();
  const isJson = rawBody !== "" && (contentType ?? "").includes("json");
  let signature: string | undefined;
  let signedPayload: string | undefined;
  if (isJson) {
    const [q, qs] = stripSignature(rawQuery);
    parseForm(rawQuery, params, "query string");
    let obj: unknown;
    try {
      obj = JSON.parse(rawBody);
    } catch (err) {
      throw E.illegalChars(`Malformed JSON body: ${(err as Error).message}`);
    }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj))
      throw E.illegalChars("JSON body must be an object.");
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (params.has(k)) throw E.tooManyParams(`Duplicate values for a parameter detected: '${k}'.`);
      if (v === null || v === undefined) continue;
      params.set(k, typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v));
    }
    if (params.size > MAX_PARAMS) throw E.tooManyParams(`Too many parameters; maximum is ${MAX_PARAMS}.`);
    if (qs !== undefined) {
      signature = qs;
      signedPayload = q + rawBody;
    }
  } else {
    parseForm(rawQuery, params, "query string");
    parseForm(rawBody, params, "body");
    if (rawBody !== "") {
      const [b, s] = stripSignature(rawBody);
      if (s !== undefined) {
        signature = s;
        signedPayload = rawQuery + b;
      }
    } else {
      const [q, s] = stripSignature(rawQuery);
      if (s !== undefined) {
        signature = s;
        signedPayload = q;
      }
    }
  }
  if (signature === undefined && params.has("signature")) {
    throw E.invalidParam("signature", "it must be the last parameter of the request.");
  }
  params.delete("signature");
  return { params, signedPayload, signature };
}

/** Typed access to the parameters of one request. */
export class Params {
  constructor(readonly map: Map<string, string>) {}

  has(name: string): boolean {
    return this.map.has(name) && this.map.get(name) !== "";
  }

  str(name: string): string {
    const v = this.map.get(name);
    if (v === undefined || v === "") throw E.mandatory(name);
    return v;
  }

  optStr(name: string): string | undefined {
    const v = this.map.get(name);
    return v === undefined || v === "" ? undefined : v;
  }

  enumOf<T extends string>(name: string, allowed: readonly T[], err?: () => Error): T {
    const v = this.str(name);
    if (!(allowed as readonly string[]).includes(v))
      throw err ? err() : E.invalidParam(name, `one of ${allowed.join(", ")}`);
    return v as T;
  }

  optEnum<T extends string>(name: string, allowed: readonly T[], err?: () => Error): T | undefined {
    return this.has(name) ? this.enumOf(name, allowed, err) : undefined;
  }

  int(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.str(name);
    if (!/^-?\d+$/.test(v)) throw E.mandatory(name);
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw E.invalidParam(name, `must be an integer in [${min}, ${max}].`);
    return n;
  }

  optInt(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    return this.has(name) ? this.int(name, min, max) : undefined;
  }

  bigint(name: string): bigint {
    const v = this.str(name);
    if (!/^\d{1,30}$/.test(v)) throw E.mandatory(name);
    return BigInt(v);
  }

  bool(name: string, def: boolean): boolean {
    const v = this.optStr(name);
    if (v === undefined) return def;
    if (v === "true" || v === "TRUE") return true;
    if (v === "false" || v === "FALSE") return false;
    throw E.invalidParam(name, "must be true or false.");
  }

  /** A positive decimal string as integer units with `decimals` places (exact, no floats). */
  decimal(name: string, decimals: number): bigint {
    const v = this.str(name);
    if (!/^\d+(\.\d+)?$/.test(v)) throw E.invalidParam(name, "must be a non-negative decimal number.");
    try {
      return parseUnits(v, decimals);
    } catch {
      throw E.precision(name);
    }
  }

  optDecimal(name: string, decimals: number): bigint | undefined {
    return this.has(name) ? this.decimal(name, decimals) : undefined;
  }

  address(name: string): string {
    const v = this.str(name);
    if (!/^0x[0-9a-fA-F]{40}$/.test(v)) throw E.invalidParam(name, "must be a 0x-prefixed 20-byte hex address.");
    return v.toLowerCase();
  }
}
