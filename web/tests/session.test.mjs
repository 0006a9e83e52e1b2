// A whole pairing session in two browsers, with a real `roulette host` running a shell behind
// a proxy that the test cuts.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  byId, hostTokenFromPage, launchBrowser, openPerson, shot, startHost, startProxy, startServer,
  terminalLines, typeInTerminal, waitForLine, steps,
} from './helpers.mjs';

const test = steps();

let server, proxy, pageProxy, browser, host, A, B;

before(async () => {
  server = await startServer();
  proxy = await startProxy(server.addr);
  // B's page reaches the server through its own proxy, so its link can be cut too.
  pageProxy = await startProxy(server.addr);
  browser = await launchBrowser();
});

after(async () => {
  await host?.stop();
  await browser?.close();
  await proxy?.stop();
  await pageProxy?.stop();
  await server?.stop();
});

test('home page, host command, and both partners find each other', async () => {
  A = await openPerson(browser, server.url);
  await byId(A.page, 'find-partner').waitFor();
  assert.match(await byId(A.page, 'signed-in-as').textContent(), /^[a-z]+-[a-z]+(-\d+)?$/);
  await shot(A.page, '01-home');
  const token = await hostTokenFromPage(A.page);
  await shot(A.page, '02-host-command');
  // The agent queues as soon as it connects; A's page shows the queue.
  host = startHost(proxy.url, token);
  await byId(A.page, 'queue-position').filter({ hasText: '1' }).waitFor();
  await shot(A.page, '03-queue');

  B = await openPerson(browser, pageProxy.url);
  await byId(B.page, 'find-partner').click();
  for (const p of [A.page, B.page]) await byId(p, 'vote-option').first().waitFor();
  assert.equal(await byId(A.page, 'vote-option').count(), 3);
  await shot(B.page, '04-planning');
});

test('vote, add an idea, and the building phase starts with the shell', async () => {
  await B.page.fill('[data-testid="idea-input"]', 'A tiny chess clock');
  await byId(B.page, 'add-idea').click();
  await byId(A.page, 'vote-option').filter({ hasText: 'A tiny chess clock' }).waitFor();
  assert.equal(await byId(A.page, 'vote-option').count(), 4);
  // Both vote the new idea up: it is chosen at once.
  for (const p of [A.page, B.page]) {
    await byId(p, 'vote-option').filter({ hasText: 'A tiny chess clock' }).locator('[data-testid="vote-up"]').click();
  }
  await byId(A.page, 'role').filter({ hasText: 'Driver' }).waitFor();
  await byId(B.page, 'role').filter({ hasText: 'Navigator' }).waitFor();
  assert.match(await byId(B.page, 'project').textContent(), /chess clock/);
  for (const p of [A.page, B.page]) await waitForLine(p, /^[$#]/);
  // The agent is a shell, not Claude Code: both are told what waits for the host and what not.
  await byId(B.page, 'agent-policy').filter({ hasText: 'Your lines wait for the host' }).waitFor();
  await byId(A.page, 'agent-policy').filter({ hasText: "Your partner's lines wait for your approval" }).waitFor();
  assert.match(await byId(A.page, 'timer').textContent(), /^(30:00|29:\d\d)$/);
  await byId(A.page, 'rematch').waitFor();
  await shot(A.page, '05-building-driver');
});

test('the driver types and both see it; the navigator types and nothing reaches the shell', async () => {
  await typeInTerminal(A.page, 'echo hello\n');
  for (const p of [A.page, B.page]) await waitForLine(p, /^hello$/);
  await typeInTerminal(B.page, 'echo nope\n');
  await byId(B.page, 'notice').filter({ hasText: 'navigator' }).waitFor();
  // A fence: the driver's next line arrives after anything the navigator's keys could have done.
  await typeInTerminal(A.page, 'echo fence1\n');
  for (const p of [A.page, B.page]) {
    await waitForLine(p, /^fence1$/);
    assert.ok(!(await terminalLines(p)).some((l) => l.includes('nope')), 'the navigator reached the shell');
  }
  await shot(B.page, '06-navigator');
});

test('swap: request, accept; then the former navigator drives and the former driver cannot', async () => {
  await byId(B.page, 'swap-request').click();
  await byId(A.page, 'swap-dialog').waitFor();
  await shot(A.page, '07-swap-request');
  await byId(A.page, 'swap-accept').click();
  await byId(B.page, 'role').filter({ hasText: 'Driver' }).waitFor();
  await byId(A.page, 'role').filter({ hasText: 'Navigator' }).waitFor();
  await byId(A.page, 'reclaim').waitFor();
  await typeInTerminal(A.page, 'echo former\n');
  await typeInTerminal(B.page, 'echo swapped\n');
  // A line from a driver who is not the host waits for the host.
  await byId(A.page, 'line-item').filter({ hasText: 'echo swapped' }).waitFor();
  await shot(A.page, '08-line-held');
  await byId(A.page, 'line-approve').click();
  for (const p of [A.page, B.page]) {
    await waitForLine(p, /^swapped$/);
    assert.ok(!(await terminalLines(p)).some((l) => l.includes('former')), 'the former driver reached the shell');
  }
  // A decline, then the host reclaims.
  await byId(A.page, 'swap-request').click();
  await byId(B.page, 'swap-dialog').waitFor();
  await byId(B.page, 'swap-decline').click();
  await byId(A.page, 'notice').filter({ hasText: 'declined' }).waitFor();
  await byId(A.page, 'reclaim').click();
  await byId(A.page, 'role').filter({ hasText: 'Driver' }).waitFor();
  await byId(B.page, 'role').filter({ hasText: 'Navigator' }).waitFor();
});

test('prompts: a navigator suggestion with a warning needs the host to acknowledge it', async () => {
  await B.page.fill('[data-testid="prompt-input"]', 'echo ~/.ssh stays private');
  await byId(B.page, 'prompt-send').click();
  const item = byId(A.page, 'prompt-item').filter({ hasText: 'stays private' });
  await item.waitFor();
  await item.locator('[data-testid="prompt-warning"]').first().waitFor();
  assert.match(await item.locator('[data-testid="prompt-warning"]').first().textContent(), /SSH/i);
  await item.scrollIntoViewIfNeeded();
  await shot(A.page, '09-prompt-warning');
  // Approving without acknowledging the warning is refused and changes nothing.
  await item.locator('[data-testid="prompt-approve"]').click();
  await byId(A.page, 'notice').filter({ hasText: 'warning' }).waitFor();
  assert.equal(await item.count(), 1);
  await item.locator('[data-testid="prompt-acknowledge"]').check();
  await item.locator('[data-testid="prompt-approve"]').click();
  await item.waitFor({ state: 'detached' });
  for (const p of [A.page, B.page]) await waitForLine(p, /stays private/);
  // The driver's own prompt without warnings goes straight to the agent.
  await A.page.fill('[data-testid="prompt-input"]', 'echo plain prompt');
  await byId(A.page, 'prompt-send').click();
  for (const p of [A.page, B.page]) await waitForLine(p, /plain prompt/);
  await typeInTerminal(A.page, '\u0015');
});

test('chat both ways; escape sequences and markup arrive inert', async () => {
  await A.page.click('[data-testid="chat-input"]');
  await A.page.keyboard.type('hi from A');
  // B sees that A is typing.
  await byId(B.page, 'typing').filter({ hasText: 'typing' }).waitFor();
  await byId(A.page, 'chat-send').click();
  await byId(B.page, 'chat-log').filter({ hasText: 'hi from A' }).waitFor();
  await B.page.fill('[data-testid="chat-input"]', 'hi back');
  await B.page.keyboard.press('Enter');
  await byId(A.page, 'chat-log').filter({ hasText: 'hi back' }).waitFor();
  const nasty = '\u001b[31mred\u001b]0;PWNED\u0007\u001b]52;c;aGFja2Vk\u0007 <img src=x onerror="window.hacked=1"> \u202eevil';
  await A.page.fill('[data-testid="chat-input"]', nasty);
  await byId(A.page, 'chat-send').click();
  const line = byId(B.page, 'chat-log').locator('li').filter({ hasText: '<img src=x' });
  await line.waitFor();
  const text = await line.textContent();
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202e]/.test(text), `control characters shown: ${JSON.stringify(text)}`);
  assert.equal(await byId(B.page, 'chat-log').locator('img').count(), 0);
  assert.equal(await B.page.evaluate(() => window.hacked), undefined);
  assert.equal(await B.page.title(), 'Roulette');
  await shot(B.page, '10-chat');
});

test('terminal output cannot set the title, write the clipboard, or open a link unasked', async () => {
  await A.context.grantPermissions(['clipboard-read', 'clipboard-write']);
  for (const p of [A.page, B.page]) {
    await p.evaluate(() => {
      const open = window.open.bind(window);
      window.open = (...args) => {
        window.__opened = (window.__opened ?? 0) + 1;
        return open(...args);
      };
    });
  }
  await A.page.evaluate(() => navigator.clipboard.writeText('before'));
  let popups = 0;
  A.context.on('page', () => popups++);
  B.context.on('page', () => popups++);
  await typeInTerminal(
    A.page,
    "printf '\\033]0;PWNED\\007\\033]2;PWNED\\007\\033]52;c;aGFja2Vk\\007\\033]8;;https://example.invalid/\\007CLICKME\\033]8;;\\007 done%s\\n' 1\n",
  );
  for (const p of [A.page, B.page]) await waitForLine(p, /CLICKME done1/);
  for (const p of [A.page, B.page]) assert.equal(await p.title(), 'Roulette');
  assert.equal(await A.page.evaluate(() => navigator.clipboard.readText()), 'before');
  // Output alone opened nothing: no new page, no window.open.
  for (const p of [A.page, B.page]) assert.equal(await p.evaluate(() => window.__opened ?? 0), 0);
  assert.equal(popups, 0);
  // The link is drawn as a link (xterm underlines it on hover) and waits for a click.
  await shot(B.page, '11-terminal-escapes');
});

test('the host agent link is cut and restored: a banner, then nothing lost or repeated', async () => {
  await typeInTerminal(A.page, 'for i in $(seq 1 400); do echo line$i; done; sleep 1; for i in $(seq 401 600); do echo line$i; done\n');
  await waitForLine(B.page, /^line\d+$/);
  proxy.block();
  proxy.cut();
  for (const p of [A.page, B.page]) await byId(p, 'reconnect-banner').waitFor();
  await shot(B.page, '12-agent-away');
  proxy.unblock();
  for (const p of [A.page, B.page]) await byId(p, 'reconnect-banner').waitFor({ state: 'hidden', timeout: 30000 });
  for (const p of [A.page, B.page]) {
    await waitForLine(p, /^line600$/, 30000);
    const seen = (await terminalLines(p)).filter((l) => /^line\d+$/.test(l)).map((l) => Number(l.slice(4)));
    assert.deepEqual(seen, Array.from({ length: 600 }, (_, i) => i + 1));
  }
});

test("the partner's own connection drops: a banner, then the terminal resumes exactly", async () => {
  await typeInTerminal(A.page, 'clear; for i in $(seq 1 300); do echo row$i; done; sleep 1; for i in $(seq 301 500); do echo row$i; done\n');
  await waitForLine(B.page, /^row\d+$/);
  pageProxy.block();
  pageProxy.cut();
  await byId(B.page, 'reconnect-banner').filter({ hasText: 'Connection lost' }).waitFor();
  await shot(B.page, '12b-reconnecting');
  pageProxy.unblock();
  await byId(B.page, 'reconnect-banner').waitFor({ state: 'hidden', timeout: 30000 });
  await waitForLine(B.page, /^row500$/, 30000);
  const seen = (await terminalLines(B.page)).filter((l) => /^row\d+$/.test(l)).map((l) => Number(l.slice(3)));
  // A reconnect may bring a snapshot of the screen instead of old history; either way no row
  // is repeated or out of order, and the end is there.
  assert.deepEqual(seen, [...seen].sort((x, y) => x - y));
  assert.equal(new Set(seen).size, seen.length);
  assert.equal(seen.at(-1), 500);
});

test('rematch inside the window ends the session without fault for either', async () => {
  await byId(B.page, 'rematch').click();
  for (const p of [A.page, B.page]) await byId(p, 'end-reason').filter({ hasText: 'rematch' }).waitFor();
  assert.match(await byId(A.page, 'end-reason').textContent(), /Your partner took a rematch/);
  await shot(A.page, '13-ended-rematch');
});
