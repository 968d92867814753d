/**
 * Strict date parsing for request signing. Hand-written rather than Date.parse so that what
 * is accepted is exactly what AWS documents, and so attacker input costs linear time.
 */

function digits(s: string, from: number, count: number): number {
  let v = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Date.UTC that refuses out-of-range fields instead of rolling them over (Feb 30 is not Mar 2). */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number): Date | undefined {
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  const t = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(t);
  if (d.getUTCDate() !== day || d.getUTCMonth() !== month - 1) return undefined;
  return d;
}

/** Parses SigV4's `yyyyMMdd'T'HHmmss'Z'`; undefined when malformed or not a real instant. */
export function parseAmzDate(s: string): Date | undefined {
  if (s.length !== 16 || s.charCodeAt(8) !== 84 /* T */ || s.charCodeAt(15) !== 90 /* Z */) return undefined;
  return utc(digits(s, 0, 4), digits(s, 4, 2), digits(s, 6, 2), digits(s, 9, 2), digits(s, 11, 2), digits(s, 13, 2));
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether `s` is a real `yyyyMMdd` day, as the credential scope requires. */
export function isScopeDate(s: string): boolean {
  if (s.length !== 8) return false;
  const year = digits(s, 0, 4);
  const month = digits(s, 4, 2);
  const day = digits(s, 6, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Formats an instant as `yyyyMMdd'T'HHmmss'Z'`. */
export function formatAmzDate(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}Z`;
}

/** ISO 8601 to the second (`2013-05-24T00:00:00Z`), the form S3 prints in error bodies. */
export function isoSeconds(d: Date): string {
  const iso = d.toISOString();
  return `${iso.slice(0, 19)}Z`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Parses an RFC 1123 / RFC 822 date (`Tue, 27 Mar 2007 19:36:42 +0000`, `… GMT`), the forms
 * the Date and SigV2 x-amz-date headers carry; the weekday is optional and not checked
 * (AWS does not check it either). Undefined when malformed.
 */
export function parseHttpDate(input: string): Date | undefined {
  if (input.length > 64) return undefined;
  let s = input.trim();
  const comma = s.indexOf(',');
  if (comma >= 0) {
    if (comma > 9) return undefined;
    s = s.slice(comma + 1).trim();
  }
  const parts = s.split(' ').filter((p) => p.length > 0);
  if (parts.length !== 5 && parts.length !== 4) return undefined;
  const [dayS, monS, yearS, timeS, zoneS = 'GMT'] = parts as [string, string, string, string, string?];
  if (dayS.length < 1 || dayS.length > 2) return undefined;
  const day = digits(dayS, 0, dayS.length);
  const month = MONTHS.indexOf(monS) + 1;
  if (yearS.length !== 4) return undefined;
  const year = digits(yearS, 0, 4);
  if (timeS.length !== 8 || timeS[2] !== ':' || timeS[5] !== ':') return undefined;
  const d = utc(year, month, day, digits(timeS, 0, 2), digits(timeS, 3, 2), digits(timeS, 6, 2));
  if (d === undefined) return undefined;
  let offsetMinutes = 0;
  if (zoneS === 'GMT' || zoneS === 'UTC' || zoneS === 'UT' || zoneS === 'Z') {
    offsetMinutes = 0;
  } else if (zoneS.length === 5 && (zoneS[0] === '+' || zoneS[0] === '-')) {
    const hh = digits(zoneS, 1, 2);
    const mm = digits(zoneS, 3, 2);
    if (hh < 0 || mm < 0 || hh > 23 || mm > 59) return undefined;
    offsetMinutes = (zoneS[0] === '+' ? 1 : -1) * (hh * 60 + mm);
  } else {
    return undefined;
  }
  return new Date(d.getTime() - offsetMinutes * 60_000);
}
