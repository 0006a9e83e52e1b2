// What the browser tests share: a real `roulette serve`, real `roulette host` agents running a
// shell, a TCP proxy that can cut the host's link, and Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { test } from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = process.env.ROULETTE_SCREENSHOTS ?? join(here, '..', 'screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

/** The `roulette` binary the tests run (scripts/test builds it and says where). */
export const BIN = process.env.ROULETTE_BIN;
if (!BIN) throw new Error('set ROULETTE_BIN to the roulette binary (scripts/test does)');

/** Collects a child's output, and resolves when a line matches. */
function watch(child) {
  const lines = [];
  const waiters = [];
  const feed = (chunk) => {
    for (const line of chunk.toString().replace(/\u001b\[[0-9;]*m/g, '').split('\n')) {
      lines.push(line);
      for (const w of [...waiters]) {
        const m = w.re.exec(line);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  };
  child.stdout?.on('data', feed);
  child.stderr?.on('data', feed);
  return {
    lines,
    waitFor(re, ms = 20000) {
      for (const line of lines) {
        const m = re.exec(line);
        if (m) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        const w = { re, resolve };
        waiters.push(w);
        setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${lines.slice(-30).join('\n')}`)), ms).unref();
      });
    },
  };
}

/** Starts `roulette serve` on a free port with a fresh data directory. */
export async function startServer(args = [], env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'roulette-web-'));
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args], {
    env: { ...process.env, RUST_LOG: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = watch(child);
  const m = await out.waitFor(/listening.*addr=(\S+)/);
  const addr = m[1];
  return {
    url: `http://${addr}`,
    addr,
    out,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `roulette host` with a shell as its agent, its stdin held open. */
export function startHost(serverUrl, token, extra = []) {
  const child = spawn(BIN, ['host', '--server', serverUrl, '--cmd', 'sh', ...extra], {
    env: { ...process.env, ROULETTE_TOKEN: token, SHELL: '/bin/sh', PS1: '$ ', TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out = watch(child);
  return {
    out,
    async stop() {
      child.stdin.end();
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

/** A TCP proxy in front of the server: `cut()` drops every connection through it, `block()`
 * refuses new ones until `unblock()`. */
export async function startProxy(target) {
  const [host, port] = target.split(':');
  const sockets = new Set();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(port), host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port: p } = server.address();
  return {
    url: `http://127.0.0.1:${p}`,
    block() {
      blocked = true;
    },
    unblock() {
      blocked = false;
    },
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    async stop() {
      this.cut();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Every page opened, for screenshots when a step fails. */
const open = [];

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A new person: a fresh browser context (its own tab storage) on `url`. */
export async function openPerson(browser, url, viewport = { width: 1280, height: 720 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  open.push(page);
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(url);
  return { context, page };
}

export const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

/** The shared terminal's text, line by line. */
export async function terminalLines(page) {
  const text = await page.evaluate(() => window.roulette.terminalText());
  return text.split('\n').map((l) => l.trimEnd());
}

/** Waits until a line of the terminal matches `re`. */
export async function waitForLine(page, re, ms = 15000) {
  try {
    await page.waitForFunction(
      ([src, flags]) => {
        const re = new RegExp(src, flags);
        return window.roulette.terminalText().split('\n').some((l) => re.test(l.trimEnd()));
      },
      [re.source, re.flags],
      { timeout: ms, polling: 'raf' },
    );
  } catch (e) {
    const lines = await terminalLines(page);
    throw new Error(`no terminal line matches ${re}; the terminal shows:\n${lines.filter((l) => l).slice(-20).join('\n')}`);
  }
}

/** Types into the shared terminal as a person would. */
export async function typeInTerminal(page, text) {
  await byId(page, 'terminal').click();
  await page.keyboard.type(text);
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** The token inside the command the Host panel shows. */
export async function hostTokenFromPage(page) {
  await byId(page, 'host').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="host-command"]').value !== '');
  const command = await byId(page, 'host-command').inputValue();
  const m = /ROULETTE_TOKEN=(\S+) roulette host --server (\S+)/.exec(command);
  if (!m) throw new Error(`unexpected host command: ${command}`);
  return m[1];
}

/** Tests that are steps of one story: after one fails, the rest fail at once with its name
 * instead of timing out one by one. */
export function steps() {
  let failed = null;
  return (name, fn) =>
    test(name, async (t) => {
      if (failed) throw new Error(`not run: the step "${failed}" failed`);
      try {
        await fn(t);
      } catch (e) {
        failed = name;
        for (const [i, page] of open.entries()) {
          await page.screenshot({ path: join(SCREENSHOTS, `failed-${i}.png`) }).catch(() => {});
        }
        throw e;
      }
    });
}

// ---- the real Claude Code CLI, offline -------------------------------------------------------

/** The real `claude` CLI (npm @anthropic-ai/claude-code), installed by scripts/test. */
export const CLAUDE = process.env.ROULETTE_CLAUDE;

/** The API key the tests give Claude Code; its last 20 characters are approved in `.claude.json`. */
const API_KEY = 'sk-ant-test-0123456789abcdefghijklmnopqrstuv';

/** Starts the stand-in for the Anthropic Messages API; `command` is the Bash call it asks for. */
export async function startFakeAnthropic(command) {
  const dir = mkdtempSync(join(tmpdir(), 'roulette-fake-api-'));
  const child = spawn(process.execPath, [join(here, 'fake-anthropic.mjs'), '--port', '0'], {
    env: { ...process.env, FAKE_BASH_COMMAND: command, FAKE_LOG: join(dir, 'requests.jsonl') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = watch(child);
  const m = await out.waitFor(/listening on (http:\/\/\S+)/);
  return {
    url: m[1],
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A home directory for Claude Code: onboarding done, the test key approved, and the host's own
 * settings (`settings`, written to `~/.claude/settings.json`). */
export function claudeHome(settings = {}) {
  const home = mkdtempSync(join(tmpdir(), 'roulette-claude-home-'));
  writeFileSync(
    join(home, '.claude.json'),
    JSON.stringify({ hasCompletedOnboarding: true, customApiKeyResponses: { approved: [API_KEY.slice(-20)], rejected: [] } }),
  );
  mkdirSync(join(home, '.claude'));
  writeFileSync(join(home, '.claude', 'settings.json'), JSON.stringify(settings));
  return home;
}

/** Runs `roulette host -- claude` against the stand-in API, with `home` as the host's home. */
export function startClaudeHost(serverUrl, token, { apiUrl, home, extra = [] }) {
  if (!CLAUDE) throw new Error('set ROULETTE_CLAUDE to the claude binary (scripts/test installs it)');
  const child = spawn(
    BIN,
    ['host', '--server', serverUrl, '--env', 'ANTHROPIC_BASE_URL', '--env', 'ANTHROPIC_API_KEY',
      '--env', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', ...extra, '--', CLAUDE],
    {
      env: {
        ...process.env,
        HOME: home,
        ROULETTE_TOKEN: token,
        ANTHROPIC_BASE_URL: apiUrl,
        ANTHROPIC_API_KEY: API_KEY,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        TERM: 'xterm-256color',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const out = watch(child);
  return {
    out,
    async stop() {
      child.stdin.end();
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}
