/**
 * The `csv-stats` tool: summarises CSV text column by column.
 *
 * A Corral example tool written in JavaScript, built into a WebAssembly
 * component with jco and ComponentizeJS (see this folder's README.md).
 * `wit/csv-stats.wit` declares its types; ComponentizeJS maps them to
 * JavaScript as jco does: records are objects with camelCase fields,
 * enums are strings, variants are `{ tag, val }`, an absent `option` is
 * `undefined`, and a `result` error is thrown.
 */

/** The most common values a column reports, at most. */
const MAX_TOP = 20;

/** Reading stopped: `line` is 1-based, 0 when not on one line. */
class CsvError {
  constructor(line, message) {
    this.line = line;
    this.message = message;
  }
}

/** The character a `delimiter` variant stands for. */
function delimiterChar(delimiter) {
  switch (delimiter?.tag ?? 'comma') {
    case 'comma':
      return ',';
    case 'semicolon':
      return ';';
    case 'tab':
      return '\t';
    case 'other':
      if (delimiter.val === '"' || delimiter.val === '\n' || delimiter.val === '\r') {
        throw new CsvError(0, `the delimiter cannot be ${JSON.stringify(delimiter.val)}`);
      }
      return delimiter.val;
    default:
      throw new CsvError(0, `unknown delimiter ${delimiter.tag}`);
  }
}

/**
 * Splits CSV text into rows of fields (RFC 4180: quoted fields, `""` inside
 * quotes, line breaks inside quoted fields). Returns `[fields, line]` pairs,
 * `line` being where each row starts; blank lines are skipped.
 */
function parseRows(text, sep) {
  const rows = [];
  let fields = [];
  let field = '';
  let quoted = false;
  let fieldWasQuoted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 0;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldWasQuoted)) {
      rows.push([fields, rowLine]);
    }
    fields = [];
    field = '';
    fieldWasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      fieldWasQuoted = true;
      quoteLine = line;
    } else if (c === sep) {
      fields.push(field);
      field = '';
      fieldWasQuoted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
    }
  }
  if (quoted) {
    throw new CsvError(quoteLine, 'a quoted field is never closed');
  }
  endRow();
  return rows;
}

/** Whether a (trimmed, non-empty) field is a number. */
function isNumber(value) {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value);
}

/** Whether a (trimmed, non-empty) field is `true` or `false`. */
function isBoolean(value) {
  const lower = value.toLowerCase();
  return lower === 'true' || lower === 'false';
}

/** Min, max, mean, median, standard deviation and sum of `numbers`. */
function numericSummary(numbers) {
  const sorted = [...numbers].sort((a, b) => a - b);
  const sum = sorted.reduce((total, x) => total + x, 0);
  const mean = sum / sorted.length;
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  const variance = sorted.reduce((total, x) => total + (x - mean) ** 2, 0) / sorted.length;
  return {
    min: sorted[0],
    max: sorted[sorted.length - 1],
    mean,
    median,
    stdDev: Math.sqrt(variance),
    sum,
  };
}

/** The summary of one column, from its values (`''` when missing). */
function summarizeColumn(name, values, top) {
  const present = values.map((v) => v.trim()).filter((v) => v !== '');
  const counts = new Map();
  for (const value of present) counts.set(value, (counts.get(value) ?? 0) + 1);
  let kind = 'text';
  if (present.length === 0) kind = 'empty';
  else if (present.every(isNumber)) kind = 'numeric';
  else if (present.every(isBoolean)) kind = 'boolean';
  const ranked = [...counts.entries()]
    .map(([value, count], order) => ({ value, count, order }))
    .sort((a, b) => b.count - a.count || a.order - b.order)
    .slice(0, top)
    .map(({ value, count }) => ({ value, count }));
  return {
    name,
    kind,
    count: present.length,
    missing: values.length - present.length,
    distinct: counts.size,
    numeric: kind === 'numeric' ? numericSummary(present.map(Number)) : undefined,
    top: ranked,
  };
}

/** The `summarize` export: see its WIT doc comment. */
export function summarize(csv, options) {
  const sep = delimiterChar(options?.delimiter);
  const hasHeader = options?.hasHeader ?? true;
  const top = options?.top ?? 3;
  if (top > MAX_TOP) {
    throw new CsvError(0, `top must be at most ${MAX_TOP}, got ${top}`);
  }
  const rows = parseRows(csv, sep);
  if (rows.length === 0) {
    throw new CsvError(0, 'the CSV has no rows');
  }
  const width = rows[0][0].length;
  const names = hasHeader
    ? rows[0][0].map((n, i) => n.trim() || `column_${i + 1}`)
    : Array.from({ length: width }, (_, i) => `column_${i + 1}`);
  const data = hasHeader ? rows.slice(1) : rows;
  if (data.length === 0) {
    throw new CsvError(rows[0][1], 'the CSV has a header but no data rows');
  }
  for (const [fields, line] of data) {
    if (fields.length !== width) {
      const first = hasHeader ? 'the header has' : 'the first row has';
      throw new CsvError(line, `row has ${fields.length} fields, ${first} ${width}`);
    }
  }
  return {
    rows: data.length,
    columns: names.map((name, i) =>
      summarizeColumn(
        name,
        data.map(([fields]) => fields[i]),
        top,
      ),
    ),
  };
}
