// tsc never deletes what it emitted for a source file that is gone, and node --test runs every
// file under dist/test: a test deleted from test/ would go on running (and failing) from its old
// output, and `npm pack` would ship stale modules. Removes dist/**/*.js (and .js.map) whose .ts
// source no longer exists. Keeps tsc's incremental state, so a build stays incremental.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');

function walk(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      walk(full);
      continue;
    }
    const m = /^(.*)\.js(\.map)?$/.exec(e.name);
    if (!m) continue;
    const rel = path.relative(dist, path.join(dir, m[1]));
    // the bundle (dist/sockwatch-cli.js and friends) has no .ts of its own
    if (!rel.includes(path.sep)) continue;
    if (!fs.existsSync(path.join(root, `${rel}.ts`))) fs.rmSync(full, { force: true });
  }
}

walk(dist);
