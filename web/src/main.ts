// The Roulette browser app: home, queue, invite, session and end screens on one WebSocket.

import { hostToken, serverConfig, signIn, takeLoginFromFragment } from './api';
import { button, byTestId, clock, el, show } from './dom';
import { Link, LinkState } from './link';
import {
  AgentPolicy,
  Approval,
  EndReason,
  Id,
  Idea,
  KIND_OUTPUT,
  KIND_SNAPSHOT,
  Prompt,
  Reassembler,
  ServerMessage,
  decodePacket,
  sanitize,
} from './protocol';
import { SharedTerminal } from './terminal';

type View = 'loading' | 'home' | 'invite' | 'queue' | 'session' | 'ended';

interface IdeaState {
  idea: Idea;
  up: number;
  down: number;
  mine: 'up' | 'down' | null;
}

interface Room {
  id: Id;
  kind: 'pairing' | 'chat';
  partner: Id;
  partnerName: string;
  host: Id | null;
  phase: 'waiting' | 'planning' | 'building';
  ideas: Map<Id, IdeaState>;
  driver: Id | null;
  endsAt: number;
  rematchUntil: number;
  rematchClosed: boolean;
  extensionUsed: boolean;
  swapPendingFromMe: boolean;
  prompts: Map<Id, Prompt>;
  lines: Map<Id, string>;
  approvals: Map<Id, Approval>;
  policy: AgentPolicy | null;
  termSize: { cols: number; rows: number } | null;
  project: string;
}

const state = {
  me: null as Id | null,
  name: '',
  view: 'loading' as View,
  room: null as Room | null,
  inviteCode: null as string | null,
  autoFind: false,
  fit: null as { cols: number; rows: number } | null,
  latency: new Map<Id, number>(),
  linkDown: false,
  agentAway: false,
  typingUntil: 0,
  lastTypingSent: 0,
  lastNavigatorHint: -Infinity,
  requeued: false,
};

const now = () => performance.now();

// ---- routing on load -------------------------------------------------------------------------

takeLoginFromFragment();
const inviteMatch = /^\/invite\/([A-Za-z2-7 ]{1,64})\/?$/.exec(decodeURIComponent(location.pathname));
if (inviteMatch) state.inviteCode = inviteMatch[1].trim();
state.autoFind = new URLSearchParams(location.search).has('find');

// ---- views -----------------------------------------------------------------------------------

function setView(view: View): void {
  state.view = view;
  for (const section of document.querySelectorAll<HTMLElement>('[data-view]')) {
    section.hidden = section.dataset.view !== view;
  }
  if (view === 'session') terminal.measure();
}

let noticeTimer: number | undefined;
function notice(text: string): void {
  const n = byTestId('notice');
  n.textContent = text;
  show(n, true);
  window.clearTimeout(noticeTimer);
  noticeTimer = window.setTimeout(() => show(n, false), 6000);
}

function renderBanner(detail = ''): void {
  const b = byTestId('reconnect-banner');
  if (state.linkDown) {
    b.textContent = `Connection lost${detail ? ` (${detail})` : ''}; reconnecting…`;
  } else if (state.agentAway) {
    b.textContent = "The host's agent lost its connection; waiting for it to come back. Nothing is lost.";
  } else {
    b.textContent = '';
  }
  show(b, state.linkDown || state.agentAway);
}

// ---- the connection --------------------------------------------------------------------------

const reassembler = new Reassembler();

const link = new Link({
  message: (m) => onMessage(m),
  binary: (data) => onBinary(data),
  state: (s: LinkState, detail: string) => {
    state.linkDown = s === 'reconnecting';
    if (s === 'closed') {
      state.linkDown = false;
      notice(`Disconnected: ${detail}. Reload the page to connect again.`);
    }
    renderBanner(detail);
  },
  resumeFrom: () => (state.room ? terminal.offset : undefined),
});

const terminal = new SharedTerminal(byTestId('terminal'), {
  input: (bytes) => {
    const r = state.room;
    if (r && r.phase === 'building' && r.driver === state.me) {
      link.sendInput(bytes);
    } else if (now() - state.lastNavigatorHint > 3000) {
      state.lastNavigatorHint = now();
      notice('You are the navigator: your keys do not reach the agent. Suggest a prompt, or ask to drive.');
    }
  },
  ack: (offset) => link.send({ type: 'ack', offset }),
  fits: (cols, rows) => {
    state.fit = { cols, rows };
    applySize();
  },
});

function isDriver(): boolean {
  const r = state.room;
  return !!r && r.phase === 'building' && r.driver === state.me;
}

/** The driver's window sets the PTY's size; everyone else shows that size and is told when
 * their window is too small for it. */
function applySize(): void {
  const r = state.room;
  const warn = byTestId('size-warning');
  if (!r || !state.fit) {
    show(warn, false);
    return;
  }
  if (isDriver()) {
    const { cols, rows } = state.fit;
    if (!r.termSize || r.termSize.cols !== cols || r.termSize.rows !== rows) {
      r.termSize = { cols, rows };
      link.send({ type: 'resize', cols, rows });
    }
    terminal.resize(cols, rows);
    show(warn, false);
    return;
  }
  if (r.termSize) {
    terminal.resize(r.termSize.cols, r.termSize.rows);
    const small = state.fit.cols < r.termSize.cols || state.fit.rows < r.termSize.rows;
    warn.textContent = `Your window is smaller than the driver's terminal (${r.termSize.cols}×${r.termSize.rows}); part of it is cut off. Enlarge the window or zoom out.`;
    show(warn, small);
  }
}

function onBinary(data: ArrayBuffer): void {
  const p = decodePacket(data);
  if (typeof p === 'string') return;
  if (p.kind === KIND_OUTPUT) {
    terminal.output(p.offset, p.payload);
  } else if (p.kind === KIND_SNAPSHOT) {
    const frame = reassembler.push(p);
    if (frame && typeof frame !== 'string') terminal.snapshot(frame.offset, frame.payload);
  }
}

function newRoom(m: Extract<ServerMessage, { type: 'matched' }>): Room {
  return {
    id: m.room,
    kind: m.kind,
    partner: m.partner,
    partnerName: sanitize(m.partner_name),
    host: m.host,
    phase: 'waiting',
    ideas: new Map(),
    driver: null,
    endsAt: 0,
    rematchUntil: 0,
    rematchClosed: false,
    extensionUsed: false,
    swapPendingFromMe: false,
    prompts: new Map(),
    lines: new Map(),
    approvals: new Map(),
    policy: null,
    termSize: null,
    project: '',
  };
}

function who(id: Id | null | undefined): string {
  if (id === state.me) return 'You';
  const r = state.room;
  if (r && id === r.partner) return r.partnerName;
  return 'Someone';
}

function endText(reason: EndReason): string {
  const me = state.me;
  switch (reason.kind) {
    case 'timer':
      return 'Time is up. Nice work!';
    case 'partner_left':
      return reason.who === me ? 'You left the session.' : 'Your partner left the session.';
    case 'rematch':
      return reason.by === me ? 'You took a rematch.' : 'Your partner took a rematch (no fault of yours).';
    case 'check_in_declined':
      if (reason.by === null) return 'Nobody answered the check-in in time.';
      return reason.by === me ? 'You chose to stop at the check-in.' : 'Your partner chose to stop at the check-in.';
    case 'host_gone':
      return "The host's agent did not come back.";
    case 'reported':
      return reason.by === me ? 'You reported your partner.' : 'The session was ended by a report.';
    case 'skipped':
      return 'The chat moved on.';
    case 'idle':
      return 'The room was idle for too long.';
    case 'agent_exited':
      return reason.early
        ? "The host's agent exited as the session began, so it could not start. You keep your place at the head of the queue."
        : "The host's agent exited, so the session ended.";
  }
}

/** A tool call as people read it: `Bash(rm -rf build)`. */
function callText(a: Approval): string {
  return `${sanitize(a.tool)}(${sanitize(a.summary)})`;
}

function outcomeText(a: Approval, outcome: string, reason: string): string {
  const why = reason ? `: ${sanitize(reason)}` : '.';
  switch (outcome) {
    case 'allowed':
      return `The host allowed ${callText(a)}.`;
    case 'denied':
      return `The host denied ${callText(a)}${why}`;
    case 'timed_out':
      return `Nobody answered in time, so ${callText(a)} was denied.`;
    default:
      return `The agent stopped waiting for ${callText(a)}.`;
  }
}

function onMessage(m: ServerMessage): void {
  const r = state.room;
  switch (m.type) {
    case 'welcome': {
      state.me = m.you;
      state.name = sanitize(m.name);
      byTestId('me').textContent = `You are ${state.name}`;
      byTestId('signed-in-as').textContent = state.name;
      if (m.room === null || m.room === undefined) {
        if (state.room) {
          // The session ended while this page was away.
          state.room = null;
          byTestId('end-reason').textContent = 'The session ended while you were disconnected.';
          setView('ended');
        } else if (state.view === 'loading') {
          if (state.inviteCode) {
            setView('invite');
          } else {
            setView('home');
            if (state.autoFind) {
              state.autoFind = false;
              link.send({ type: 'find_partner', kind: 'pairing' });
            }
          }
        }
      }
      break;
    }
    case 'error':
      if (m.code === 'invite_invalid') {
        notice('This invite link is not valid: it was used, has lapsed, or is your own.');
      } else if (m.code === 'agent_waits_for_host') {
        // The swap still waits: the host answers the agent on its screen, then accepts.
        notice('The agent is waiting for your answer on its screen: answer it there first, then accept the swap.');
        show(byTestId('swap-dialog'), true);
      } else if (m.code === 'no_host') {
        notice('Neither of you has a host agent connected: one of you must run `roulette host` first (see Host).');
      } else {
        notice(sanitize(m.message));
      }
      break;
    case 'queued':
      byTestId('queue-position').textContent = String(m.position);
      byTestId('online-count').textContent = String(m.online);
      if (state.view === 'ended') {
        // Back in the queue (after a rematch, or a host's agent looking for the next partner):
        // say so under the reason instead of hiding it.
        state.requeued = true;
        const q = byTestId('end-queue');
        q.textContent = `You are back in the queue for someone new (position ${m.position}).`;
        show(q, true);
      } else if (state.view !== 'session') {
        setView('queue');
      }
      break;
    case 'invite_created': {
      if (state.view === 'queue') setView('home');
      const url = `${location.origin}/invite/${encodeURIComponent(m.code)}`;
      byTestId<HTMLInputElement>('invite-link').value = url;
      show(byTestId('invite-panel'), true);
      break;
    }
    case 'matched': {
      if (!r || r.id !== m.room) {
        state.room = newRoom(m);
        terminal.restart();
        reassembler.reset();
        byTestId('chat-log').replaceChildren();
        byTestId('partner').textContent = `with ${sanitize(m.partner_name)}`;
        show(byTestId('invite-panel'), false);
        for (const id of ['swap-dialog', 'extension-dialog', 'check-in-dialog', 'warning']) show(byTestId(id), false);
      }
      setView('session');
      break;
    }
    case 'planning':
      if (!r) break;
      r.phase = 'planning';
      r.endsAt = now() + m.ends_in_ms;
      for (const idea of m.ideas) {
        const old = r.ideas.get(idea.id);
        r.ideas.set(idea.id, { idea, up: old?.up ?? 0, down: old?.down ?? 0, mine: old?.mine ?? null });
      }
      break;
    case 'idea_added':
      r?.ideas.set(m.idea.id, { idea: m.idea, up: 0, down: 0, mine: null });
      break;
    case 'tally': {
      const i = r?.ideas.get(m.idea);
      if (i) {
        i.up = m.up;
        i.down = m.down;
      }
      break;
    }
    case 'building':
      if (!r) break;
      r.phase = 'building';
      r.host = m.host;
      r.driver = m.driver;
      r.endsAt = now() + m.ends_in_ms;
      r.rematchUntil = now() + m.rematch_for_ms;
      r.project = sanitize(m.idea.text);
      applySize();
      break;
    case 'chat_started':
      if (r) r.phase = 'building';
      break;
    case 'driver_changed':
      if (!r) break;
      r.driver = m.driver;
      r.swapPendingFromMe = false;
      r.lines.clear();
      show(byTestId('swap-dialog'), false);
      notice(m.driver === state.me ? 'You are driving now.' : `${who(m.driver)} is driving now.`);
      applySize();
      if (m.driver === state.me) terminal.focus();
      break;
    case 'swap_requested':
      if (!r) break;
      if (m.by === state.me) {
        r.swapPendingFromMe = true;
        notice('Asked your partner to swap roles…');
      } else {
        byTestId('swap-text').textContent =
          r.driver === state.me ? `${r.partnerName} asks to drive.` : `${r.partnerName} offers you the wheel.`;
        show(byTestId('swap-dialog'), true);
        byTestId('swap-accept').focus();
      }
      break;
    case 'swap_declined':
    case 'swap_expired':
      if (r) r.swapPendingFromMe = false;
      show(byTestId('swap-dialog'), false);
      notice(m.type === 'swap_declined' ? `${who(m.by)} declined the swap.` : 'The swap request lapsed.');
      break;
    case 'prompt_waiting':
      r?.prompts.set(m.prompt.id, m.prompt);
      break;
    case 'prompt_rejected':
      r?.prompts.delete(m.id);
      notice(`${who(m.by)} rejected a prompt.`);
      break;
    case 'prompt_sent':
      r?.prompts.delete(m.id);
      break;
    case 'line_held':
      r?.lines.set(m.id, sanitize(m.preview));
      break;
    case 'approval_waiting':
      r?.approvals.set(m.approval.id, m.approval);
      break;
    case 'approval_resolved': {
      const a = r?.approvals.get(m.id);
      r?.approvals.delete(m.id);
      if (a && a.place === 'roulette') notice(outcomeText(a, m.outcome, m.reason));
      break;
    }
    case 'agent_policy':
      if (r) r.policy = m.policy;
      break;
    case 'line_approved':
    case 'line_rejected':
      r?.lines.delete(m.id);
      break;
    case 'chat':
      addChat(m.from, m.text);
      if (m.from !== state.me) state.typingUntil = 0;
      break;
    case 'typing':
      if (m.who !== state.me) state.typingUntil = now() + 3000;
      break;
    case 'check_in':
      byTestId('check-in-status').textContent = `Answer within ${clock(m.respond_within_ms)}.`;
      show(byTestId('check-in-dialog'), true);
      byTestId('check-in-continue').focus();
      break;
    case 'check_in_answered':
      byTestId('check-in-status').textContent =
        `${who(m.who)} chose to ${m.keep_going ? 'keep going' : 'stop'}.`;
      break;
    case 'check_in_passed':
      show(byTestId('check-in-dialog'), false);
      notice('You both chose to keep going.');
      break;
    case 'warning': {
      const w = byTestId('warning');
      w.textContent = `${clock(m.remaining_ms)} left in this session.${r && !r.extensionUsed ? ' You can ask for 15 more minutes.' : ''}`;
      show(w, true);
      if (r) r.endsAt = now() + m.remaining_ms;
      break;
    }
    case 'extension_requested':
      if (m.by === state.me) {
        notice('Asked your partner for 15 more minutes…');
      } else {
        show(byTestId('extension-dialog'), true);
        byTestId('extend-accept').focus();
      }
      break;
    case 'extension_declined':
    case 'extension_expired':
      show(byTestId('extension-dialog'), false);
      notice(m.type === 'extension_declined' ? `${who(m.by)} declined the extension.` : 'The extension request lapsed.');
      break;
    case 'extended':
      show(byTestId('extension-dialog'), false);
      show(byTestId('warning'), false);
      if (r) {
        r.extensionUsed = true;
        r.endsAt = now() + m.ends_in_ms;
      }
      notice('Extended by 15 minutes.');
      break;
    case 'rematch_closed':
      if (r) r.rematchClosed = true;
      break;
    case 'partner_away':
      notice(`Your partner's connection dropped; waiting ${clock(m.grace_ms)} for them.`);
      break;
    case 'partner_back':
      notice('Your partner is back.');
      break;
    case 'agent_away':
      state.agentAway = true;
      renderBanner();
      break;
    case 'agent_back':
      state.agentAway = false;
      renderBanner();
      break;
    case 'resize':
      if (r) {
        r.termSize = { cols: m.cols, rows: m.rows };
        applySize();
      }
      break;
    case 'agent_exited':
      notice(`The agent exited${m.code === null ? '' : ` with code ${m.code}`}.`);
      break;
    case 'latency':
      state.latency.set(m.who, m.rtt_ms);
      break;
    case 'ended':
      state.room = null;
      state.requeued = false;
      show(byTestId('end-queue'), false);
      state.agentAway = false;
      renderBanner();
      byTestId('end-reason').textContent = endText(m.reason);
      setView('ended');
      break;
    case 'ack':
      break;
    case 'shutdown':
      notice('The server is restarting; reconnecting shortly.');
      break;
  }
  render();
}

function addChat(from: Id, text: string): void {
  const log = byTestId('chat-log');
  const item = el('li', {}, [el('span', { className: 'from', text: `${who(from)}:` }), el('span', { text: sanitize(text) })]);
  log.appendChild(item);
  while (log.children.length > 500) log.firstElementChild?.remove();
  log.scrollTop = log.scrollHeight;
}

// ---- rendering the session -------------------------------------------------------------------

function renderIdeas(r: Room): void {
  const list = byTestId('ideas');
  const items: HTMLElement[] = [];
  for (const s of r.ideas.values()) {
    const vote = (v: 'up' | 'down') => () => {
      const next = s.mine === v ? 'clear' : v;
      s.mine = next === 'clear' ? null : v;
      link.send({ type: 'vote', idea: s.idea.id, vote: next });
      render();
    };
    const up = button(`▲ ${s.up}`, 'vote-up', vote('up'), true);
    up.setAttribute('aria-label', `Vote up: ${s.idea.text} (${s.up} up)`);
    up.setAttribute('aria-pressed', String(s.mine === 'up'));
    const down = button(`▼ ${s.down}`, 'vote-down', vote('down'), true);
    down.setAttribute('aria-label', `Vote down: ${s.idea.text} (${s.down} down)`);
    down.setAttribute('aria-pressed', String(s.mine === 'down'));
    const author = s.idea.author === null ? '' : ` (by ${who(s.idea.author)})`;
    const li = el('li', { testid: 'vote-option' }, [el('span', { className: 'text', text: sanitize(s.idea.text) + author }), up, down]);
    li.dataset.idea = String(s.idea.id);
    items.push(li);
  }
  // Re-render only when something changed, so focus stays on the button pressed.
  const sig = items.map((i) => i.textContent + (i.querySelector('[aria-pressed="true"]') ? '*' : '')).join('|');
  if (list.dataset.sig !== sig) {
    const focused = document.activeElement as HTMLElement | null;
    const focusKey = focused?.closest('li')?.dataset.idea;
    const focusTestId = focused?.dataset.testid;
    list.replaceChildren(...items);
    list.dataset.sig = sig;
    if (focusKey && focusTestId) {
      list.querySelector<HTMLElement>(`li[data-idea="${focusKey}"] [data-testid="${focusTestId}"]`)?.focus();
    }
  }
}

function renderPrompts(r: Room): void {
  const list = byTestId('prompt-queue');
  const items: HTMLElement[] = [];
  const amHost = r.host === state.me;
  for (const p of r.prompts.values()) {
    const li = el('li', { testid: 'prompt-item' });
    li.appendChild(el('span', { className: 'text', text: `${who(p.author)}: ${sanitize(p.text)}` }));
    for (const w of p.warnings) {
      li.appendChild(el('span', { className: 'warn-text', testid: 'prompt-warning', text: `⚠ ${sanitize(w.reason)} (“${sanitize(w.matched)}”)` }));
    }
    const mine = (p.awaiting === 'driver' && isDriver()) || (p.awaiting === 'host' && amHost);
    if (mine) {
      let ack: HTMLInputElement | null = null;
      // The host approves a prompt with warnings only after saying they read them.
      if (amHost && p.warnings.length > 0) {
        ack = el('input');
        ack.type = 'checkbox';
        ack.id = `ack-${p.id}`;
        ack.dataset.testid = 'prompt-acknowledge';
        const label = el('label', { text: 'I have read the warnings' });
        label.htmlFor = ack.id;
        li.append(ack, label);
      }
      li.appendChild(
        button('Approve', 'prompt-approve', () =>
          link.send({ type: 'decide_prompt', id: p.id, approve: true, acknowledge_warnings: ack?.checked ?? false }),
        ),
      );
      li.appendChild(button('Reject', 'prompt-reject', () => link.send({ type: 'decide_prompt', id: p.id, approve: false, acknowledge_warnings: false }), true));
    } else {
      li.appendChild(el('span', { className: 'muted', text: `waiting for the ${p.awaiting}` }));
    }
    li.dataset.key = `p${p.id}:${p.awaiting}`;
    items.push(li);
  }
  if (amHost) {
    for (const [id, preview] of r.lines) {
      const li = el('li', { testid: 'line-item' }, [
        el('span', { className: 'text', text: `${r.partnerName} wants to run: ${preview}` }),
        button('Allow', 'line-approve', () => link.send({ type: 'decide_line', id, approve: true })),
        button('Refuse', 'line-reject', () => link.send({ type: 'decide_line', id, approve: false }), true),
      ]);
      li.dataset.key = `l${id}`;
      items.push(li);
    }
  }
  const sig = items.map((i) => i.dataset.key).join(',') + `|${isDriver()}`;
  if (list.dataset.sig !== sig) {
    list.replaceChildren(...items);
    list.dataset.sig = sig;
  }
}

/** What the agent waits for. The host allows or denies what Roulette holds; everyone else sees
 * that the agent waits for the host, and for what. */
function renderApprovals(r: Room): void {
  const box = byTestId('approvals');
  const amHost = r.host === state.me;
  const policy = byTestId('agent-policy');
  const p = r.policy;
  let policyText = '';
  if (p && p.approvals && !p.hold_changes) {
    policyText = amHost
      ? 'You let the agent follow your own Claude Code rules while your partner drives: it may run some commands without asking you.'
      : "The host lets the agent follow the host's own Claude Code rules while you drive: it may run some commands without asking. Permission dialogs still go to the host.";
  } else if (p && !p.approvals && r.phase === 'building') {
    policyText = p.hold_keys
      ? amHost
        ? 'Every key your partner presses waits for your approval.'
        : 'Every key you press while driving waits for the host to allow it.'
      : amHost
        ? "Your partner's lines wait for your approval; single keys (such as answers to the agent's own questions) reach it at once."
        : 'Your lines wait for the host to allow them; single keys reach the agent at once.';
  }
  policy.textContent = policyText;
  show(policy, policyText !== '');
  const sig = [...r.approvals.values()].map((a) => `${a.id}:${a.place}`).join(',') + `|${amHost}`;
  if (box.dataset.sig === sig) return;
  box.dataset.sig = sig;
  const items: HTMLElement[] = [];
  for (const a of r.approvals.values()) {
    const warnings = a.warnings.map((w) =>
      el('span', { className: 'warn-text', testid: 'approval-warning', text: `⚠ ${sanitize(w.reason)} (“${sanitize(w.matched)}”)` }),
    );
    const call = el('code', { className: 'call', testid: 'approval-call', text: callText(a) });
    if (amHost && a.place === 'roulette') {
      const item = el('div', { className: 'alert', testid: 'approval-item' });
      item.setAttribute('role', 'alertdialog');
      const lead = a.driver === state.me ? 'The agent wants to run' : `While ${who(a.driver)} drives, the agent wants to run`;
      const reason = el('input', { testid: 'approval-reason', label: 'Reason (optional), for the agent and your partner' });
      reason.placeholder = 'Reason (optional)';
      reason.maxLength = 300;
      item.append(
        el('span', { text: lead }),
        call,
        ...warnings,
        reason,
        button('Allow', 'approval-allow', () => link.send({ type: 'decide_approval', id: a.id, allow: true, reason: reason.value })),
        button('Deny', 'approval-deny', () => link.send({ type: 'decide_approval', id: a.id, allow: false, reason: reason.value }), true),
      );
      items.push(item);
    } else {
      const item = el('div', { className: 'alert warn', testid: 'approval-waiting' });
      item.setAttribute('role', 'status');
      const lead = amHost
        ? 'The agent asks you on its screen; answer it there:'
        : a.place === 'roulette'
          ? 'Waiting for the host to allow or deny:'
          : 'The agent asks the host on its screen:';
      item.append(el('span', { text: lead }), call, ...warnings);
      items.push(item);
    }
  }
  // Focus stays where it is: a key meant for the terminal must never press Allow.
  box.replaceChildren(...items);
}

function render(): void {
  const r = state.room;
  if (!r) return;
  const driving = isDriver();
  const role = byTestId('role');
  const amHost = r.host === state.me;
  if (r.phase === 'building') {
    role.textContent = `${driving ? 'Driver' : 'Navigator'}${amHost ? ' · host' : ''}`;
    role.className = `badge ${driving ? 'driver' : 'navigator'}`;
  } else {
    role.textContent = r.phase === 'planning' ? `Planning${amHost ? ' · host' : ''}` : 'Starting…';
    role.className = 'badge navigator';
  }
  const building = r.phase === 'building';
  show(byTestId('plan'), r.phase === 'planning');
  if (r.phase === 'planning') renderIdeas(r);
  const project = byTestId('project');
  project.textContent = r.project ? `Project: ${r.project}` : '';
  show(project, building && r.project !== '');
  const swap = byTestId<HTMLButtonElement>('swap-request');
  swap.textContent = driving ? 'Hand over driving' : 'Request to drive';
  show(swap, building);
  swap.disabled = r.swapPendingFromMe;
  show(byTestId('reclaim'), building && amHost && !driving);
  show(byTestId('extend'), building && !r.extensionUsed);
  show(byTestId('rematch'), !r.rematchClosed && (r.phase === 'planning' || (building && now() < r.rematchUntil)));
  byTestId('prompt-mode').textContent = driving ? '(goes to the agent; risky prompts wait for the host)' : '(a suggestion for the driver)';
  byTestId('prompt-send').textContent = driving ? 'Send prompt' : 'Suggest prompt';
  const prompt = byTestId<HTMLButtonElement>('prompt-send');
  prompt.disabled = !building;
  renderPrompts(r);
  renderApprovals(r);
  tick();
}

/** The parts that change with time: timer, typing, latency, rematch. */
function tick(): void {
  const r = state.room;
  if (!r || state.view !== 'session') return;
  const left = r.endsAt - now();
  byTestId('timer').textContent = r.phase === 'planning' ? `vote ${clock(left)}` : r.phase === 'building' ? clock(left) : '–';
  byTestId('typing').textContent = now() < state.typingUntil ? `${r.partnerName} is typing…` : '';
  const mine = state.me !== null ? state.latency.get(state.me) : undefined;
  const theirs = state.latency.get(r.partner);
  const part = (label: string, v: number | undefined) => `${label} ${v === undefined ? '–' : `${v} ms`}`;
  byTestId('latency').textContent = `${part('you', mine)} · ${part(r.partnerName, theirs)}`;
  const rematchOpen = !r.rematchClosed && (r.phase === 'planning' || (r.phase === 'building' && now() < r.rematchUntil));
  show(byTestId('rematch'), rematchOpen);
}
window.setInterval(tick, 250);

// ---- controls --------------------------------------------------------------------------------

function on(id: string, f: () => void): void {
  byTestId(id).addEventListener('click', f);
}

on('find-partner', () => {
  link.send({ type: 'find_partner', kind: 'pairing' });
});
on('find-another', () => {
  if (state.requeued) {
    // Already back in the queue after a rematch.
    state.requeued = false;
    setView('queue');
    return;
  }
  if (!link.send({ type: 'find_partner', kind: 'pairing' })) notice('Not connected yet; try again in a moment.');
});
on('cancel-search', () => {
  link.send({ type: 'cancel_search' });
  show(byTestId('invite-panel'), false);
  setView('home');
});
on('invite-create', () => {
  link.send({ type: 'create_invite' });
});
on('queue-invite', () => {
  link.send({ type: 'create_invite' });
  setView('home');
});
on('invite-accept', () => {
  if (state.inviteCode) link.send({ type: 'redeem_invite', code: state.inviteCode });
});
on('host', async () => {
  try {
    const token = await hostToken(await signIn());
    // The token goes in the environment, not on the command line, so it stays out of `ps`.
    const command = `ROULETTE_TOKEN=${token} roulette host --server ${location.origin}`;
    byTestId<HTMLInputElement>('host-command').value = command;
    show(byTestId('host-panel'), true);
    byTestId('host-command').focus();
  } catch (e) {
    notice(`Could not mint a host token: ${(e as Error).message}`);
  }
});
for (const [buttonId, inputId] of [
  ['host-copy', 'host-command'],
  ['invite-copy', 'invite-link'],
]) {
  on(buttonId, async () => {
    const input = byTestId<HTMLInputElement>(inputId);
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      notice('Copied.');
    } catch {
      notice('Press Ctrl+C to copy the selected text.');
    }
  });
}
on('swap-request', () => link.send({ type: 'request_swap' }));
on('swap-accept', () => {
  link.send({ type: 'answer_swap', accept: true });
  show(byTestId('swap-dialog'), false);
});
on('swap-decline', () => {
  link.send({ type: 'answer_swap', accept: false });
  show(byTestId('swap-dialog'), false);
});
on('reclaim', () => link.send({ type: 'reclaim' }));
on('extend', () => link.send({ type: 'request_extension' }));
on('extend-accept', () => {
  link.send({ type: 'answer_extension', accept: true });
  show(byTestId('extension-dialog'), false);
});
on('extend-decline', () => {
  link.send({ type: 'answer_extension', accept: false });
  show(byTestId('extension-dialog'), false);
});
on('check-in-continue', () => link.send({ type: 'check_in', keep_going: true }));
on('check-in-stop', () => link.send({ type: 'check_in', keep_going: false }));
on('rematch', () => link.send({ type: 'rematch' }));
on('leave', () => {
  if (window.confirm('Leave the session? It ends for both of you.')) link.send({ type: 'leave' });
});

byTestId<HTMLFormElement>('chat-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = byTestId<HTMLInputElement>('chat-input');
  const text = input.value.trim();
  if (text && link.send({ type: 'chat', text })) input.value = '';
});
byTestId('chat-input').addEventListener('input', () => {
  if (state.room && now() - state.lastTypingSent > 2000) {
    state.lastTypingSent = now();
    link.send({ type: 'typing' });
  }
});
byTestId<HTMLFormElement>('idea-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = byTestId<HTMLInputElement>('idea-input');
  const text = input.value.trim();
  if (text && link.send({ type: 'add_idea', text })) input.value = '';
});
byTestId<HTMLFormElement>('prompt-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = byTestId<HTMLTextAreaElement>('prompt-input');
  const text = input.value.trim();
  if (!text) return;
  const sent = isDriver()
    ? link.send({ type: 'submit_prompt', text, acknowledge_warnings: false })
    : link.send({ type: 'suggest_prompt', text });
  if (sent) input.value = '';
});

// For tests and assistive tools: the terminal's text.
(window as unknown as { roulette: object }).roulette = { terminalText: () => terminal.text() };

void serverConfig().then((c) => show(byTestId('github-signin'), c.github));
void link.start();
