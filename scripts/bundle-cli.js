#!/usr/bin/env node
// `npm run build`, after tsc: bundles the CLI with esbuild so that a run loads one file instead of
// some forty modules (each one a path resolution, a file read and a compile at start-up):
//   dist/src/cli/sockwatch.cjs       the entry (fast-snapshot.ts): the plain `snapshot PID` only
//   dist/src/cli/sockwatch-full.cjs  the full CLI (main.ts: commander, watch, TUI, report, ...),
//                                    which the entry requires only when it hands over
// Two CommonJS files, not ESM chunks: Node's ESM loader costs more at start-up than the split
// would save, and a module in two CommonJS bundles would be two modules (two SockwatchError
// classes), so nothing else is split off. The bundles sit beside the tsc output they replace:
// paths taken relative to __dirname (the demo's child scripts, package.json) mean the same in
// both. Packages that load native addons or their own files by computed paths stay external and
// are required from node_modules at run time; so does prom-client, needed only with --metrics.
// bin/sockwatch.js takes the bundle when it is not older than tsc's last build.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const cliSrc = path.join(root, 'src', 'cli');
const outDir = path.join(root, 'dist', 'src', 'cli');
const ENTRY = 'sockwatch.cjs';
const FULL = 'sockwatch-full.cjs';

/** In the entry bundle, fast-snapshot's require('./main') loads the full bundle instead. */
const mainIsFullBundle = {
  name: 'main-is-full-bundle',
  setup(build) {
    build.onResolve({ filter: /^\.\/main$/ }, (args) =>
      args.importer === path.join(cliSrc, 'fast-snapshot.ts') ? { path: `./${FULL}`, external: true } : undefined,
    );
  },
};

/**
 * package.json is required by its path from dist/src/<dir>/, where tsc puts the requiring module
 * and where the bundles sit too: it stays a run-time require (read only by --version and report).
 */
const packageJsonAtRunTime = {
  name: 'package-json-at-run-time',
  setup(build) {
    build.onResolve({ filter: /(^|\/)package\.json$/ }, (args) => ({ path: args.path, external: true }));
  },
};

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['koffi', 'systeminformation', 'blessed', 'prom-client'],
  // import() of an external package becomes require(), as tsc compiles it: a real import() would
  // start Node's ESM loader just to load a CommonJS package
  supported: { 'dynamic-import': false },
  // Whitespace and comments out (less to read and compile at every start); identifiers kept, so
  // a stack trace still names its functions, and `node --enable-source-maps` maps it to src/*.ts.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};

async function main() {
  await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: [path.join(cliSrc, 'fast-snapshot.ts')],
      outfile: path.join(outDir, ENTRY),
      plugins: [mainIsFullBundle, packageJsonAtRunTime],
    }),
    esbuild.build({
      ...common,
      entryPoints: [path.join(cliSrc, 'main.ts')],
      outfile: path.join(outDir, FULL),
      plugins: [packageJsonAtRunTime],
    }),
  ]);
}

main().catch((e) => {
  // esbuild has already printed its errors (logLevel); this is the one line saying the step failed
  console.error(`bundle-cli: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  process.exit(1);
});
