// The one parser of a tracepoint's `format` file (tracefs events/<category>/<name>/format): its
// id (for perf_event_open) and where each field of the record a program receives lies. The
// layout changes between kernels, so the programs are assembled from what this reads at run time.
// The file comes from the kernel, but a bad one (an unknown kernel, a fake tracefs) must end in a
// one-line reason, never a program reading the wrong bytes.

export interface TracepointField {
  name: string;
  /** the C declaration's type, e.g. `__u8`, `const void *` */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** element count for `name[N]` fields */
  arrayLength?: number;
}

export interface TracepointFormat {
  name: string;
  id: number;
  fields: Map<string, TracepointField>;
}

export class FormatError extends Error {}

const FIELD = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:([01]);\s*$/;
/** the record a tracepoint program may read is at most a page */
const MAX_RECORD = 4096;

export function parseTracepointFormat(text: string): TracepointFormat {
  let name: string | undefined;
  let id: number | undefined;
  const fields = new Map<string, TracepointField>();
  for (const line of text.split('\n')) {
    if (line.startsWith('name:')) name = line.slice(5).trim();
    else if (line.startsWith('ID:')) {
      const t = line.slice(3).trim();
      if (!/^\d{1,9}$/.test(t)) throw new FormatError(`bad tracepoint id ${JSON.stringify(t.slice(0, 40))}`);
      id = Number(t);
    } else if (/^\s*field:/.test(line)) {
      const m = FIELD.exec(line);
      if (!m) throw new FormatError(`unreadable field line ${JSON.stringify(line.trim().slice(0, 80))}`);
      const field = parseDeclaration(m[1]!, Number(m[2]), Number(m[3]), m[4] === '1');
      if (fields.has(field.name)) throw new FormatError(`field ${field.name} listed twice`);
      fields.set(field.name, field);
    }
  }
  if (name === undefined || name === '') throw new FormatError('no name: line');
  if (id === undefined) throw new FormatError('no ID: line');
  if (fields.size === 0) throw new FormatError('no fields');
  return { name, id, fields };
}

function parseDeclaration(decl: string, offset: number, size: number, signed: boolean): TracepointField {
  const m = /^(.*?)([A-Za-z_]\w*)\s*(?:\[(\d+)\])?\s*$/.exec(decl.trim());
  if (!m || m[1]!.trim() === '') throw new FormatError(`unreadable field declaration ${JSON.stringify(decl.slice(0, 80))}`);
  if (size === 0 || offset + size > MAX_RECORD) throw new FormatError(`field ${m[2]} at ${offset}+${size} is outside the record`);
  const field: TracepointField = { name: m[2]!, type: m[1]!.trim(), offset, size, signed };
  if (m[3] !== undefined) {
    const n = Number(m[3]);
    if (n === 0 || size % n !== 0) throw new FormatError(`field ${m[2]}[${n}] does not fill its ${size} bytes`);
    field.arrayLength = n;
  }
  return field;
}

/**
 * The field a program needs, checked: its size must be one of `sizes` (a kernel that widened or
 * narrowed it would be read wrong). Reads of the record must be aligned to their size (the
 * verifier refuses others), so the offset must be too, for scalar fields.
 */
export function requireField(f: TracepointFormat, name: string, sizes: readonly number[]): TracepointField {
  const field = f.fields.get(name);
  if (!field) throw new FormatError(`${f.name} has no field ${name}`);
  if (!sizes.includes(field.size)) throw new FormatError(`${f.name}.${name} is ${field.size} bytes, expected ${sizes.join(' or ')}`);
  const unit = field.arrayLength === undefined ? field.size : field.size / field.arrayLength;
  if (field.offset % Math.min(unit, 8) !== 0) throw new FormatError(`${f.name}.${name} at offset ${field.offset} is not aligned`);
  return field;
}
