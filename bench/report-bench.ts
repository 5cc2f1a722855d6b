// How long a 10,000-connection report takes to build and to open in headless Chromium.
//   npx tsc -p tsconfig.json && node dist/bench/report-bench.js
// Not part of npm test: it times things. "Opens" is navigation start → the page's script has
// inflated its hover data and wired the handlers (body[data-ready]), with the timeline drawn.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { RecordingBuilder } from '../src/replay/recording';
import { renderReport } from '../src/report/write-report';
import { syntheticRecording } from '../test/helpers/synthetic-recording';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/chromium';

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-report-bench-'));
  const text = syntheticRecording({ churn: 9000, leak: 999 });
  const b = new RecordingBuilder('bench.ndjson');
  text.split('\n').forEach((l, i) => b.addLine(l, i + 1));
  const t0 = performance.now();
  const html = renderReport(b.finish());
  const buildMs = performance.now() - t0;
  const file = path.join(dir, 'report.html');
  fs.writeFileSync(file, html);
  const conns = html.match(/data-connection-id=/g)?.length ?? 0;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const times: number[] = [];
  try {
    for (let run = 0; run < 5; run++) {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const start = performance.now();
      await page.goto(`file://${file}`);
      await page.waitForSelector('body[data-ready]');
      // one frame painted after that
      await page.evaluate('new Promise((r) => requestAnimationFrame(() => r(0)))');
      times.push(performance.now() - start);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  times.sort((a, c) => a - c);
  process.stdout.write(
    `report of ${conns} connections: ${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB, built in ${buildMs.toFixed(0)} ms\n` +
      `opens in Chromium (5 runs): median ${times[2]!.toFixed(0)} ms, max ${times[4]!.toFixed(0)} ms (goal: under 2000 ms)\n`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
