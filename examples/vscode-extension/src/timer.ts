// The session timer on the status bar: what the server says about the end, kept on passed-in
// time so it can be tested without a clock.

export interface TimerState {
  /** When the session ends (ms since the epoch), while building. */
  endsAt: number | null;
  /** A warning came: the end is near. */
  warned: boolean;
  /** The session is over. */
  ended: boolean;
}

export const idle = (): TimerState => ({ endsAt: null, warned: false, ended: false });

type Event = { type: string; [k: string]: unknown };

/** Applies a server event received at `now`. */
export function applyEvent(state: TimerState, event: Event, now: number): TimerState {
  switch (event.type) {
    case 'building':
    case 'extended':
      return { endsAt: now + Number(event.ends_in_ms), warned: false, ended: false };
    case 'warning':
      return { ...state, endsAt: now + Number(event.remaining_ms), warned: true };
    case 'ended':
      return { endsAt: null, warned: false, ended: true };
    default:
      return state;
  }
}

/** Minutes and seconds, `m:ss`. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${s.toString().padStart(2, '0')}`;
}

/** The status bar's text at `now`, or null when there is nothing to show. */
export function label(state: TimerState, now: number): string | null {
  if (state.ended) return '$(debug-stop) Roulette: session over';
  if (state.endsAt === null) return null;
  const icon = state.warned ? '$(warning)' : '$(watch)';
  return `${icon} Roulette ${clock(state.endsAt - now)}`;
}
