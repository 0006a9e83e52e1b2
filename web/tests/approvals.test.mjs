// Only the host approves what the agent does on the host's machine: the real Claude Code CLI as
// the agent of `roulette host`, a stand-in for the Anthropic API, the partner driving from the
// browser. Every key that answers Claude's dialogs, pressed by the partner, runs nothing; the
// host allows or denies in the page; while the host drives, Claude's own dialog answers to the
// host's keys and cannot be handed to the partner.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  byId, claudeHome, hostTokenFromPage, launchBrowser, openPerson, shot, startClaudeHost,
  startFakeAnthropic, startServer, terminalLines, typeInTerminal, waitForLine, steps,
} from './helpers.mjs';

const test = steps();

const dir = mkdtempSync(join(tmpdir(), 'roulette-approvals-'));
const ran = join(dir, 'ran.txt');
let server, api, browser, host, home, A, B;

const runs = () => (existsSync(ran) ? readFileSync(ran, 'utf8').split('\n').filter(Boolean).length : 0);

before(async () => {
  server = await startServer(['--planning-time', '2s']);
  // Each time Claude is asked, it wants to append a line to a file outside its directory.
  api = await startFakeAnthropic(`echo ran >> ${ran}`);
  // The host's own Claude Code settings: Claude asks before running commands.
  home = claudeHome({ permissions: { defaultMode: 'default', disableAutoMode: 'disable' } });
  browser = await launchBrowser();
});

after(async () => {
  await host?.stop();
  await browser?.close();
  await api?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
  if (home) rmSync(home, { recursive: true, force: true });
});

/** How many commands Claude says it ran (a refused one reads "Did not run 1 call"). */
const ranCount = async (page) => (await terminalLines(page)).filter((l) => /Ran 1 shell command/.test(l)).length;

/** Waits until Claude says it ran more commands than `n`. */
async function waitForMoreRuns(page, n) {
  await page.waitForFunction(
    (n) => window.roulette.terminalText().split('\n').filter((l) => /Ran 1 shell command/.test(l)).length > n,
    n,
    { timeout: 20000 },
  );
}

/** Answers Claude's trust question with "Yes". Claude draws the question, then redraws it
 * once as it finishes starting, back on "No": only a choice that stays is confirmed. */
async function chooseTrust(page) {
  const chosen = () => window.roulette.terminalText().includes('❯ Yes, I trust');
  for (let i = 0; i < 10; i++) {
    await press(page, 'ArrowDown');
    const shown = await page.waitForFunction(chosen, null, { timeout: 3000 }).then(() => true, () => false);
    if (!shown) continue;
    const undone = await page
      .waitForFunction((c) => !window.roulette.terminalText().includes(c), '❯ Yes, I trust', { timeout: 1500 })
      .then(() => true, () => false);
    if (!undone) {
      await press(page, 'Enter');
      return;
    }
  }
  throw new Error(`the trust question never took the host's answer:\n${(await terminalLines(page)).join('\n')}`);
}

/** Presses `key` in the shared terminal of `page`. */
async function press(page, ...keys) {
  await byId(page, 'terminal').click();
  for (const key of keys) await page.keyboard.press(key);
}

test('the host starts Claude Code, which asks the host (the driver) to trust its folder', async () => {
  A = await openPerson(browser, server.url);
  const token = await hostTokenFromPage(A.page);
  host = startClaudeHost(server.url, token, { apiUrl: api.url, home });
  await byId(A.page, 'queue-position').filter({ hasText: '1' }).waitFor();
  B = await openPerson(browser, server.url);
  await byId(B.page, 'find-partner').click();
  await byId(A.page, 'role').filter({ hasText: 'Driver' }).waitFor({ timeout: 20000 });
  // The agent starts when building begins; its first question is the host's.
  for (const p of [A.page, B.page]) await waitForLine(p, /trust this folder/, 30000);
  await byId(B.page, 'approval-waiting').filter({ hasText: 'trust' }).waitFor();
  await byId(A.page, 'approval-waiting').filter({ hasText: 'answer it there' }).waitFor();
  // Driving cannot change hands while the question is open.
  await byId(B.page, 'swap-request').click();
  await byId(A.page, 'swap-accept').click();
  await byId(A.page, 'notice').filter({ hasText: 'waiting for your answer on its screen' }).waitFor();
  await byId(A.page, 'role').filter({ hasText: 'Driver' }).waitFor();
  await chooseTrust(A.page);
  await waitForLine(A.page, /manual mode on/, 30000);
  await byId(B.page, 'approval-waiting').waitFor({ state: 'detached' });
});

test('the partner drives; the agent asks to run a command and waits for the host', async () => {
  // The swap asked for during the question still waits; now the host accepts it.
  await byId(A.page, 'swap-accept').click();
  await byId(B.page, 'role').filter({ hasText: 'Driver' }).waitFor();
  await typeInTerminal(B.page, 'make the file');
  await press(B.page, 'Enter');
  // The partner's line waits for the host first, as before.
  await byId(A.page, 'line-approve').click();
  await byId(A.page, 'approval-item').waitFor({ timeout: 30000 });
  assert.match(await byId(A.page, 'approval-call').textContent(), /^Bash\(echo ran >> .*ran\.txt\)$/);
  await byId(B.page, 'approval-waiting').filter({ hasText: 'Waiting for the host' }).waitFor();
  assert.match(await byId(B.page, 'approval-call').textContent(), /^Bash\(echo ran/);
  assert.equal(await byId(B.page, 'approval-allow').count(), 0, 'the partner has no Allow');
  await shot(A.page, '20-host-approval');
  await shot(B.page, '21-partner-waits-for-the-host');
});

test("every key that answers Claude's dialogs, pressed by the partner, runs nothing", async () => {
  await press(B.page, '1', '2', '3', '4', 'y', 'n', 'Tab', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Escape', 'Enter');
  // A fence: the partner's chat goes the same way as the keys, after them.
  await B.page.fill('[data-testid="chat-input"]', 'pressed them all');
  await byId(B.page, 'chat-send').click();
  await byId(A.page, 'chat-log').filter({ hasText: 'pressed them all' }).waitFor();
  await byId(A.page, 'approval-item').waitFor();
  assert.equal(runs(), 0, 'a partner key ran the command');
  assert.ok(!(await terminalLines(B.page)).some((l) => l.includes('1234yn')), 'the keys reached the agent while it waited');
});

test('the host denies with a reason: nothing runs and the agent shows the reason', async () => {
  await A.page.fill('[data-testid="approval-reason"]', 'not outside the session directory');
  await byId(A.page, 'approval-deny').click();
  // Claude wraps the reason at its terminal's width.
  for (const p of [A.page, B.page]) await waitForLine(p, /The host denied this in Roulette: not/, 20000);
  await byId(B.page, 'notice').filter({ hasText: 'not outside the session directory' }).waitFor();
  await byId(B.page, 'notice').filter({ hasText: 'The host denied Bash' }).waitFor();
  await byId(A.page, 'approval-item').waitFor({ state: 'detached' });
  // The partner's keys reach the agent once no dialog can take them.
  await waitForLine(B.page, /1234yn/, 20000);
  assert.equal(runs(), 0);
});

test('the host allows: the command runs exactly once', async () => {
  // The partner's stray Enter is held as a line: the host refuses it; the partner clears the input.
  if (await byId(A.page, 'line-reject').count()) await byId(A.page, 'line-reject').click();
  await press(B.page, 'End', ...Array(30).fill('Backspace'));
  await typeInTerminal(B.page, 'try again');
  await press(B.page, 'Enter');
  await byId(A.page, 'line-approve').click();
  await byId(A.page, 'approval-item').waitFor({ timeout: 30000 });
  const before = await ranCount(B.page);
  await byId(A.page, 'approval-allow').click();
  await byId(B.page, 'notice').filter({ hasText: 'The host allowed Bash' }).waitFor();
  await waitForMoreRuns(B.page, before);
  assert.equal(runs(), 1);
});

test("while the host drives, Claude's own dialog answers to the host's keys and stays the host's", async () => {
  await byId(A.page, 'reclaim').click();
  await byId(A.page, 'role').filter({ hasText: 'Driver' }).waitFor();
  await typeInTerminal(A.page, 'once more');
  await press(A.page, 'Enter');
  await waitForLine(A.page, /Do you want to proceed\?/, 30000);
  await byId(B.page, 'approval-waiting').filter({ hasText: 'asks the host on its screen' }).waitFor();
  // The partner asks to drive; accepting would hand them the open dialog: refused.
  await byId(B.page, 'swap-request').click();
  await byId(A.page, 'swap-accept').click();
  await byId(A.page, 'notice').filter({ hasText: 'waiting for your answer on its screen' }).waitFor();
  await byId(A.page, 'role').filter({ hasText: 'Driver' }).waitFor();
  await shot(A.page, '22-host-dialog-stays-the-hosts');
  const before = await ranCount(A.page);
  await press(A.page, '1');
  await waitForMoreRuns(A.page, before);
  await byId(B.page, 'approval-waiting').waitFor({ state: 'detached' });
  assert.equal(runs(), 2);
  assert.ok((await terminalLines(B.page)).length > 0);
});
