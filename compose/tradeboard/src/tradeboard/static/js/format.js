// Display formats. Times are shown exactly as the API sends them (ISO 8601 UTC), numbers
// exactly as the API's JSON spells them, so what a test reads equals what the API said.

export const DASH = '—';

/** A timestamp from the API, unchanged; a dash for null. */
export function formatTime(iso) {
  return iso ? String(iso) : DASH;
}

/** A JSON number in plain decimal notation (never 1e-7); a dash for null. */
export function formatNumber(value) {
  if (value === null || value === undefined) return DASH;
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return trimZeros(Number(value).toFixed(20));
}

function trimZeros(text) {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

function toScaled(text, scale) {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  const value = BigInt(whole + fraction.padEnd(scale, '0'));
  return negative ? -value : value;
}

/**
 * The exact decimal sum of JSON numbers, as text. Adding floats would show
 * 0.30000000000000004 for 0.1 + 0.2; adding scaled integers cannot drift.
 */
export function decimalSum(values) {
  const texts = values.map(formatNumber);
  const scale = Math.max(0, ...texts.map((t) => (t.split('.')[1] || '').length));
  const total = texts.reduce((sum, t) => sum + toScaled(t, scale), 0n);
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return (negative ? '-' : '') + trimZeros(text);
}

/** A datetime-local value ("2024-01-05T10:00"), read as UTC, in ISO 8601 with Z. */
export function localInputToIso(value) {
  if (!value) return '';
  return value.length === 16 ? `${value}:00Z` : `${value}Z`;
}

/** A Date as a datetime-local value in UTC, to the minute. */
export function isoToLocalInput(date) {
  return date.toISOString().slice(0, 16);
}

/** A default range: the 24 hours up to the next whole minute, as datetime-local values. */
export function defaultRange() {
  const to = new Date(Math.ceil(Date.now() / 60000) * 60000);
  const from = new Date(to.getTime() - 24 * 3600 * 1000);
  return {from: isoToLocalInput(from), to: isoToLocalInput(to)};
}
