/** Display helpers shared by both apps (money lives in money.ts). */

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

// Activations carry only the service code; names seen in the catalog are remembered here.
const SERVICE_NAMES_KEY = 'simgate.serviceNames';
const serviceNames: Record<string, string> = (() => {
  try {
    return JSON.parse(localStorage.getItem(SERVICE_NAMES_KEY) ?? '{}') as Record<string, string>;
  } catch {
    return {};
  }
})();

export function rememberServiceNames(entries: { code: string; name: string }[]): void {
  let changed = false;
  for (const { code, name } of entries) {
    if (serviceNames[code] !== name) {
      serviceNames[code] = name;
      changed = true;
    }
  }
  if (!changed) return;
  try {
    localStorage.setItem(SERVICE_NAMES_KEY, JSON.stringify(serviceNames));
  } catch {
    // Storage full or unavailable: names are a nicety.
  }
}

export function serviceName(code: string): string {
  return serviceNames[code] ?? code;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export { formatDuration } from './format-time';

export { STATUS_LABELS } from './activation-view';
