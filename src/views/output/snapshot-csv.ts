import type { Connection } from '../../model';

export const CSV_HEADER = [
  'fd', 'protocol', 'local_address', 'local_port', 'remote_address', 'remote_port', 'state', 'inode',
  'send_queue', 'recv_queue', 'timer', 'timer_expires_ms',
];

/** RFC 4180 quoting: only when a field needs it. */
export function csvField(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
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
