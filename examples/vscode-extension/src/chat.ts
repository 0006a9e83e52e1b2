// The waiting-room chat's model: what the sidebar shows, from the binding's events, and what
// a typed line asks for. No VS Code here, so it is tested with node --test.

export type Who = 'me' | 'partner' | 'system';

export interface Line {
  who: Who;
  name: string;
  text: string;
}

export interface ChatState {
  me: string;
  myId: number | null;
  partner: string | null;
  online: number | null;
  lines: Line[];
}

const MAX_LINES = 300;

export const empty = (): ChatState => ({ me: '', myId: null, partner: null, online: null, lines: [] });

type Event = { type: string; [k: string]: unknown };

function say(state: ChatState, who: Who, text: string): ChatState {
  const name = who === 'me' ? state.me : who === 'partner' ? state.partner ?? 'them' : '';
  const lines = [...state.lines, { who, name, text }].slice(-MAX_LINES);
  return { ...state, lines };
}

/** What to do after an event. */
export type Next = 'nothing' | 'search';

/** Applies an event from the chat connection. */
export function applyEvent(state: ChatState, event: Event): [ChatState, Next] {
  switch (event.type) {
    case 'welcome':
      return [{ ...state, me: String(event.name), myId: Number(event.you) }, 'nothing'];
    case 'solved':
      return [say(state, 'system', 'Looking for someone who is waiting too...'), state.partner ? 'nothing' : 'search'];
    case 'queued':
      return [{ ...state, online: Number(event.online) }, 'nothing'];
    case 'matched': {
      const partner = String(event.partner_name);
      return [say({ ...state, partner }, 'system', `You are talking to ${partner}.`), 'nothing'];
    }
    case 'chat': {
      const who: Who = Number(event.from) === state.myId ? 'me' : 'partner';
      return [say(state, who, String(event.text)), 'nothing'];
    }
    case 'insights':
      return [
        say(
          { ...state, online: Number(event.online) },
          'system',
          `${event.online} online, ${event.waiting} waiting; ${event.conversations_total} conversations so far`,
        ),
        'nothing',
      ];
    case 'ended': {
      const reason = (event.reason ?? {}) as { kind?: string };
      const skipped = reason.kind === 'skipped';
      const left = say({ ...state, partner: null }, 'system', `${state.partner ?? 'Your partner'} left. Looking for someone new...`);
      // After a skip the server requeues both; otherwise the client asks.
      return [left, skipped ? 'nothing' : 'search'];
    }
    case 'error':
      return [say(state, 'system', `! ${String(event.message)}`), 'nothing'];
    case 'reconnecting':
      return [say(state, 'system', 'Connection lost; reconnecting...'), 'nothing'];
    default:
      return [state, 'nothing'];
  }
}

/** A typed line: a message for the server, or none. */
export type Action =
  | { kind: 'send'; message: { type: string; [k: string]: unknown } }
  | { kind: 'none'; note?: string };

export function submit(state: ChatState, line: string): Action {
  const text = line.trim();
  if (!text) return { kind: 'none' };
  const [command, ...rest] = text.split(' ');
  switch (command) {
    case '/skip':
      return state.partner ? { kind: 'send', message: { type: 'skip' } } : { kind: 'none', note: 'nobody to skip yet' };
    case '/report':
      return state.partner
        ? { kind: 'send', message: { type: 'report', reason: rest.join(' ') } }
        : { kind: 'none', note: 'nobody to report yet' };
    case '/insights':
      return { kind: 'send', message: { type: 'insights' } };
    default:
      if (command.startsWith('/')) return { kind: 'none', note: `unknown command ${command}` };
      if (!state.partner) return { kind: 'none', note: 'nobody to talk to yet' };
      return { kind: 'send', message: { type: 'chat', text } };
  }
}
