import { useSyncExternalStore } from 'react';
import { toggleFavourite } from './catalog';

/** Favourite services (codes), kept in localStorage and shared by every component that shows them. */
const KEY = 'simgate.favourites';
const listeners = new Set<() => void>();
let current: string[] = load();

function load(): string[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown;
    return Array.isArray(parsed) ? parsed.filter((c): c is string => typeof c === 'string').slice(0, 50) : [];
  } catch {
    return [];
  }
}

export function toggle(code: string): void {
  current = toggleFavourite(current, code);
  try {
    localStorage.setItem(KEY, JSON.stringify(current));
  } catch {
    // Storage unavailable: favourites last for this page only.
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // Another tab changed them.
  const onStorage = (event: StorageEvent) => {
    if (event.key !== KEY) return;
    current = load();
    listener();
  };
  window.addEventListener('storage', onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('storage', onStorage);
  };
}

export function useFavourites(): string[] {
  return useSyncExternalStore(subscribe, () => current);
}
