// Collects every comparison of sockwatch with the truth before failing, so one run shows all of
// them (a table of "sockwatch said / the truth was"), not just the first that failed.
import assert from 'node:assert/strict';

export class Checks {
  private readonly failed: string[] = [];
  readonly lines: string[] = [];

  /** Records `what: sockwatch … vs truth …`, failing the test (at assertAll) when `ok` is false. */
  check(ok: boolean, what: string): void {
    this.lines.push(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) this.failed.push(what);
  }

  /** Fails with every failed comparison, followed by `context` (what sockwatch wrote). */
  assertAll(context: string): void {
    assert.ok(this.failed.length === 0, `${this.failed.length} of ${this.lines.length} comparisons failed:\n${this.lines.join('\n')}\n\n${context}`);
  }
}
