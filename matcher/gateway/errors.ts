// API errors in the Binance numbering: `{code, msg}` with the matching HTTP status.
export class ApiError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(msg);
  }

  toJSON(): { code: number; msg: string } {
    return { code: this.code, msg: this.message };
  }
}

export const E = {
  unknown: (msg = "An unknown error occurred while processing the request.") => new ApiError(-1000, msg, 500),
  tooManyRequests: (msg: string, retryAfterSec: number) =>
    new ApiError(-1003, msg, 429, { "Retry-After": String(retryAfterSec) }),
  banned: (msg: string, retryAfterSec: number) =>
    new ApiError(-1003, msg, 418, { "Retry-After": String(retryAfterSec) }),
  tooManyOrders: (msg: string, retryAfterSec: number) =>
    new ApiError(-1015, msg, 429, { "Retry-After": String(retryAfterSec) }),
  unsupported: (msg: string) => new ApiError(-1020, msg, 400),
  timestamp: (msg: string) => new ApiError(-1021, msg, 400),
  signature: (msg = "Signature for this request is not valid.") => new ApiError(-1022, msg, 400),
  illegalChars: (msg: string) => new ApiError(-1100, msg, 400),
  tooManyParams: (msg: string) => new ApiError(-1101, msg, 400),
  mandatory: (name: string) =>
    new ApiError(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`, 400),
  unknownParam: (name: string) => new ApiError(-1104, `Not all sent parameters were read; unread: '${name}'.`, 400),
  paramEmpty: (name: string) => new ApiError(-1105, `Parameter '${name}' was empty.`, 400),
  notRequired: (name: string) => new ApiError(-1106, `Parameter '${name}' sent when not required.`, 400),
  precision: (name: string) => new ApiError(-1111, `Precision is over the maximum defined for ${name}.`, 400),
  badTif: () => new ApiError(-1115, "Invalid timeInForce.", 400),
  badType: () => new ApiError(-1116, "Invalid orderType.", 400),
  badSide: () => new ApiError(-1117, "Invalid side.", 400),
  badSymbol: () => new ApiError(-1121, "Invalid symbol.", 400),
  badListenKey: () => new ApiError(-1125, "This listenKey does not exist.", 400),
  badInterval: () => new ApiError(-1120, "Invalid interval.", 400),
  invalidParam: (name: string, why: string) =>
    new ApiError(-1130, `Data sent for parameter '${name}' is not valid: ${why}`, 400),
  startAfterEnd: () => new ApiError(-1023, "Start time is greater than end time.", 400),
  rejected: (code: number, msg: string) => new ApiError(code, msg, 400),
  noSuchOrder: () => new ApiError(-2013, "Order does not exist.", 400),
  cancelRejected: (msg = "Unknown order sent.") => new ApiError(-2011, msg, 400),
  unauthorized: (msg: string) => new ApiError(-2015, msg, 401),
  notFound: (path: string) => new ApiError(-1000, `No such endpoint: ${path}`, 404),
  bodyTooLarge: (limit: number) => new ApiError(-1013, `Request body larger than ${limit} bytes.`, 413),
  busy: () => new ApiError(-1008, "Server is currently overloaded with other requests. Please try again.", 503),
};
