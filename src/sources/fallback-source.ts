import type { Snapshot, SourceName, StateFilter } from '../model';
import type { Source } from './source';
import { isOutOfDescriptors, isSockwatchError } from '../errors';

/**
 * Wraps a richer source (netlink) so that its failure never ends a watch: on an unexpected error
 * it switches to the fallback (procfs) for good and answers this poll from there. Expected errors
 * about the target (gone, permission) are the target's, not the source's, and pass through; so does
 * running out of file descriptors, which would fail the fallback alike and passes.
 */
export function withFallback(primary: Source, openFallback: () => Promise<Source>, onSwitch?: (reason: unknown) => void): Source {
  let current: Source = primary;
  let switched = false;
  return {
    get name(): SourceName {
      return current.name;
    },
    async snapshot(states: StateFilter): Promise<Snapshot> {
      try {
        return await current.snapshot(states);
      } catch (e) {
        if (switched || (isSockwatchError(e) && (e.code === 'no_such_process' || e.code === 'permission_denied')) || isOutOfDescriptors(e)) throw e;
        switched = true;
        primary.close();
        current = await openFallback();
        onSwitch?.(e);
        return current.snapshot(states);
      }
    },
    close(): void {
      current.close();
    },
  };
}
