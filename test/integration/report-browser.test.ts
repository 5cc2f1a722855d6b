// The report in a real browser: a recording of the demo's three loops, made here, turned into a
// report and opened in headless Chromium. No console error, no request but the file itself, one
// element per connection, the findings there, hover working, and a screenshot that is not blank.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { runCli } from '../helpers/cli';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';


describe('HTML report in headless Chromium', () => {
  let dir: string;
  let browser: Browser | undefined;
  let recording: string;
  let report: string;

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: install the Debian package chromium (.ci/run does)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-browser-'));
    recording = path.join(dir, 'demo.ndjson');
    report = path.join(dir, 'demo.html');
    const demo = await runCli(['demo', '--duration', '9s', '--json', '--record', recording], { timeoutMs: 30_000 });
    assert.equal(demo.code, 0, demo.stderr);
    const r = await runCli(['report', recording, '-o', report]);
    assert.equal(r.code, 0, r.stderr);
    // Playwright gives every launch a fresh --user-data-dir of its own (it refuses one in args).
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
  });

  it('opens with no console error and no request, shows every connection and the findings', async () => {
    const page = await browser!.newPage({ viewport: { width: 1100, height: 1000 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${report}`);
    await page.waitForSelector('body[data-ready]', { timeout: 5000 });

    const ids = new Set<string>();
    for (const l of fs.readFileSync(recording, 'utf8').split('\n')) {
      if (!l) continue;
      const o = JSON.parse(l) as { type: string; connection?: { id: string } };
      if (o.connection && ['open', 'close', 'state'].includes(o.type)) ids.add(o.connection.id);
    }
    const shown = await page.$$eval('[data-connection-id]', (els) => els.map((e) => e.getAttribute('data-connection-id')));
    assert.equal(shown.length, ids.size);
    assert.deepEqual(new Set(shown), ids);

    const kinds = await page.$$eval('li.finding b', (els) => els.map((e) => e.textContent));
    assert.ok(kinds.includes('reuse'), kinds.join());
    assert.ok(kinds.includes('churn'), kinds.join());
    // The demo's leak shows as growth within seconds; as close_wait once the server times it out.
    assert.ok(kinds.includes('growth') || kinds.includes('close_wait'), kinds.join());

    // Hover the reused connection's bar: its details appear.
    const bar = await page.$('svg.tl [data-connection-id]');
    const box = (await bar!.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tip = await page.textContent('#tip');
    assert.match(tip ?? '', /connection c\d+\n127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+/);

    const shot = path.join(os.tmpdir(), 'sockwatch-report-browser.png');
    await page.screenshot({ path: shot, fullPage: true });
    process.stdout.write(`# screenshot kept at ${shot}\n`);

    assert.deepEqual(errors, []);
    assert.deepEqual(requests, [`file://${report}`]);
    await page.close();

    // Not blank: the pixels vary (computed in a separate page, after the request check).
    const check = await browser!.newPage();
    const png = fs.readFileSync(shot).toString('base64');
    // A string, evaluated in the page: this project compiles without the DOM typings.
    const variance = (await check.evaluate(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${png}';
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      let sum = 0, sq = 0, n = 0;
      for (let i = 0; i < px.length; i += 4) {
        const y = (px[i] + px[i + 1] + px[i + 2]) / 3;
        sum += y; sq += y * y; n++;
      }
      return sq / n - (sum / n) ** 2;
    })()`)) as number;
    await check.close();
    assert.ok(variance > 100, `pixel variance ${variance}`);
  });

  it('the timeline and findings are there with JavaScript off', async () => {
    const ctx = await browser!.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    await page.goto(`file://${report}`);
    // JavaScript is off in the page, not for Playwright's own evaluation: measure what was drawn.
    const boxes = await Promise.all((await page.$$('svg.tl [data-connection-id]')).map((e) => e.boundingBox()));
    assert.ok(boxes.length > 0 && boxes.every((b) => b !== null && (b.width > 0 || b.height > 0)));
    assert.ok((await page.$$('li.finding')).length >= 3);
    await ctx.close();
  });
});
