/**
 * RFC 4180 cells for every CSV the product writes (inventory, alerts): comma, CRLF, fields with
 * `"` `,` CR or LF quoted, `"` doubled, and CSV-injection safety: a cell that starts with
 * = + - @ (or TAB/CR) gets a leading `'` so a spreadsheet never evaluates it as a formula
 * (OWASP "CSV Injection").
 */

/** A cell that a spreadsheet would take for a formula gets a leading apostrophe. */
export function neutralizeFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** One RFC 4180 field, formula-neutralised. */
export function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : neutralizeFormula(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (no line end). */
export function csvLine(cells: readonly (string | number | null | undefined)[]): string {
  return cells.map(csvCell).join(',');
}
