/**
 * Roulette from Node: pair with another developer, or wait in the chat roulette.
 *
 * A thin layer over the Rust client (the native addon built by napi-rs): connecting,
 * authenticating, resuming and decoding happen there; this module gives them JavaScript
 * shapes: promises, an async iterator of events, `Buffer`s for terminal bytes, and
 * `RouletteError` with a stable `code`.
 *
 * ```ts
 * import { connect } from 'roulette-node';
 * const me = await connect('http://127.0.0.1:7878');
 * await me.findPartner();
 * for await (const event of me.events()) {
 *   if (event.type === 'building') await me.chat('hello!');
 * }
 * ```
 */
import * as native from '../native';

/** The stable codes of {@link RouletteError}. */
export type ErrorCode =
  | 'connect_failed'
  | 'unauthorized'
  | 'closed'
  | 'bad_message'
  | 'invalid_argument'
  | 'host_failed';

/** Any error from Roulette. */
export class RouletteError extends Error {
  readonly code: ErrorCode | string;
  constructor(message: string, code: ErrorCode | string) {
    super(message);
    this.name = 'RouletteError';
    this.code = code;
  }
}

function translate(error: unknown): unknown {
  if (error instanceof Error) {
    const m = /^\[([a-z_]+)\] ([\s\S]*)$/.exec(error.message);
    if (m) return new RouletteError(m[2], m[1]);
  }
  return error;
}

async function call<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (e) {
    throw translate(e);
  }
}

/** A participant id. */
export type Id = number;

/** Events from the server (as in docs/protocol.md) and from the client itself. */
export type RouletteEvent =
  | { type: 'welcome'; version: number; you: Id; name: string; token?: string; room?: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'queued'; position: number; online: number }
  | { type: 'invite_created'; code: string; expires_in_ms: number }
  | { type: 'matched'; room: number; kind: 'pairing' | 'chat'; partner: Id; partner_name: string; host?: Id }
  | { type: 'planning'; ideas: { id: number; text: string; author?: Id }[]; ends_in_ms: number }
  | { type: 'tally'; idea: number; up: number; down: number }
  | {
      type: 'building';
      idea: { id: number; text: string };
      host: Id;
      driver: Id;
      ends_in_ms: number;
      rematch_for_ms: number;
    }
  | { type: 'driver_changed'; driver: Id; why: string }
  | { type: 'swap_requested'; by: Id; expires_in_ms: number }
  | { type: 'prompt_waiting'; prompt: { id: number; author: Id; text: string; warnings: unknown[]; awaiting: string } }
  | { type: 'chat'; from: Id; text: string }
  | { type: 'warning'; remaining_ms: number }
  | { type: 'extended'; ends_in_ms: number }
  | { type: 'ended'; reason: { kind: string; [k: string]: unknown } }
  | { type: 'output'; offset: number; data: Buffer }
  | { type: 'snapshot'; offset: number; data: Buffer }
  | { type: 'reconnecting'; in_ms: number }
  | { type: 'reconnected' }
  | { type: 'host'; status: string; detail: string }
  | { type: 'closed'; code: number | null; reason: string }
  | { type: string; [k: string]: unknown };

function decode(text: string | null): RouletteEvent | null {
  if (text === null) return null;
  const event = JSON.parse(text) as { type: string; data?: unknown; [k: string]: unknown };
  if ((event.type === 'output' || event.type === 'snapshot') && typeof event.data === 'string') {
    event.data = Buffer.from(event.data, 'base64');
  }
  return event as RouletteEvent;
}

/** A client message (see docs/protocol.md). */
export type ClientMessage = { type: string; [k: string]: unknown };

abstract class Events {
  protected abstract nextRaw(): Promise<string | null>;

  /** The next event, or null once closed. */
  async nextEvent(): Promise<RouletteEvent | null> {
    return decode(await call(this.nextRaw()));
  }

  /** Every event until the connection closes. */
  async *events(): AsyncIterableIterator<RouletteEvent> {
    for (;;) {
      const event = await this.nextEvent();
      if (event === null) return;
      yield event;
    }
  }
}

/** A participant's connection. */
export class Session extends Events {
  constructor(private readonly native: native.Participant) {
    super();
  }

  protected nextRaw(): Promise<string | null> {
    return this.native.nextEvent();
  }

  get participant(): Id {
    return this.native.participant;
  }
  get name(): string {
    return this.native.name;
  }
  /** A new guest's token: connect with it again to be the same participant. */
  get token(): string | null {
    return this.native.token ?? null;
  }

  /** Sends any client message. */
  send(message: ClientMessage): Promise<void> {
    return call(this.native.sendJson(JSON.stringify(message)));
  }
  findPartner(kind: 'pairing' | 'chat' = 'pairing'): Promise<void> {
    return this.send({ type: 'find_partner', kind });
  }
  cancelSearch(): Promise<void> {
    return this.send({ type: 'cancel_search' });
  }
  createInvite(): Promise<void> {
    return this.send({ type: 'create_invite' });
  }
  redeemInvite(code: string): Promise<void> {
    return this.send({ type: 'redeem_invite', code });
  }
  chat(text: string): Promise<void> {
    return this.send({ type: 'chat', text });
  }
  addIdea(text: string): Promise<void> {
    return this.send({ type: 'add_idea', text });
  }
  vote(idea: number, vote: 'up' | 'down' | 'clear' = 'up'): Promise<void> {
    return this.send({ type: 'vote', idea, vote });
  }
  requestSwap(): Promise<void> {
    return this.send({ type: 'request_swap' });
  }
  answerSwap(accept: boolean): Promise<void> {
    return this.send({ type: 'answer_swap', accept });
  }
  suggestPrompt(text: string): Promise<void> {
    return this.send({ type: 'suggest_prompt', text });
  }
  skip(): Promise<void> {
    return this.send({ type: 'skip' });
  }
  report(reason = ''): Promise<void> {
    return this.send({ type: 'report', reason });
  }
  leave(): Promise<void> {
    return this.send({ type: 'leave' });
  }
  /** Terminal input; only the driver's reaches the agent. */
  input(data: string): Promise<void> {
    return call(this.native.input(data));
  }
  resize(cols: number, rows: number): Promise<void> {
    return this.send({ type: 'resize', cols, rows });
  }
  close(): void {
    this.native.close();
  }
}

/** Connects as a participant (`chat: true`: the chat roulette, whose proof of work is solved
 * for you). Without a token the server signs you in as a new guest. */
export async function connect(
  server: string,
  options: { token?: string; chat?: boolean } = {},
): Promise<Session> {
  return new Session(await call(native.Participant.connect(server, options.token, options.chat)));
}

/** A host agent: a command in a PTY on this machine, streamed through the relay. */
export class Host extends Events {
  constructor(private readonly native: native.Host) {
    super();
  }
  protected nextRaw(): Promise<string | null> {
    return this.native.nextEvent();
  }
  send(message: ClientMessage): Promise<void> {
    return call(this.native.sendJson(JSON.stringify(message)));
  }
  /** Types at the host's own keyboard. */
  keys(data: string): Promise<void> {
    return call(this.native.keys(data));
  }
  decideLine(line: number, allow: boolean): Promise<void> {
    return call(this.native.decideLine(line, allow));
  }
  stop(): void {
    this.native.stop();
  }
}

/** Starts a host agent running `command` (`claude` by default) in a PTY. With `output: true`
 * the agent's output comes as `output` events too (read them, or they pile up). */
export async function host(
  server: string,
  token: string,
  command: string[] = [],
  options: { invite?: boolean; once?: boolean; output?: boolean } = {},
): Promise<Host> {
  return new Host(
    await call(native.Host.start(server, token, command, options.invite, options.once, options.output)),
  );
}
