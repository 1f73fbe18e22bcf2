/**
 * Reads an RFC 3339 time (one z.iso.datetime has accepted) as a Date, its fraction of a second truncated to the
 * millisecond a Date holds. V8's own parser misreads fractions of more than nine digits: `.0000000999000000` (under
 * a microsecond) comes back as 999 ms and `.0007000000` as 7 ms, so the digits past the millisecond are dropped
 * before it parses.
 */
export function parseIsoTime(text: string): Date {
  return new Date(text.replace(/(\.\d{3})\d+/, '$1'));
}
