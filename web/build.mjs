#!/usr/bin/env node
// Builds the dashboard into dist/web: one fingerprinted script and stylesheet under assets/ and an
// index.html that names them. Run by `npm run build` and `prepare`, so `npm ci` in a fresh clone
// builds it. Everything is bundled: the dashboard loads nothing from outside the bot.

import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'web');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src', 'main.tsx'), join(here, 'src', 'style.css')],
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
const script = outputs.find((file) => file.startsWith('main-') && file.endsWith('.js'));
const style = outputs.find((file) => file.startsWith('style-') && file.endsWith('.css'));
if (!script || !style) throw new Error(`web build: missing output (got ${outputs.join(', ')})`);

writeFileSync(
  join(out, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>canarybot</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${style}">
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<div id="app"><noscript>The canarybot dashboard needs JavaScript.</noscript></div>
</body>
</html>
`,
);
console.log(`web build: dist/web (${outputs.filter((f) => !f.endsWith('.map')).join(', ')})`);
