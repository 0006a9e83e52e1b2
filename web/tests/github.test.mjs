// GitHub sign-in against a stand-in OAuth server that speaks GitHub's web flow.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { byId, launchBrowser, openPerson, shot, startServer } from './helpers.mjs';

let standIn, server, browser;
const seen = { exchanges: [], users: 0 };

before(async () => {
  standIn = createServer((req, res) => {
    const url = new URL(req.url, 'http://stand-in');
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      // The user says yes at once.
      assert.equal(url.searchParams.get('client_id'), 'test-client');
      const back = new URL(url.searchParams.get('redirect_uri'));
      back.searchParams.set('code', 'the-code');
      back.searchParams.set('state', url.searchParams.get('state'));
      res.writeHead(302, { location: back.toString() }).end();
    } else if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        seen.exchanges.push(Object.fromEntries(form));
        const ok = form.get('client_secret') === 'test-secret' && form.get('code') === 'the-code';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(ok ? { access_token: 'gho_test', token_type: 'bearer', scope: '' } : { error: 'bad_verification_code' }));
      });
    } else if (req.method === 'GET' && url.pathname === '/user') {
      seen.users++;
      if (req.headers.authorization !== 'Bearer gho_test') {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 583231, login: 'octocat' }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => standIn.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${standIn.address().port}`;
  server = await startServer([], {
    GITHUB_CLIENT_ID: 'test-client',
    GITHUB_CLIENT_SECRET: 'test-secret',
    ROULETTE_GITHUB_URL: base,
    ROULETTE_GITHUB_API_URL: base,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((r) => standIn.close(r));
});

test('sign in with GitHub through the stand-in', async () => {
  const { page } = await openPerson(browser, server.url);
  await byId(page, 'github-signin').waitFor();
  await shot(page, '40-github-offered');
  const guest = await byId(page, 'signed-in-as').textContent();
  assert.notEqual(guest, 'octocat');
  await byId(page, 'github-signin').click();
  await byId(page, 'signed-in-as').filter({ hasText: 'octocat' }).waitFor();
  assert.ok(!page.url().includes('login='), 'the token left the address bar');
  assert.equal(seen.exchanges.length, 1);
  assert.equal(seen.exchanges[0].client_id, 'test-client');
  assert.equal(seen.users, 1);
  // The secret never reached the logs.
  assert.ok(!server.out.lines.some((l) => l.includes('test-secret') || l.includes('gho_test')));
  await shot(page, '41-github-signed-in');
});

test('a callback with a state this browser was not given is refused', async () => {
  const res = await fetch(`${server.url}/auth/github/callback?code=the-code&state=0123456789abcdef0123456789abcdef`, { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.equal(seen.exchanges.length, 1, 'no code was exchanged');
});

test('without GitHub configured the button is not offered', async () => {
  const plain = await startServer();
  try {
    const { page } = await openPerson(browser, plain.url);
    await byId(page, 'find-partner').waitFor();
    assert.equal(await byId(page, 'github-signin').isVisible(), false);
    const res = await fetch(`${plain.url}/auth/github`, { redirect: 'manual' });
    assert.equal(res.status, 404);
  } finally {
    await plain.stop();
  }
});
