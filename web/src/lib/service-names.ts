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
