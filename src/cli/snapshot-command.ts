import { openTarget, waitForTarget } from '../sources/open-target';
import { useColor } from '../views/output/state-color';
import { snapshotOnce } from '../watch/snapshot-once';
import type { SnapshotPlan } from '../watch/snapshot-plan';

export { SNAPSHOT_FORMATS, type SnapshotFormat } from '../watch/snapshot-plan';

/** `snapshot` from the full CLI: any target, --source, --output, --wait. */
export function runSnapshot(plan: SnapshotPlan): Promise<number> {
  return snapshotOnce(
    plan,
    { stdout: (text) => void process.stdout.write(text), color: useColor(process.stdout), stderr: (text) => void process.stderr.write(text), now: Date.now },
    { open: (p) => openTarget({ spec: p.spec, source: p.source }), wait: waitForTarget },
  );
}
