/**
 * Progress of long work on stderr. On a TTY: one live line with the current items, bytes (of the total when known),
 * the rate over the last seconds and an ETA, redrawn at most every 100 ms. Otherwise (CI logs, pipes): one line per
 * finished item, and while work is under way a progress line every few seconds (`LUMEN_PROGRESS_INTERVAL_MS`,
 * default 5000), so a large blob never leaves the log silent. Never writes to stdout, which belongs to `--json`.
 */
export class Progress {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly enabled: boolean;
  private readonly active = new Map<string, { done: number; total: number }>();
  private readonly clock: () => number;
  private readonly intervalMs: number;
  private bytes = 0;
  private totalBytes = 0;
  private items = 0;
  private lastDraw = 0;
  private readonly started: number;
  /** (time, bytes) samples of the last seconds, for the rate. */
  private samples: Array<[number, number]> = [];
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(options: { out?: NodeJS.WriteStream; quiet?: boolean; clock?: () => number; intervalMs?: number } = {}) {
    this.out = options.out ?? process.stderr;
    this.tty = this.out.isTTY === true;
    this.enabled = !options.quiet;
    this.clock = options.clock ?? Date.now;
    const fromEnv = Number(process.env.LUMEN_PROGRESS_INTERVAL_MS);
    this.intervalMs = options.intervalMs ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 5000);
    this.started = this.clock();
  }

  /** Adds to the total expected bytes (unknown until manifests are read). */
  expect(bytes: number): void {
    this.totalBytes += bytes;
  }

  start(item: string, total = 0): void {
    this.active.set(item, { done: 0, total });
    if (this.enabled && !this.tty && this.heartbeat === undefined) {
      this.heartbeat = setInterval(() => this.beat(), this.intervalMs);
      this.heartbeat.unref();
    }
    this.draw();
  }

  advance(item: string, bytes: number): void {
    this.bytes += bytes;
    const a = this.active.get(item);
    if (a) a.done += bytes;
    this.sample();
    this.draw();
  }

  /** Marks an item finished and prints its line. */
  done(item: string, detail: string): void {
    this.active.delete(item);
    this.items++;
    if (this.active.size === 0) this.stopBeat();
    if (!this.enabled) return;
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`${item}: ${detail}\n`);
    this.draw(true);
  }

  /** Prints a line (warnings, notes) without disturbing the live line. */
  note(line: string): void {
    if (!this.enabled) return;
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
  }

  /** Clears the live line and prints the summary. */
  finish(summary: string): void {
    this.stopBeat();
    if (!this.enabled) return;
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`${summary} in ${((this.clock() - this.started) / 1000).toFixed(1)} s\n`);
  }

  get transferred(): number {
    return this.bytes;
  }

  /** Bytes per second over the last 5 s (0 before two samples). */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last[0] === first[0]) return 0;
    return ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
  }

  /** `bytes[/total] rate/s[ ETA m:ss]`, what both the live line and the log lines say. */
  status(): string {
    const rate = this.rate();
    const total =
      this.totalBytes > 0
        ? ` of ${formatBytes(this.totalBytes)} (${Math.min(100, Math.floor((this.bytes / this.totalBytes) * 100))} %)`
        : '';
    const left = this.totalBytes - this.bytes;
    const eta = this.totalBytes > 0 && rate > 0 && left > 0 ? `, ETA ${formatDuration(left / rate)}` : '';
    return `${formatBytes(this.bytes)}${total}, ${formatBytes(rate)}/s${eta}`;
  }

  private sample(): void {
    const now = this.clock();
    this.samples.push([now, this.bytes]);
    while (this.samples.length > 2 && (this.samples[0] as [number, number])[0] < now - 5000) this.samples.shift();
  }

  private beat(): void {
    // Only once there is something to say: bytes moved or expected (not while the first request is still retrying).
    if (this.active.size === 0 || (this.bytes === 0 && this.totalBytes === 0)) return;
    this.sample();
    const names = [...this.active.keys()].slice(0, 3).join(', ');
    this.out.write(`progress: ${this.status()}; ${this.items} done; now ${names}\n`);
  }

  private stopBeat(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private draw(force = false): void {
    if (!this.enabled || !this.tty) return;
    const now = this.clock();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const names = [...this.active.keys()].slice(0, 3).join(', ');
    this.out.write(`\r\x1b[K${this.items} done, ${this.status()} ${names}`.slice(0, (this.out.columns ?? 120) - 1));
  }
}

/** `1:05`, `1:02:03`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** `12.3 MiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
