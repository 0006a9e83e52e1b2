// Keyboard use and small screens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { byId, launchBrowser, openPerson, shot, startServer } from './helpers.mjs';

let server, browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the home page works from the keyboard alone, and every control is labelled', async () => {
  const { page } = await openPerson(browser, server.url);
  await byId(page, 'find-partner').waitFor();
  // Tab until "Find a partner" has the focus, then press Enter.
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.dataset.testid === 'find-partner');
  }
  assert.ok(reached, 'Tab never reached "Find a partner"');
  await page.keyboard.press('Enter');
  await byId(page, 'queue-position').filter({ hasText: '1' }).waitFor();
  assert.match(await byId(page, 'online-count').textContent(), /^\d+$/);
  await shot(page, '51-queue');
  // Cancel leaves the queue: a second person looking now is first in line.
  await byId(page, 'cancel-search').click();
  await byId(page, 'find-partner').waitFor();
  const other = await openPerson(browser, server.url);
  await byId(other.page, 'find-partner').click();
  await byId(other.page, 'queue-position').filter({ hasText: '1' }).waitFor();
  // Every button has text or a label, every input a <label>.
  const unlabelled = await page.evaluate(() => {
    const bad = [];
    for (const b of document.querySelectorAll('button')) {
      if (!(b.textContent.trim() || b.getAttribute('aria-label'))) bad.push(b.dataset.testid);
    }
    for (const i of document.querySelectorAll('input:not([type=checkbox]), textarea')) {
      if (!(i.id && document.querySelector(`label[for="${i.id}"]`)) && !i.getAttribute('aria-label')) bad.push(i.dataset.testid);
    }
    return bad;
  });
  assert.deepEqual(unlabelled, []);
});

test('readable on a phone-sized screen: nothing wider than the screen', async () => {
  for (const [name, viewport] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 720 }]]) {
    const { page } = await openPerson(browser, server.url, viewport);
    await byId(page, 'find-partner').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${name}: the page is ${overflow} px wider than the screen`);
    await shot(page, `50-home-${name}`);
  }
});
