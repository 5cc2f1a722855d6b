// The alerting rules shipped in prometheus/sockwatch-alerts.yml, checked by Prometheus's own
// promtool: `check rules` parses them, `test rules` evaluates them on synthetic series — for each
// alert, series that fire it (with the labels and the summary a person would read) and series that
// must stay quiet. The cases are data here, written out as promtool's test file (JSON is YAML).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from '../helpers/cli';
import { requireTool } from '../helpers/metrics-http';

const ROOT = path.join(path.dirname(CLI), '..');
const RULES = path.join(ROOT, 'prometheus', 'sockwatch-alerts.yml');

type Labels = Record<string, string>;
const L: Labels = { job: 'sockwatch', instance: '127.0.0.1:9464', target: '4242' };

interface Series {
  series: string;
  values: string;
}
interface Case {
  alert: string;
  name: string;
  series: Series[];
  at: string;
  /** the alert fires with these labels (besides alertname and severity) and this summary; absent: quiet */
  fires?: { labels: Labels; summary: string };
}

/** A series in promtool's notation: `name{a="x",…}` and its values, one per minute. */
function s(name: string, labels: Labels, values: string): Series {
  const sel = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  return { series: `${name}{${sel}}`, values };
}
/** 30 values alternating between `a` and `b`, for something that comes and goes every minute. */
const flicker = (a: number, b: number): string => Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b)).join(' ');
const finding = (kind: string, values: string): Series => s('sockwatch_finding', { ...L, kind }, values);
const live = (state: string, values: string): Series => s('sockwatch_connections', { ...L, state }, values);
const opened = (values: string): Series => s('sockwatch_connections_opened_total', L, values);

const CASES: Case[] = [
  // 120 opens a minute: 2 per second
  { alert: 'SockwatchConnectionChurn', name: 'churn at 2/s for 20 minutes', series: [opened('0+120x30'), finding('churn', '1x30')], at: '20m', fires: { labels: L, summary: 'Target 4242 opens 2 short-lived connections per second' } },
  { alert: 'SockwatchConnectionChurn', name: 'many opens without the churn finding (a busy server of long connections)', series: [opened('0+120x30'), finding('churn', '0x30')], at: '20m' },
  { alert: 'SockwatchConnectionChurn', name: 'the churn finding at 0.1 opens/s', series: [opened('0+6x30'), finding('churn', '1x30')], at: '20m' },
  { alert: 'SockwatchConnectionChurn', name: 'churn for 5 minutes only', series: [opened('0+120x30'), finding('churn', '0x14 1x5 0x10')], at: '20m' },

  { alert: 'SockwatchCloseWaitLeak', name: 'a CLOSE_WAIT leak reaching 10', series: [live('ESTABLISHED', '50x30'), live('CLOSE_WAIT', '0 2 4 6 8 10x25'), finding('close_wait', '0 1x29')], at: '15m', fires: { labels: L, summary: 'Target 4242 holds 10 connections in CLOSE_WAIT' } },
  { alert: 'SockwatchCloseWaitLeak', name: 'CLOSE_WAIT connections that come and go', series: [live('CLOSE_WAIT', flicker(3, 0)), finding('close_wait', flicker(1, 0))], at: '20m' },
  { alert: 'SockwatchCloseWaitLeak', name: 'a few CLOSE_WAIT at every scrape, none held for 2 s (no finding)', series: [live('CLOSE_WAIT', '2x30'), finding('close_wait', '0x30')], at: '20m' },
  { alert: 'SockwatchCloseWaitLeak', name: 'a leak that cleared after 8 minutes', series: [live('CLOSE_WAIT', '5x8 0x20'), finding('close_wait', '1x8 0x20')], at: '15m' },

  // 4 + 1 more live connections every minute: 300 in an hour
  { alert: 'SockwatchConnectionGrowth', name: 'a steady rise of 5 a minute', series: [live('ESTABLISHED', '10+4x100'), live('CLOSE_WAIT', '0+1x100'), finding('growth', '1x100')], at: '80m', fires: { labels: L, summary: 'Target 4242 holds 300 more connections than an hour ago' } },
  { alert: 'SockwatchConnectionGrowth', name: 'a large, flat pool', series: [live('ESTABLISHED', '500x100'), finding('growth', '0x100')], at: '80m' },
  { alert: 'SockwatchConnectionGrowth', name: 'a steady rise of 60 an hour', series: [live('ESTABLISHED', '10+1x100'), finding('growth', '1x100')], at: '80m' },
  { alert: 'SockwatchConnectionGrowth', name: 'one jump by 300 (a deploy), no steady rise', series: [live('ESTABLISHED', '100x30 400x70'), finding('growth', '0x100')], at: '80m' },

  { alert: 'SockwatchTargetDown', name: 'the target exited', series: [s('sockwatch_target_up', L, '1 1 0x10')], at: '5m', fires: { labels: L, summary: 'The process sockwatch watches as target 4242 has exited' } },
  { alert: 'SockwatchTargetDown', name: 'the target runs', series: [s('sockwatch_target_up', L, '1x10')], at: '5m' },
  { alert: 'SockwatchTargetDown', name: 'down at one scrape only', series: [s('sockwatch_target_up', L, '1 1 0 1x10')], at: '3m' },

  {
    alert: 'SockwatchEndpointDown',
    name: 'sockwatch stopped answering scrapes',
    series: [s('up', { job: L.job!, instance: L.instance! }, '1 1 1 0x10'), s('sockwatch_target_up', L, '1 1 1')],
    at: '6m',
    fires: { labels: { job: L.job!, instance: L.instance! }, summary: 'sockwatch on 127.0.0.1:9464 cannot be scraped' },
  },
  { alert: 'SockwatchEndpointDown', name: 'another exporter is down', series: [s('up', { job: 'node', instance: '127.0.0.1:9100' }, '1 1 1 0x10'), s('up', { job: L.job!, instance: L.instance! }, '1x10'), s('sockwatch_target_up', L, '1x10')], at: '6m' },
  { alert: 'SockwatchEndpointDown', name: 'sockwatch answers', series: [s('up', { job: L.job!, instance: L.instance! }, '1x10'), s('sockwatch_target_up', L, '1x10')], at: '6m' },

  { alert: 'SockwatchEventsLost', name: '5 events dropped', series: [s('sockwatch_lifecycle_events_dropped_total', L, '0 0 0 5x10'), s('sockwatch_lifecycle_overruns_total', L, '0x13')], at: '5m', fires: { labels: L, summary: 'sockwatch lost between-poll events for target 4242' } },
  { alert: 'SockwatchEventsLost', name: 'one overrun', series: [s('sockwatch_lifecycle_events_dropped_total', L, '0x13'), s('sockwatch_lifecycle_overruns_total', L, '0 0 0 1x10')], at: '5m', fires: { labels: L, summary: 'sockwatch lost between-poll events for target 4242' } },
  { alert: 'SockwatchEventsLost', name: 'the kernel skipped the program', series: [s('sockwatch_lifecycle_events_dropped_total', L, '0x13'), s('sockwatch_lifecycle_overruns_total', L, '0x13'), s('sockwatch_lifecycle_events_missed_total', L, '0 0 0 29x10')], at: '5m', fires: { labels: L, summary: 'sockwatch lost between-poll events for target 4242' } },
  { alert: 'SockwatchEventsLost', name: 'nothing lost', series: [s('sockwatch_lifecycle_events_dropped_total', L, '0x30'), s('sockwatch_lifecycle_overruns_total', L, '0x30')], at: '20m' },
  { alert: 'SockwatchEventsLost', name: 'a loss 28 minutes ago', series: [s('sockwatch_lifecycle_events_dropped_total', L, '0 0 5x40'), s('sockwatch_lifecycle_overruns_total', L, '0x42')], at: '30m' },
];

/** Every `- alert: Name` in the rules file, with its severity and description template. */
function alertsInRules(text: string): Map<string, { severity: string; description: string }> {
  const out = new Map<string, { severity: string; description: string }>();
  for (const block of text.split(/^\s*- alert: /m).slice(1)) {
    const name = /^(\w+)/.exec(block)?.[1];
    const severity = /^\s+severity: (\w+)\s*$/m.exec(block)?.[1];
    const description = /^\s+description: "(.*)"\s*$/m.exec(block)?.[1];
    assert.ok(name !== undefined && severity !== undefined && description !== undefined, `an alert block without name, severity or a one-line description:\n${block}`);
    out.set(name, { severity, description });
  }
  return out;
}

/** The description as Alertmanager would show it: it may use $labels only (the summary carries the value). */
function render(template: string, labels: Labels): string {
  return template.replace(/\{\{ *([^}]*?) *\}\}/g, (_, expr: string) => {
    const m = /^\$labels\.(\w+)$/.exec(expr);
    assert.ok(m !== null && labels[m[1]!] !== undefined, `a description template uses "${expr}": only $labels it has are expected`);
    return labels[m[1]!]!;
  });
}

function promtoolTestFile(cases: readonly Case[], rules: ReturnType<typeof alertsInRules>): object {
  return {
    rule_files: [RULES],
    evaluation_interval: '1m',
    tests: cases.map((c) => {
      const meta = rules.get(c.alert);
      assert.ok(meta !== undefined, `${c.alert} is not in ${RULES}`);
      return {
        name: `${c.alert}: ${c.name}`,
        interval: '1m',
        input_series: c.series,
        alert_rule_test: [
          {
            eval_time: c.at,
            alertname: c.alert,
            exp_alerts: c.fires === undefined ? [] : [{ exp_labels: { ...c.fires.labels, severity: meta.severity }, exp_annotations: { summary: c.fires.summary, description: render(meta.description, c.fires.labels) } }],
          },
        ],
      };
    }),
  };
}

interface Ran {
  code: number | null;
  out: string;
}
function promtool(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile('promtool', args, { timeout: 60_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, out: `${stdout}${stderr}${err !== null && typeof err.code !== 'number' ? `\n${err.message}` : ''}` });
    });
  });
}

describe('the shipped Prometheus alerting rules', () => {
  let rules: ReturnType<typeof alertsInRules>;
  let work: string;

  before(() => {
    requireTool('promtool', ['--version'], 'prometheus');
    rules = alertsInRules(fs.readFileSync(RULES, 'utf8'));
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-alerts-'));
  });
  after(() => {
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  });

  it('promtool check rules accepts the file', async () => {
    const r = await promtool(['check', 'rules', RULES]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${rules.size} rules found`));
  });

  it('names the alerts the issue asks for, and each has series that fire it and series that do not', () => {
    for (const a of ['SockwatchConnectionChurn', 'SockwatchCloseWaitLeak', 'SockwatchConnectionGrowth', 'SockwatchTargetDown', 'SockwatchEventsLost']) assert.ok(rules.has(a), `no ${a}`);
    for (const a of rules.keys()) {
      assert.ok(CASES.some((c) => c.alert === a && c.fires !== undefined), `no case fires ${a}`);
      assert.ok(CASES.some((c) => c.alert === a && c.fires === undefined), `no case keeps ${a} quiet`);
    }
  });

  it('promtool test rules: every case fires or stays quiet as expected', async () => {
    const file = path.join(work, 'sockwatch-alerts.test.yml');
    fs.writeFileSync(file, JSON.stringify(promtoolTestFile(CASES, rules), null, 1));
    const r = await promtool(['test', 'rules', file]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  });

  it('promtool test rules fails on a wrong expectation (the cases above are really evaluated)', async () => {
    // each case with its expectation turned round: a firing case expected quiet, a quiet one expected to fire
    for (const c of [CASES.find((x) => x.fires !== undefined)!, CASES.find((x) => x.fires === undefined)!]) {
      const wrong: Case = { ...c, fires: c.fires === undefined ? { labels: L, summary: 'none' } : undefined };
      const file = path.join(work, 'wrong.test.yml');
      fs.writeFileSync(file, JSON.stringify(promtoolTestFile([wrong], rules)));
      const r = await promtool(['test', 'rules', file]);
      assert.notEqual(r.code, 0, `promtool passed a wrong expectation for "${c.name}":\n${r.out}`);
      assert.match(r.out, /FAILED/);
    }
  });
});
