// The shared terminal: xterm.js with the fit addon, fed by offset-numbered output packets,
// acknowledging what it has drawn (the relay's flow control), and hardened against output:
// no clipboard access (no OSC 52 handler is loaded), the page title is never set from the
// terminal, and links open only on a click, after a confirm, for http(s) only.

import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';

/** Acknowledge at least this often, in bytes drawn. */
const ACK_EVERY = 32 * 1024;

export interface TermEvents {
  /** Keystrokes (already UTF-8), for the driver to send. */
  input(bytes: Uint8Array): void;
  /** Output drawn up to this offset. */
  ack(offset: number): void;
  /** The size this window would fit. */
  fits(cols: number, rows: number): void;
}

export function safeLink(uri: string): URL | null {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

export class SharedTerminal {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly encoder = new TextEncoder();
  /** Offset just past the last byte handed to xterm. */
  private end = 0;
  /** Offset drawn (xterm's write callback ran). */
  private drawn = 0;
  private acked = 0;
  private pending = 0;
  /** Whether a snapshot or the first output has set where the stream begins. */
  private started = false;

  constructor(host: HTMLElement, private readonly events: TermEvents) {
    this.term = new Terminal({
      convertEol: false,
      cursorBlink: true,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, monospace',
      fontSize: 14,
      scrollback: 5000,
      allowProposedApi: false,
      linkHandler: {
        // xterm.js calls this only for a click (mouse up) on the link, never for output.
        activate: (_event: MouseEvent, uri: string) => {
          const url = safeLink(uri);
          if (!url) return;
          if (window.confirm(`Open this link from the terminal?\n\n${url.href}`)) {
            window.open(url.href, '_blank', 'noopener,noreferrer');
          }
        },
      },
    });
    this.term.loadAddon(this.fit);
    this.term.open(host);
    this.term.onData((data) => this.events.input(this.encoder.encode(data)));
    this.term.onBinary((data) => {
      const bytes = new Uint8Array(data.length);
      for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
      this.events.input(bytes);
    });
    const observer = new ResizeObserver(() => this.measure());
    observer.observe(host);
  }

  /** Where to resume from after a reconnect. */
  get offset(): number | undefined {
    return this.started ? this.end : undefined;
  }

  /** Output starting at `offset`; bytes already held are dropped. */
  output(offset: number, data: Uint8Array): void {
    if (!this.started) {
      this.started = true;
      this.end = offset;
      this.drawn = offset;
      this.acked = offset;
    }
    const stop = offset + data.length;
    if (stop <= this.end) return;
    const skip = Math.max(0, this.end - offset);
    this.write(data.subarray(skip), stop);
  }

  /** A snapshot of the screen after `offset` bytes: the terminal starts over from it. */
  snapshot(offset: number, data: Uint8Array): void {
    this.term.reset();
    this.started = true;
    this.end = offset;
    this.drawn = offset;
    this.write(data, offset);
  }

  /** A new session: forget the old stream. */
  restart(): void {
    this.term.reset();
    this.started = false;
    this.end = this.drawn = this.acked = 0;
    this.pending = 0;
  }

  private write(data: Uint8Array, stop: number): void {
    this.end = stop;
    this.pending += 1;
    this.term.write(data, () => {
      this.pending -= 1;
      this.drawn = Math.max(this.drawn, stop);
      if (this.drawn - this.acked >= ACK_EVERY || this.pending === 0) {
        this.acked = this.drawn;
        this.events.ack(this.drawn);
      }
    });
  }

  /** What this window would fit, reported to the app (which decides who sets the size). */
  measure(): void {
    const dims = this.fit.proposeDimensions();
    if (dims && Number.isFinite(dims.cols) && Number.isFinite(dims.rows)) {
      this.events.fits(Math.max(2, dims.cols), Math.max(1, dims.rows));
    }
  }

  resize(cols: number, rows: number): void {
    if (this.term.cols !== cols || this.term.rows !== rows) this.term.resize(cols, rows);
  }

  /** The visible screen as text (for tests and screen readers' benefit). */
  text(): string {
    const buf = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  focus(): void {
    this.term.focus();
  }
}
