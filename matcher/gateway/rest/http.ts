// HTTP plumbing shared by the route modules: raw body capture with a size bound, request
// weight accounting with X-MBX-USED-WEIGHT-1M, and a handler wrapper that turns ApiErrors
// (and anything else) into `{code, msg}` with the right status.
import type { ServerResponse } from "node:http";
import type { Request, Response, NextFunction, RequestHandler } from "express";
import { ApiError, E } from "../errors";
import { parseRequest, Params } from "./params";
import type { RateLimiter } from "../ratelimit/types";
import type { Logger } from "../log";

export interface GwRequest extends Request {
  rawBody?: string;
  rawQuery?: string;
  parsed?: { params: Params; signedPayload: string | undefined; signature: string | undefined };
}

export function rawBody(limit: number): RequestHandler {
  return (req: GwRequest, res, next) => {
    const q = req.originalUrl.indexOf("?");
    req.rawQuery = q >= 0 ? req.originalUrl.slice(q + 1) : "";
    const len = Number(req.headers["content-length"] ?? 0);
    if (len > limit) return sendError(res, E.bodyTooLarge(limit));
    if (req.method === "GET" || req.method === "HEAD" || (len === 0 && !req.headers["transfer-encoding"])) {
      req.rawBody = "";
      return next();
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit && !failed) {
        failed = true;
        sendError(res, E.bodyTooLarge(limit));
        req.pause();
        return;
      }
      if (!failed) chunks.push(c);
    });
    req.on("end", () => {
      if (failed) return;
      req.rawBody = Buffer.concat(chunks).toString("utf8");
      next();
    });
    req.on("error", () => {
      if (!failed) sendError(res, E.illegalChars("Could not read the request body."));
    });
  };
}

/**
 * A JSON response. Through express (`res.json`) when `res` is an express response; on the
 * lean hot path (a bare node response, POST only) the same bytes express would send:
 * status, `Content-Type: application/json; charset=utf-8`, `Content-Length`, body.
 */
export function sendJson(res: Response | ServerResponse, status: number, body: unknown): void {
  const ex = res as Response;
  if (typeof ex.json === "function") {
    ex.status(status).json(body);
    return;
  }
  const text = JSON.stringify(body) ?? "";
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}

export function sendError(res: Response, err: ApiError): void {
  if (res.headersSent) return;
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  sendJson(res, err.status, err.toJSON());
}

export function params(req: GwRequest): Params {
  if (!req.parsed) {
    const p = parseRequest(req.rawQuery ?? "", req.rawBody ?? "", req.headers["content-type"]);
    req.parsed = { params: new Params(p.params), signedPayload: p.signedPayload, signature: p.signature };
  }
  return req.parsed.params;
}

export type Weigh = (p: Params) => number;

export interface HttpContext {
  limiter: RateLimiter;
  log: Logger;
  now: () => number;
  onRequest?: (route: string, status: number, ms: number) => void;
}

/** Wrap a route: charge its weight to the IP first, then run it, mapping errors. */
export function route(
  ctx: HttpContext,
  name: string,
  weight: number | Weigh,
  fn: (req: GwRequest, res: Response) => Promise<unknown> | unknown,
): RequestHandler {
  return async (req: GwRequest, res: Response, _next: NextFunction) => {
    const t0 = process.hrtime.bigint();
    try {
      // Malformed requests are charged too (weight 1), then refused.
      let p: Params | undefined;
      let bad: unknown;
      try {
        p = params(req);
      } catch (err) {
        bad = err;
      }
      const w = p === undefined ? 1 : typeof weight === "number" ? weight : weight(p);
      const ip = req.socket.remoteAddress ?? "?";
      const v = await ctx.limiter.hitWeight(ip, w, ctx.now());
      if (v.kind === "banned") {
        throw E.banned(`Way too much request weight used; IP banned for ${v.retryAfterSec} s.`, v.retryAfterSec);
      }
      res.setHeader("X-MBX-USED-WEIGHT-1M", String(v.used));
      if (v.kind === "limited") {
        throw E.tooManyRequests(
          `Too much request weight used; current limit is per minute. Please use WebSocket streams for live updates.`,
          v.retryAfterSec,
        );
      }
      if (bad !== undefined) throw bad;
      const out = await fn(req, res);
      if (!res.headersSent) sendJson(res, res.statusCode, out);
    } catch (err) {
      if (err instanceof ApiError) sendError(res, err);
      else {
        ctx.log.error("unhandled error", { route: name, err: (err as Error).stack ?? String(err) });
        sendError(res, E.unknown());
      }
    } finally {
      ctx.onRequest?.(name, res.statusCode, Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
}
