// The WebSocket to the relay: hello with a fresh ticket, and reconnects with backoff and
// jitter that resume the terminal from the last byte held.

import { AuthError, forgetToken, signIn, ticket } from './api';
import { ClientMessage, PROTOCOL_VERSION, ServerMessage, encodeInput } from './protocol';

export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface LinkEvents {
  message(m: ServerMessage): void;
  binary(data: ArrayBuffer): void;
  state(s: LinkState, detail: string): void;
  /** Offset of the terminal bytes held, sent in `hello` after a reconnect. */
  resumeFrom(): number | undefined;
}

/** Close codes after which reconnecting cannot help. */
const FINAL = new Set([1000, 1002, 1003, 1007, 1008, 1009, 4000, 4003, 4004, 4009, 4010]);

export class Link {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;
  private pendingDelay: number | null = null;

  constructor(private readonly events: LinkEvents) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.events.state(this.attempt === 0 ? 'connecting' : 'reconnecting', '');
    let t: string;
    try {
      const token = await signIn();
      t = await ticket(token);
    } catch (e) {
      if (e instanceof AuthError) forgetToken();
      this.retry(`sign-in failed: ${(e as Error).message}`);
      return;
    }
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      const hello: ClientMessage = { type: 'hello', versions: [PROTOCOL_VERSION], ticket: t };
      const from = this.events.resumeFrom();
      if (from !== undefined) hello.resume_from = from;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data === 'string') {
        let m: ServerMessage;
        try {
          m = JSON.parse(ev.data) as ServerMessage;
        } catch {
          return;
        }
        if (m.type === 'welcome') {
          this.attempt = 0;
          this.events.state('open', '');
        }
        if (m.type === 'shutdown') this.pendingDelay = m.reconnect_after_ms;
        this.events.message(m);
      } else {
        this.events.binary(ev.data as ArrayBuffer);
      }
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (FINAL.has(ev.code)) {
        this.events.state('closed', ev.reason || `closed (${ev.code})`);
        return;
      }
      this.retry(ev.reason || 'connection lost');
    };
  }

  private retry(why: string): void {
    if (this.stopped) return;
    const base = this.pendingDelay ?? Math.min(10_000, 300 * 2 ** this.attempt);
    this.pendingDelay = null;
    const delay = base + Math.random() * Math.min(1000, base);
    this.attempt += 1;
    this.events.state('reconnecting', why);
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => void this.start(), delay);
  }

  send(m: ClientMessage): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(m));
    return true;
  }

  sendInput(bytes: Uint8Array): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    for (const packet of encodeInput(bytes)) this.ws.send(packet);
    return true;
  }

  get open(): boolean {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }
}
