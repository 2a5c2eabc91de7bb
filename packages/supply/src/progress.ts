/**
 * Progress of long work on stderr. On a TTY: one live line with the current items and total
 * bytes, redrawn at most every 100 ms. Otherwise (CI logs, pipes): quiet except one line per
 * finished item. Never writes to stdout, which belongs to `--json`.
 */
export class Progress {
  private readonly out: NodeJS.WriteStream;
  private readonly tty: boolean;
  private readonly enabled: boolean;
  private readonly active = new Map<string, { done: number; total: number }>();
  private bytes = 0;
  private totalBytes = 0;
  private items = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(options: { out?: NodeJS.WriteStream; quiet?: boolean } = {}) {
    this.out = options.out ?? process.stderr;
    this.tty = this.out.isTTY === true;
    this.enabled = !options.quiet;
  }

  /** Adds to the total expected bytes (unknown until manifests are read). */
  expect(bytes: number): void {
    this.totalBytes += bytes;
  }

  start(item: string, total = 0): void {
    this.active.set(item, { done: 0, total });
    this.draw();
  }

  advance(item: string, bytes: number): void {
    this.bytes += bytes;
    const a = this.active.get(item);
    if (a) a.done += bytes;
    this.draw();
  }

  /** Marks an item finished and prints its line. */
  done(item: string, detail: string): void {
    this.active.delete(item);
    this.items++;
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
    if (!this.enabled) return;
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`${summary} in ${((Date.now() - this.started) / 1000).toFixed(1)} s\n`);
  }

  get transferred(): number {
    return this.bytes;
  }

  private draw(force = false): void {
    if (!this.enabled || !this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const names = [...this.active.keys()].slice(0, 3).join(', ');
    const total = this.totalBytes > 0 ? `/${formatBytes(this.totalBytes)}` : '';
    this.out.write(
      `\r\x1b[K${this.items} done, ${formatBytes(this.bytes)}${total} ${names}`.slice(0, (this.out.columns ?? 120) - 1),
    );
  }
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
