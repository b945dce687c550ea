export { Settler, decodeRevert, type SettlerOptions } from "./settler";
export * from "./types";
