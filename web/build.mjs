// Builds the browser app to static files: index.html, app.js and app.css (xterm's stylesheet
// included). `roulette-server`'s build script runs this and embeds the output in the binary.
//
//   node build.mjs [--outdir DIR]
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const at = process.argv.indexOf('--outdir');
const outdir = at > 0 ? process.argv[at + 1] : join(here, 'dist');
mkdirSync(outdir, { recursive: true });

await esbuild.build({
  entryPoints: { app: join(here, 'src/main.ts'), style: join(here, 'src/style.css') },
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ['es2022'],
  format: 'esm',
  outdir,
  logLevel: 'warning',
  legalComments: 'eof',
});
copyFileSync(join(here, 'src/index.html'), join(outdir, 'index.html'));
console.log(`built the browser app into ${outdir}`);
