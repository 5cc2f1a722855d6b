import type { Connection } from '../../model';
import { terminalText } from '../../util/terminal-text';

export const CSV_HEADER = [
  'fd', 'protocol', 'local_address', 'local_port', 'remote_address', 'remote_port', 'state', 'inode',
  'send_queue', 'recv_queue', 'timer', 'timer_expires_ms',
];

/**
 * A text cell a spreadsheet would run as a formula (`=cmd|' /C calc'!A0`, `@SUM(…)`, `+1+1`) gets a
 * leading `'`, as OWASP advises for cells starting with = + - @ tab or CR: the `'` shows, the
 * formula does not run.
 */
export function neutralizeFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/**
 * One cell. A number is sockwatch's own and stays a number (`-1` is no formula). A string may be
 * foreign (an address from a recording): escaped as for a terminal, since `snapshot --format csv`
 * prints to one (util/terminal-text.ts), then neutralized, then quoted (RFC 4180: only when needed).
 */
export function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return String(v);
  const s = neutralizeFormula(terminalText(v));
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(fields: readonly (string | number | undefined)[]): string {
  return fields.map(csvField).join(',');
}

export function connectionCsvFields(c: Connection): (string | number | undefined)[] {
  return [
    c.fd, c.protocol, c.local.address, c.local.port, c.remote.address, c.remote.port, c.state, c.inode,
    c.sendQueue, c.recvQueue, c.timer?.kind, c.timer?.expiresMs,
  ];
}

/** `extraHeader`/`extra` append columns (the TUI export adds first_seen and lifetime_ms). */
export function snapshotCsv<T extends { connection: Connection }>(
  items: readonly T[],
  extraHeader: readonly string[] = [],
  extra: (item: T) => (string | number | undefined)[] = () => [],
): string {
  const lines = [csvRow([...CSV_HEADER, ...extraHeader])];
  for (const it of items) lines.push(csvRow([...connectionCsvFields(it.connection), ...extra(it)]));
  return lines.join('\n') + '\n';
}
