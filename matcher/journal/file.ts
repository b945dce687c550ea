// Append-only file journal with group commit: one write + fdatasync per group, on libuv's
// thread pool (the engine thread never waits). Format: one record per line,
// `<inSeq>\t<command JSON>\n`; a torn last line (crash mid-write) was never acknowledged and
// is ignored on read. Snapshots: <name>.snapshot.json, written to a temp file then renamed.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "../engine/types";
import type { Journal } from "./journal";
import { RecordWriter } from "./codec";
import { decoderTo, type RecordDecoder } from "./decode";
import { readInWorker } from "./replayThread";

export class FileJournal implements Journal {
  /** records appended since the last group started (the file's bytes, see RecordWriter) */
  private readonly buf = new RecordWriter();
  private bufLast = 0;
  private inFlight = false;
  private durable = 0;
  private closed = false;
  onDurable: (upTo: number) => void = () => {};
  onError: (err: Error) => void = (err) => {
    throw err;
  };

  private constructor(
    private readonly fd: number,
    readonly file: string,
    readonly snapFile: string,
    lastInSeq: number,
  ) {
    this.durable = lastInSeq;
    this.bufLast = lastInSeq;
  }

  static async open(dir: string, name: string): Promise<FileJournal> {
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, `${name}.log`);
    const snapFile = path.join(dir, `${name}.snapshot.json`);
    // drop a torn tail so appends start on a clean line
    let last = 0;
    if (fs.existsSync(file)) last = await FileJournal.trimTail(file);
    const fd = fs.openSync(file, "a");
    return new FileJournal(fd, file, snapFile, last);
  }

  /**
   * Truncate a torn last line and return the inSeq of the last complete one (0 if none), reading
   * only the end of the file (a window grown until it holds the last two newlines, or is the file).
   */
  private static async trimTail(file: string): Promise<number> {
    const fh = await fs.promises.open(file, "r+");
    try {
      const size = (await fh.stat()).size;
      let win = Math.min(size, 65_536);
      for (;;) {
        const start = size - win;
        const buf = Buffer.allocUnsafe(win);
        for (let off = 0; off < win;) {
          const { bytesRead } = await fh.read(buf, off, win - off, start + off);
          if (bytesRead === 0) throw new Error(`journal: ${file} shrank while opening`);
          off += bytesRead;
        }
        const nl = buf.lastIndexOf(10);
        const prev = nl > 0 ? buf.lastIndexOf(10, nl - 1) : -1;
        if ((nl < 0 || prev < 0) && start > 0) {
          win = Math.min(size, win * 2);
          continue;
        }
        const end = nl < 0 ? 0 : start + nl + 1;
        if (end < size) await fh.truncate(end);
        return nl < 0 ? 0 : parseInt(buf.toString("latin1", prev + 1, nl + 1), 10) || 0;
      }
    } finally {
      await fh.close();
    }
  }

  private static snapshotWrites = 0;

  append(inSeq: number, line: string): void {
    this.buf.line(inSeq, line);
    this.bufLast = inSeq;
  }

  appendCommand(inSeq: number, cmd: Command): void {
    this.buf.command(inSeq, cmd);
    this.bufLast = inSeq;
  }

  durableInSeq(): number {
    return this.durable;
  }

  flush(): void {
    if (this.inFlight || this.buf.length === 0 || this.closed) return;
    this.inFlight = true;
    // the taken buffer is not written to again before the next take(), after this group is durable
    const data = this.buf.take();
    const upTo = this.bufLast;
    this.writeAll(data, 0, upTo);
  }

  private writeAll(data: Buffer, off: number, upTo: number): void {
    fs.write(this.fd, data, off, data.length - off, null, (err, n) => {
      if (err) return this.onError(err);
      if (off + n < data.length) return this.writeAll(data, off + n, upTo);
      fs.fdatasync(this.fd, (err2) => {
        if (err2) return this.onError(err2);
        this.durable = upTo;
        this.inFlight = false;
        this.onDurable(upTo);
        if (this.buf.length > 0) this.flush();
      });
    });
  }

  /**
   * Bytes read at a time on replay. The log is read in chunks, each decoded up to its last newline (a
   * newline byte never occurs inside a multi-byte UTF-8 character), so a journal larger than V8's
   * longest string (~512 MB, some 5M commands) still replays.
   */
  static readChunkBytes = 16 << 20;

  /**
   * Journals at least this large replay through a worker thread (it reads and decodes while this
   * thread applies); smaller ones, where starting a thread costs more than it saves, read inline.
   */
  static workerMinBytes = 16 << 20; // ~170k commands; a thread takes ~0.2 s to start (tsx compiles its modules)

  async read(from: number, fn: (inSeq: number, cmd: Command) => void): Promise<number> {
    const size = fs.statSync(this.file, { throwIfNoEntry: false })?.size;
    if (size === undefined) return from;
    if (size >= FileJournal.workerMinBytes)
      return readInWorker({ kind: "file", file: this.file, readChunkBytes: FileJournal.readChunkBytes }, from, fn);
    return readJournalFile(this.file, from, decoderTo(fn));
  }

  async saveSnapshot(_inSeq: number, data: string): Promise<void> {
    // a temp name of its own: two journals open on one file (tests' simulated restarts) never share it
    const tmp = `${this.snapFile}.${process.pid}.${++FileJournal.snapshotWrites}.tmp`;
    const fh = await fs.promises.open(tmp, "w");
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    await fs.promises.rename(tmp, this.snapFile);
  }

  async loadSnapshot(): Promise<string | null> {
    try {
      return await fs.promises.readFile(this.snapFile, "utf8");
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    while (this.inFlight) await new Promise((r) => setTimeout(r, 1));
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/**
 * Decodes the records of a journal file above `from`, in order (a gap throws), into `decoder`, and
 * hands them all over (flush) before returning the last inSeq. A torn last line is ignored. `between`,
 * if given, is awaited after each chunk (flow control).
 */
export async function readJournalFile(
  file: string,
  from: number,
  decoder: RecordDecoder,
  between?: () => Promise<void>,
): Promise<number> {
  let last = from;
  if (!fs.existsSync(file)) return last;
  const fh = await fs.promises.open(file, "r");
  try {
    let buf = Buffer.allocUnsafe(Math.max(1, FileJournal.readChunkBytes));
    let have = 0; // buf[0, have): the bytes after the last newline so far (a partial line)
    for (;;) {
      if (have === buf.length) {
        // a line longer than the buffer: grow it
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, 0, have);
        buf = grown;
      }
      const { bytesRead } = await fh.read(buf, have, buf.length - have, null);
      if (bytesRead === 0) break; // what is left in buf is a torn tail: never acknowledged
      const len = have + bytesRead;
      const end = buf.lastIndexOf(10, len - 1);
      if (end < 0) {
        have = len;
        continue;
      }
      last = decoder.decode(buf, 0, end + 1, from, last);
      // the partial line moves to the front and the next read appends to it: one buffer for the whole read
      have = buf.copy(buf, 0, end + 1, len);
      if (between) await between();
    }
  } finally {
    await fh.close();
  }
  decoder.flush();
  return last;
}
