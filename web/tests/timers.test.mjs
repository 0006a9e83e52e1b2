// The timer's steps on a server with short durations, then an invite link.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  byId, hostTokenFromPage, launchBrowser, openPerson, shot, startHost, startServer, steps, waitForLine,
} from './helpers.mjs';

const test = steps();
let server, browser, host, A, B;

before(async () => {
  // Building lasts 14 s: the check-in after 2 s, the warning 10 s before the end, 6 s more
  // with the extension.
  server = await startServer([
    '--planning-time', '60s', '--session-length', '14s', '--check-in-after', '2s',
    '--check-in-timeout', '60s', '--warning-before', '10s', '--extension', '6s', '--rematch-window', '60s',
  ]);
  browser = await launchBrowser();
});

after(async () => {
  await host?.stop();
  await browser?.close();
  await server?.stop();
});

const seconds = (text) => {
  const m = /(\d+):(\d\d)$/.exec(text.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
};

test('pair and start building', async () => {
  A = await openPerson(browser, server.url);
  await byId(A.page, 'find-partner').waitFor();
  host = startHost(server.url, await hostTokenFromPage(A.page));
  await byId(A.page, 'queue-position').waitFor();
  B = await openPerson(browser, server.url);
  await byId(B.page, 'find-partner').click();
  for (const p of [A.page, B.page]) await byId(p, 'vote-option').first().locator('[data-testid="vote-up"]').click();
  for (const p of [A.page, B.page]) await waitForLine(p, /^[$#]/);
});

test('the check-in: both keep going', async () => {
  for (const p of [A.page, B.page]) await byId(p, 'check-in-dialog').waitFor();
  await shot(B.page, '20-check-in');
  await byId(A.page, 'check-in-continue').click();
  await byId(B.page, 'check-in-status').filter({ hasText: 'keep going' }).waitFor();
  await byId(B.page, 'check-in-continue').click();
  for (const p of [A.page, B.page]) await byId(p, 'check-in-dialog').waitFor({ state: 'hidden' });
});

test('the warning, then the extension by consent', async () => {
  for (const p of [A.page, B.page]) await byId(p, 'warning').waitFor();
  await shot(A.page, '21-warning');
  const before = seconds(await byId(A.page, 'timer').textContent());
  assert.ok(before <= 10, `the warning came with ${before} s left`);
  await byId(A.page, 'extend').click();
  await byId(B.page, 'extension-dialog').waitFor();
  await shot(B.page, '22-extension-request');
  await byId(B.page, 'extend-accept').click();
  for (const p of [A.page, B.page]) await byId(p, 'notice').filter({ hasText: 'Extended' }).waitFor();
  const afterExt = seconds(await byId(A.page, 'timer').textContent());
  assert.ok(afterExt > before, `the timer went from ${before} s to ${afterExt} s`);
  // One extension only: the button is gone.
  await byId(A.page, 'extend').waitFor({ state: 'hidden' });
});

test('the end screen when time is up', async () => {
  for (const p of [A.page, B.page]) {
    await byId(p, 'end-reason').filter({ hasText: 'Time is up' }).waitFor({ timeout: 40000 });
  }
  await byId(B.page, 'find-another').waitFor();
  await shot(B.page, '23-ended');
});

test('an invite link pairs exactly the invited person', async () => {
  // The host's agent went back to the queue; A's page offers to invite a friend instead.
  await byId(A.page, 'end-queue').waitFor();
  await byId(A.page, 'find-another').click();
  await byId(A.page, 'queue-invite').click();
  await A.page.waitForFunction(() => document.querySelector('[data-testid="invite-link"]').value !== '');
  const link = await byId(A.page, 'invite-link').inputValue();
  assert.match(link, new RegExp(`^${server.url}/invite/[a-z2-7]{26}$`));
  await shot(A.page, '24-invite-link');
  // A stranger looking for a partner is not paired with the inviter.
  const C = await openPerson(browser, server.url);
  await byId(C.page, 'find-partner').click();
  await byId(C.page, 'queue-position').filter({ hasText: '1' }).waitFor();
  // The invited person opens the link and joins.
  const D = await openPerson(browser, link);
  await byId(D.page, 'invite-accept').waitFor();
  await shot(D.page, '25-invite-page');
  await byId(D.page, 'invite-accept').click();
  for (const p of [A.page, D.page]) await byId(p, 'vote-option').first().waitFor();
  assert.match(await byId(D.page, 'partner').textContent(), new RegExp(await byId(A.page, 'signed-in-as').textContent()));
  // The stranger still waits, and B was never asked.
  assert.equal(await byId(C.page, 'queue-position').isVisible(), true);
  assert.equal(await byId(B.page, 'end-reason').isVisible(), true);
  // The link was single use.
  const E = await openPerson(browser, link);
  await byId(E.page, 'invite-accept').click();
  await byId(E.page, 'notice').filter({ hasText: 'not valid' }).waitFor();
});
