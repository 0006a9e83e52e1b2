// The wire protocol (docs/protocol.md): JSON control messages tagged by `type`, and binary
// packets with a 10-byte header (kind, flags, u64 big-endian offset).

export type Id = number;

export interface Idea {
  id: Id;
  text: string;
  author: Id | null;
}

export interface Warning {
  kind: string;
  matched: string;
  reason: string;
}

export interface Prompt {
  id: Id;
  author: Id;
  text: string;
  warnings: Warning[];
  awaiting: 'driver' | 'host';
}

/** A tool call of the agent's that waits for the host. */
export interface Approval {
  id: Id;
  tool: string;
  summary: string;
  warnings: Warning[];
  /** `roulette`: the host allows or denies it here; `agent_screen`: the agent's own dialog. */
  place: 'roulette' | 'agent_screen';
  driver: Id;
}

export type ApprovalOutcome = 'allowed' | 'denied' | 'timed_out' | 'withdrawn';

export interface AgentPolicy {
  approvals: boolean;
  hold_changes: boolean;
  hold_keys: boolean;
}

export type EndReason =
  | { kind: 'timer' }
  | { kind: 'partner_left'; who: Id }
  | { kind: 'rematch'; by: Id }
  | { kind: 'check_in_declined'; by: Id | null }
  | { kind: 'host_gone' }
  | { kind: 'reported'; by: Id }
  | { kind: 'skipped'; by: Id }
  | { kind: 'idle' }
  | { kind: 'agent_exited'; code: number | null; early: boolean };

export type ServerMessage =
  | { type: 'welcome'; version: number; you: Id; name: string; token?: string | null; room?: Id | null }
  | { type: 'error'; code: string; message: string }
  | { type: 'queued'; position: number; online: number }
  | { type: 'invite_created'; code: string; expires_in_ms: number }
  | { type: 'matched'; room: Id; kind: 'pairing' | 'chat'; partner: Id; partner_name: string; host: Id | null }
  | { type: 'planning'; ideas: Idea[]; ends_in_ms: number }
  | { type: 'idea_added'; idea: Idea }
  | { type: 'tally'; idea: Id; up: number; down: number }
  | { type: 'building'; idea: Idea; host: Id; driver: Id; ends_in_ms: number; rematch_for_ms: number }
  | { type: 'chat_started' }
  | { type: 'driver_changed'; driver: Id; why: 'swapped' | 'reclaimed' }
  | { type: 'swap_requested'; by: Id; expires_in_ms: number }
  | { type: 'swap_declined'; by: Id }
  | { type: 'swap_expired' }
  | { type: 'prompt_waiting'; prompt: Prompt }
  | { type: 'prompt_rejected'; id: Id; by: Id }
  | { type: 'prompt_sent'; id: Id; by: Id }
  | { type: 'line_held'; id: Id; preview: string }
  | { type: 'line_approved'; id: Id }
  | { type: 'line_rejected'; id: Id }
  | { type: 'approval_waiting'; approval: Approval }
  | { type: 'approval_resolved'; id: Id; outcome: ApprovalOutcome; reason: string }
  | { type: 'agent_policy'; policy: AgentPolicy }
  | { type: 'chat'; from: Id; text: string }
  | { type: 'typing'; who: Id }
  | { type: 'check_in'; respond_within_ms: number }
  | { type: 'check_in_answered'; who: Id; keep_going: boolean }
  | { type: 'check_in_passed' }
  | { type: 'warning'; remaining_ms: number }
  | { type: 'extension_requested'; by: Id; expires_in_ms: number }
  | { type: 'extension_declined'; by: Id }
  | { type: 'extension_expired' }
  | { type: 'extended'; ends_in_ms: number }
  | { type: 'rematch_closed' }
  | { type: 'partner_away'; who: Id; grace_ms: number }
  | { type: 'partner_back'; who: Id }
  | { type: 'agent_away'; grace_ms: number }
  | { type: 'agent_back' }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'agent_exited'; code: number | null }
  | { type: 'latency'; who: Id; rtt_ms: number }
  | { type: 'ended'; reason: EndReason }
  | { type: 'ack'; offset: number }
  | { type: 'shutdown'; reconnect_after_ms: number };

export type ClientMessage =
  | { type: 'hello'; versions: number[]; ticket?: string; resume_from?: number }
  | { type: 'find_partner'; kind: 'pairing' | 'chat' }
  | { type: 'cancel_search' }
  | { type: 'create_invite' }
  | { type: 'redeem_invite'; code: string }
  | { type: 'chat'; text: string }
  | { type: 'typing' }
  | { type: 'add_idea'; text: string }
  | { type: 'vote'; idea: Id; vote: 'up' | 'down' | 'clear' }
  | { type: 'request_swap' }
  | { type: 'answer_swap'; accept: boolean }
  | { type: 'reclaim' }
  | { type: 'suggest_prompt'; text: string }
  | { type: 'submit_prompt'; text: string; acknowledge_warnings: boolean }
  | { type: 'decide_prompt'; id: Id; approve: boolean; acknowledge_warnings: boolean }
  | { type: 'decide_line'; id: Id; approve: boolean }
  | { type: 'decide_approval'; id: Id; allow: boolean; reason: string }
  | { type: 'check_in'; keep_going: boolean }
  | { type: 'request_extension' }
  | { type: 'answer_extension'; accept: boolean }
  | { type: 'rematch' }
  | { type: 'leave' }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'ack'; offset: number };

export const PROTOCOL_VERSION = 1;

/** Packet kinds. */
export const KIND_OUTPUT = 1;
export const KIND_INPUT = 2;
export const KIND_SNAPSHOT = 3;
export const KIND_CONTROL = 4;
const FLAG_MORE = 1;
export const HEADER_LEN = 10;
/** Largest packet, header included. */
export const MAX_PACKET = 65536;
/** Largest reassembled snapshot. */
export const MAX_FRAME = 4 * 1024 * 1024;

export interface Packet {
  kind: number;
  more: boolean;
  offset: number;
  payload: Uint8Array;
}

/** Decodes one binary packet, or says why it is malformed. */
export function decodePacket(data: ArrayBuffer): Packet | string {
  if (data.byteLength < HEADER_LEN) return 'packet shorter than its header';
  if (data.byteLength > MAX_PACKET) return 'packet over 65536 bytes';
  const view = new DataView(data);
  const kind = view.getUint8(0);
  const flags = view.getUint8(1);
  if (kind < KIND_OUTPUT || kind > KIND_CONTROL) return `unknown packet kind ${kind}`;
  if ((flags & ~FLAG_MORE) !== 0) return 'reserved flag bits set';
  const offset = view.getBigUint64(2, false);
  if (offset > BigInt(Number.MAX_SAFE_INTEGER)) return 'offset out of range';
  return {
    kind,
    more: (flags & FLAG_MORE) !== 0,
    offset: Number(offset),
    payload: new Uint8Array(data, HEADER_LEN),
  };
}

/** Encodes terminal input as packets of at most 64 KiB. */
export function encodeInput(bytes: Uint8Array): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const room = MAX_PACKET - HEADER_LEN;
  for (let at = 0; at < bytes.length; at += room) {
    const part = bytes.subarray(at, Math.min(bytes.length, at + room));
    const buf = new ArrayBuffer(HEADER_LEN + part.length);
    const view = new DataView(buf);
    view.setUint8(0, KIND_INPUT);
    view.setUint8(1, 0);
    view.setBigUint64(2, 0n, false);
    new Uint8Array(buf, HEADER_LEN).set(part);
    out.push(buf);
  }
  return out;
}

/** Reassembles fragmented snapshots (MORE on every fragment but the last). */
export class Reassembler {
  private parts: Uint8Array[] = [];
  private size = 0;
  private offset = -1;
  private kind = 0;

  /** Adds a fragment; returns the whole frame when its last fragment arrives. */
  push(p: Packet): { kind: number; offset: number; payload: Uint8Array } | string | null {
    if (this.parts.length > 0 && (p.kind !== this.kind || p.offset !== this.offset)) {
      this.reset();
      return 'fragments of different frames interleaved';
    }
    this.kind = p.kind;
    this.offset = p.offset;
    this.parts.push(p.payload);
    this.size += p.payload.length;
    if (this.size > MAX_FRAME) {
      this.reset();
      return 'reassembled frame too large';
    }
    if (p.more) return null;
    const whole = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      whole.set(part, at);
      at += part.length;
    }
    const frame = { kind: this.kind, offset: this.offset, payload: whole };
    this.reset();
    return frame;
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
    this.offset = -1;
    this.kind = 0;
  }
}

/**
 * Text from a partner, made inert once more before display: escape sequences, C0 and C1
 * controls (but tab and newline), bidirectional overrides and zero-width characters go. The
 * result is only ever set as `textContent`.
 */
export function sanitize(text: string): string {
  return text
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g, '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    .replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, '');
}
