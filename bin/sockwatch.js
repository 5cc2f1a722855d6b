#!/usr/bin/env node
'use strict';
// dist/ holds the CLI twice: esbuild's bundle (scripts/bundle-cli.js: one file to load instead of
// some forty modules) and tsc's module tree. The bundle runs unless it is missing or older than
// tsc's last build (`npx tsc` alone after an edit): a stale bundle never runs in place of newer code.
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const bundle = path.join(dist, 'src', 'cli', 'sockwatch.cjs');

function bundleIsCurrent() {
  const built = fs.statSync(bundle, { throwIfNoEntry: false });
  if (built === undefined) return false;
  const tsc = fs.statSync(path.join(dist, '.tsbuildinfo'), { throwIfNoEntry: false });
  return tsc === undefined || tsc.mtimeMs <= built.mtimeMs;
}

require(bundleIsCurrent() ? bundle : path.join(dist, 'src', 'cli', 'fast-snapshot.js')).mainFast(process.argv);
