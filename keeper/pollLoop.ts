// The keeper's poll loop (bots, listener): run a round, wait `intervalMs` (or until stopped), repeat; a round
// that resolves to `true` (more work is waiting) is followed by the next at once. A failed round is logged
// and the loop goes on, so one bad RPC answer never stops a service.
import type { Logger } from "./log";

export class PollLoop {
  private running = false;
  private done?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly round: () => Promise<unknown>,
  ) {}

  /** Starts the loop (no-op when running); `before` runs once first, e.g. to reload in-flight work. */
  start(before?: () => Promise<void>): void {
    if (this.running) return;
    this.running = true;
    this.done = (async () => {
      if (before) await before();
      while (this.running) {
        let again = false;
        try {
          again = (await this.round()) === true;
        } catch (err) {
          this.log.warn(`${this.name} round failed`, { err: String(err).slice(0, 300) });
        }
        if (again) continue;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.intervalMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    })();
  }

  /** Stops after the current round; resolves when it has ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.done;
  }
}
