// The Node binding against a real server: a session with a host agent running a shell, the
// chat roulette, and errors with stable codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, host, RouletteError } from '../dist/index.js';
import { startServer, until } from './helpers.mjs';

test('a session with a host agent running a shell', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const h = await host(server.url, server.hostToken(), ['sh']);
  await until(h, (e) => e.type === 'host' && e.status === 'waiting', 'the host waiting');
  const me = await connect(server.url);
  assert.ok(me.token, 'a new guest gets a token');
  await me.findPartner();
  const building = await until(me, (e) => e.type === 'building', 'building');
  assert.equal(building.driver, building.host);
  assert.notEqual(building.host, me.participant);
  await me.chat('hello from node');
  const note = await until(h, (e) => e.type === 'host' && e.status === 'notice', 'the chat');
  assert.match(note.detail, /hello from node$/);
  await h.keys('echo from-the-$((40 + 2))\r');
  let seen = Buffer.alloc(0);
  await until(
    me,
    (e) => {
      if (e.type === 'output' || e.type === 'snapshot') {
        assert.ok(Buffer.isBuffer(e.data));
        seen = Buffer.concat([seen, e.data]);
      }
      return seen.includes('from-the-42');
    },
    'the output',
  );
  await me.input('echo nope\r');
  const refused = await until(me, (e) => e.type === 'error', 'the refusal');
  assert.equal(refused.code, 'not_driver');
  await me.requestSwap();
  await until(h, (e) => e.type === 'swap_requested', 'the request');
  await h.send({ type: 'answer_swap', accept: true });
  const changed = await until(me, (e) => e.type === 'driver_changed', 'the swap');
  assert.equal(changed.driver, me.participant);
  await me.resize(100, 30);
  await h.send({ type: 'suggest_prompt', text: 'add a test' });
  const waiting = await until(me, (e) => e.type === 'prompt_waiting', 'the suggestion');
  assert.equal(waiting.prompt.text, 'add a test');
  await me.leave();
  await until(me, (e) => e.type === 'ended', 'the end');
  me.close();
  h.stop();
});

test('the chat roulette, proof of work solved for the caller', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  const a = await connect(server.url, { chat: true });
  const b = await connect(server.url, { chat: true });
  for (const s of [a, b]) {
    await until(s, (e) => e.type === 'solved', 'the proof of work');
    await s.findPartner('chat');
  }
  const matched = await until(a, (e) => e.type === 'matched', 'matched');
  assert.equal(matched.partner_name, b.name);
  await until(b, (e) => e.type === 'matched', 'matched');
  await a.chat('\u001b[31mhi\u202e');
  const got = await until(b, (e) => e.type === 'chat', 'the chat');
  assert.equal(got.text, 'hi');
  a.close();
  b.close();
});

test('errors are RouletteErrors with stable codes', async (t) => {
  const server = await startServer();
  t.after(() => server.stop());
  await assert.rejects(connect(server.url, { token: 'forged.token.value' }), (e) => {
    assert.ok(e instanceof RouletteError);
    assert.equal(e.code, 'unauthorized');
    return true;
  });
  await assert.rejects(connect('http://127.0.0.1:1'), { code: 'connect_failed' });
  const me = await connect(server.url);
  await assert.rejects(me.send({ type: 'become_admin' }), { code: 'bad_message' });
  await assert.rejects(host(server.url, '', ['sh']), { code: 'invalid_argument' });
  const again = await connect(server.url, { token: me.token });
  assert.equal(again.participant, me.participant);
  me.close();
  again.close();
});
