// docs/findings.md quotes every threshold of src/core/findings.ts and src/core/finding-log.ts next
// to the constant's name; this test fails when the two drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as findings from '../../src/core/findings';
import * as findingLog from '../../src/core/finding-log';
import { KNOWN_FINDING_KINDS } from '../../src/views/metrics/metric-labels';

// dist/test/unit → the repository root
const DOC = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'findings.md'), 'utf8');

function numericConstants(mod: Record<string, unknown>): [string, number][] {
  return Object.entries(mod).filter((e): e is [string, number] => /^[A-Z][A-Z0-9_]+$/.test(e[0]) && typeof e[1] === 'number');
}

const CONSTANTS = [...numericConstants(findings), ...numericConstants(findingLog)];

/** how the doc writes a value: durations in seconds, the rest as they are */
function docValue(name: string, value: number): string {
  return name.endsWith('_MS') ? `${value / 1000} s` : String(value);
}

/** table rows (cells trimmed), header and separator rows left out */
function tableRows(md: string): string[][] {
  return md
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

/** the text of a cell from the end of the previous constant reference up to this one */
function leadIn(cell: string, name: string): string | undefined {
  const at = cell.indexOf(`(\`${name}\`)`);
  if (at < 0) return undefined;
  const before = cell.slice(0, at);
  const prev = before.lastIndexOf('`)');
  return prev < 0 ? before : before.slice(prev + 2);
}

function hasValue(text: string, value: string): boolean {
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\d.])${escaped}($|[^\\d.])`).test(text);
}

test('the module has the constants this test expects (it reads them, it does not list them)', () => {
  const names = CONSTANTS.map(([n]) => n);
  for (const n of ['REUSE_MIN_EXCHANGES', 'CHURN_MIN_CLOSES', 'CHURN_MIN_TURNOVER', 'CLOSE_WAIT_MIN_MS', 'GROWTH_MIN_FIT', 'FINDING_UPDATE_FACTOR']) {
    assert.ok(names.includes(n), `${n} is exported`);
  }
});

test('every threshold constant is quoted in docs/findings.md with its current value', () => {
  const rows = tableRows(DOC);
  for (const [name, value] of CONSTANTS) {
    const cells = rows.flat().filter((c) => c.includes(`(\`${name}\`)`));
    assert.equal(cells.length, 1, `docs/findings.md names (\`${name}\`) in exactly one table cell`);
    const text = leadIn(cells[0]!, name)!;
    const want = docValue(name, value);
    assert.ok(hasValue(text, want), `docs/findings.md: "${text.trim()}" should give ${name} as ${want}`);
  }
});

test('the findings table has one row per finding kind', () => {
  const kinds = tableRows(DOC)
    .map((r) => /^`([a-z_]+)`$/.exec(r[0] ?? '')?.[1])
    .filter((k): k is string => k !== undefined);
  assert.deepEqual([...kinds].sort(), [...KNOWN_FINDING_KINDS].sort());
});

test('the checks catch a drifted value', () => {
  const cell = 'over the last 60 s (`CHURN_WINDOW_MS`): ≥ 5 closes (`CHURN_MIN_CLOSES`); R² ≥ 0.8 (`GROWTH_MIN_FIT`)';
  assert.equal(hasValue(leadIn(cell, 'CHURN_MIN_CLOSES')!, '5'), true);
  assert.equal(hasValue(leadIn(cell, 'CHURN_MIN_CLOSES')!, '6'), false);
  assert.equal(hasValue(leadIn(cell, 'CHURN_MIN_CLOSES')!, '60 s'), false, 'the previous constant\'s value does not count');
  assert.equal(hasValue(leadIn(cell, 'GROWTH_MIN_FIT')!, '0.8'), true);
  assert.equal(hasValue(leadIn(cell, 'GROWTH_MIN_FIT')!, '8'), false);
  assert.equal(docValue('CLOSE_WAIT_MIN_MS', 2000), '2 s');
});
