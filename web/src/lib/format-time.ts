/** Durations, DOM-free (shared by format.ts and activation-view.ts). */

/** 125_000 → "2:05", 3_725_000 → "1:02:05"; rounds up so "0:00" shows only at the end. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
