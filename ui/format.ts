/** Display helpers shared by both apps (money lives in money.ts). DOM-free: the unit tests load them in Node. */

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' });
  } catch {
    return null;
  }
})();

/** "GB" → "United Kingdom"; falls back to the code. */
export function countryName(iso: string): string {
  try {
    return regionNames?.of(iso.toUpperCase()) ?? iso;
  } catch {
    return iso;
  }
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** 125_000 → "2:05", 3_725_000 → "1:02:05"; rounds up so "0:00" shows only at the end. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * "+447911123456" with dialling code "44" → "+44 7911 123 456": the calling code apart, the
 * national number in groups of three or four, the way people read a number aloud. Only digits
 * are regrouped; anything else is shown as it came.
 */
export function formatPhone(phone: string, dial = ''): string {
  const digits = phone.replace(/^\+/, '');
  if (!/^\d{6,17}$/.test(digits)) return phone;
  const code = dial && digits.startsWith(dial) && digits.length - dial.length >= 4 ? dial : '';
  const national = digits.slice(code.length);
  return `+${code ? `${code} ` : ''}${groupDigits(national)}`;
}

/** Threes from the left, ending in 3 3, 3 4 or 4 4 (never a lone digit): 10 digits → "791 112 3456". */
export function groupDigits(digits: string): string {
  if (digits.length <= 5) return digits;
  const sizes: number[] = [];
  let left = digits.length;
  while (left > 8) {
    sizes.push(3);
    left -= 3;
  }
  sizes.push(...({ 6: [3, 3], 7: [3, 4], 8: [4, 4] } as Record<number, number[]>)[left]);
  const parts: string[] = [];
  let at = 0;
  for (const size of sizes) {
    parts.push(digits.slice(at, at + size));
    at += size;
  }
  return parts.join(' ');
}

/** The query of a hash route: `#/wallet/topup?missing=440000` → missing=440000 (useHashRoute leaves it out of the path). */
export function hashQuery(hash: string = (globalThis as { location?: { hash: string } }).location?.hash ?? ''): URLSearchParams {
  const at = hash.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : hash.slice(at + 1));
}
