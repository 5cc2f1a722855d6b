// Regenerates docs/report.png, the README's picture of a report: records the demo's three loops
// for 12 s, makes the report, and screenshots its top in headless Chromium.
//   npm run screenshot
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { runCli } from '../test/helpers/cli';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/chromium';

const OUT = path.join(__dirname, '..', '..', 'docs', 'report.png');

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-screenshot-'));
  const rec = path.join(dir, 'demo.ndjson');
  const html = path.join(dir, 'demo.html');
  const demo = await runCli(['demo', '--duration', '12s', '--json', '--record', rec], { timeoutMs: 40_000 });
  if (demo.code !== 0) throw new Error(`demo failed: ${demo.stderr}`);
  const r = await runCli(['report', rec, '-o', html]);
  if (r.code !== 0) throw new Error(`report failed: ${r.stderr}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1080, height: 1200 }, deviceScaleFactor: 1 });
    await page.goto(`file://${html}`);
    await page.waitForSelector('body[data-ready]');
    // Hover the first bar so the picture shows a tooltip too.
    const bar = await page.$('svg.tl [data-connection-id]');
    const box = await bar?.boundingBox();
    if (box) await page.mouse.move(box.x + Math.min(box.width / 2, 200), box.y + box.height / 2);
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    await page.screenshot({ path: OUT, fullPage: false });
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`wrote ${OUT}\n`);
}

void main();
