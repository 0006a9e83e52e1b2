// `roulette demo` prints two addresses; opening both gives a whole session.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, byId, launchBrowser, openPerson, shot, typeInTerminal, waitForLine } from './helpers.mjs';

let demo, browser;
const home = mkdtempSync(join(tmpdir(), 'roulette-demo-'));

after(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    demo.stdin.end();
    demo.kill('SIGTERM');
    await new Promise((r) => demo.once('exit', r));
  }
  rmSync(home, { recursive: true, force: true });
});

test('the demo prints two addresses that make a whole session', async () => {
  demo = spawn(BIN, ['demo', '--listen', '127.0.0.1:0'], {
    env: { ...process.env, XDG_DATA_HOME: home, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const urls = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no addresses printed:\n${out}`)), 20000);
    demo.stdout.on('data', (chunk) => {
      out += chunk.toString();
      const lines = out.split('\n').map((l) => l.trim()).filter((l) => /^http:\/\/\S+$/.test(l));
      if (lines.length >= 2) {
        clearTimeout(timer);
        resolve(lines);
      }
    });
  });
  assert.match(urls[0], /\/#login=/);
  browser = await launchBrowser();
  const host = await openPerson(browser, urls[0]);
  // The partner is on a phone-sized screen.
  const partner = await openPerson(browser, urls[1], { width: 390, height: 844 });
  for (const p of [host.page, partner.page]) await byId(p, 'vote-option').first().locator('[data-testid="vote-up"]').click();
  await byId(host.page, 'role').filter({ hasText: 'Driver' }).waitFor();
  // The token left the address bar once stored.
  assert.ok(!host.page.url().includes('login='));
  await typeInTerminal(host.page, 'echo demo-works\n');
  for (const p of [host.page, partner.page]) await waitForLine(p, /^demo-works$/);
  const overflow = await partner.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the session is ${overflow} px wider than a phone`);
  // The driver's terminal is wider than the phone's window: the partner is told so.
  await byId(partner.page, 'size-warning').waitFor();
  await shot(partner.page, '30-demo-partner-phone');
  await shot(host.page, '31-demo-host');
});
