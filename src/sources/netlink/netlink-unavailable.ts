// The netlink source runs on koffi (libc-netlink.ts). Where koffi cannot load (an unsupported
// platform, a broken install) procfs answers instead, and the user is told once why.
import { libcNetlinkUnavailableReason } from './libc-netlink';

let said = false;

/**
 * True when koffi cannot load here; the first time, says so on stderr in one line. Said before
 * any screen opens: the first source is opened before the first poll.
 */
export function netlinkNeedsProcfs(): boolean {
  const reason = libcNetlinkUnavailableReason();
  if (reason === undefined) return false;
  if (!said) {
    said = true;
    process.stderr.write(`sockwatch: the netlink source needs koffi, which cannot load here (${reason}); using procfs\n`);
  }
  return true;
}
