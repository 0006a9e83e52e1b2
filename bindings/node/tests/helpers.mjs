// A real `roulette serve` on a loopback port, and host tokens for it.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = process.env.ROULETTE_BIN;
if (!BIN) throw new Error('set ROULETTE_BIN to the roulette binary (scripts/test does)');

export async function startServer(args = ['--planning-time', '0s']) {
  const dataDir = mkdtempSync(join(tmpdir(), 'roulette-node-'));
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args], {
    env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    child.stderr.on('data', (chunk) => {
      buf += chunk.toString();
      const m = /listening.*addr=(\S+)/.exec(buf.replace(/\u001b\[[0-9;]*m/g, ''));
      if (m) resolve(`http://${m[1]}`);
    });
    child.on('exit', () => reject(new Error('the server exited')));
  });
  return {
    url,
    hostToken: () =>
      execFileSync(BIN, ['token', '--data-dir', dataDir, '--days', '1']).toString().trim(),
    stop: () => child.kill('SIGTERM'),
  };
}

/** The first event of `source` that matches, within 20 s. */
export async function until(source, pred, what) {
  const seen = [];
  const timer = new Promise((_, reject) =>
    setTimeout(
      () => reject(new Error(`no ${what} within 20 s; saw ${JSON.stringify(seen)}`)),
      20_000,
    ).unref(),
  );
  const found = (async () => {
    for await (const event of source.events()) {
      seen.push(event.type === 'host' ? `host:${event.status}:${event.detail}` : event.type);
      if (pred(event)) return event;
    }
    throw new Error(`events ended before ${what}`);
  })();
  return Promise.race([found, timer]);
}
