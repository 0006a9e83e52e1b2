// What is not VS Code glue: the chat model, the status bar timer, invite links, the sidebar page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as chat from '../out/chat.js';
import * as timer from '../out/timer.js';
import { inviteLink, agentCommand } from '../out/invite.js';
import { chatPage, nonce } from '../out/webview.js';

test('the chat model follows the conversation and searches again when the partner leaves', () => {
  let s = chat.empty();
  let next;
  [s] = chat.applyEvent(s, { type: 'welcome', you: 1, name: 'brave-otter', version: 1 });
  [s, next] = chat.applyEvent(s, { type: 'solved' });
  assert.equal(next, 'search');
  [s] = chat.applyEvent(s, { type: 'matched', partner: 2, partner_name: 'calm-heron', kind: 'chat', room: 1 });
  assert.equal(s.partner, 'calm-heron');
  [s] = chat.applyEvent(s, { type: 'chat', from: 2, text: 'hi' });
  [s] = chat.applyEvent(s, { type: 'chat', from: 1, text: 'hello' });
  assert.deepEqual(s.lines.slice(-2), [
    { who: 'partner', name: 'calm-heron', text: 'hi' },
    { who: 'me', name: 'brave-otter', text: 'hello' },
  ]);
  [s, next] = chat.applyEvent(s, { type: 'ended', reason: { kind: 'skipped', by: 2 } });
  assert.equal(next, 'nothing', 'after a skip the server requeues');
  [s] = chat.applyEvent(s, { type: 'matched', partner: 3, partner_name: 'kind-wren', kind: 'chat', room: 2 });
  [s, next] = chat.applyEvent(s, { type: 'ended', reason: { kind: 'partner_left', who: 3 } });
  assert.equal(next, 'search');
  assert.equal(s.partner, null);
});

test('typed lines become messages and commands', () => {
  const alone = chat.empty();
  assert.equal(chat.submit(alone, 'hi?').kind, 'none');
  assert.deepEqual(chat.submit(alone, '/insights'), { kind: 'send', message: { type: 'insights' } });
  const with_ = { ...alone, partner: 'calm-heron' };
  assert.deepEqual(chat.submit(with_, ' hi there '), { kind: 'send', message: { type: 'chat', text: 'hi there' } });
  assert.deepEqual(chat.submit(with_, '/skip'), { kind: 'send', message: { type: 'skip' } });
  assert.deepEqual(chat.submit(with_, '/report spam'), { kind: 'send', message: { type: 'report', reason: 'spam' } });
  assert.equal(chat.submit(with_, '/nope').kind, 'none');
});

test('the status bar timer counts down, warns, grows with the extension and ends', () => {
  let t = timer.idle();
  assert.equal(timer.label(t, 0), null);
  t = timer.applyEvent(t, { type: 'building', ends_in_ms: 30 * 60_000 }, 1_000);
  assert.equal(timer.label(t, 1_000), '$(watch) Roulette 30:00');
  assert.equal(timer.label(t, 1_000 + 61_500), '$(watch) Roulette 28:59');
  t = timer.applyEvent(t, { type: 'warning', remaining_ms: 300_000 }, 25 * 60_000);
  assert.match(timer.label(t, 25 * 60_000), /^\$\(warning\) Roulette 5:00$/);
  t = timer.applyEvent(t, { type: 'extended', ends_in_ms: 20 * 60_000 }, 26 * 60_000);
  assert.equal(timer.label(t, 26 * 60_000), '$(watch) Roulette 20:00');
  assert.equal(timer.label(t, 60 * 60_000), '$(watch) Roulette 0:00');
  t = timer.applyEvent(t, { type: 'ended', reason: { kind: 'timer' } }, 47 * 60_000);
  assert.match(timer.label(t, 0), /session over/);
});

test('invite links and the agent command', () => {
  assert.equal(inviteLink('http://x:7878/', 'ABC def'), 'http://x:7878/invite/ABC%20def');
  assert.deepEqual(agentCommand('  '), ['claude']);
  assert.deepEqual(agentCommand('claude --model opus'), ['claude', '--model', 'opus']);
});

test('the sidebar page has a strict CSP and never parses chat as HTML', () => {
  const n = nonce(() => 0.5);
  assert.equal(n.length, 32);
  const page = chatPage(n, 'vscode-resource:');
  assert.match(page, /default-src 'none'/);
  assert.match(page, new RegExp(`script-src 'nonce-${n}'`));
  assert.doesNotMatch(page, /innerHTML/);
  assert.match(page, /textContent/);
});
