/**
 * Who may talk to the console. It mints viewer and bind tokens and presses the simulated reset
 * button, so it answers only to itself:
 * - `Host` must name the console (a loopback name or the configured host, with its port). A page
 *   from another site that rebinds its own name to 127.0.0.1 sends its own name here (DNS rebinding).
 * - `Origin`, when a request carries one, must be the console's own. Browsers send it on every
 *   POST, on cross-origin fetches and on WebSocket handshakes, so another site's page (CSRF) is
 *   refused; tools like curl send none and are let through (they are not a browser someone visits
 *   a page with).
 * Pure: no I/O.
 */
export interface ConsoleGuard {
  /** undefined when the request may go on, else why it is refused. */
  refusal(headers: { host?: string | undefined; origin?: string | undefined }): string | undefined;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

function hostNames(configured: string): string[] {
  const names = new Set(LOOPBACK_NAMES);
  // A wildcard is where it listens, not a name a browser can use.
  if (configured !== '0.0.0.0' && configured !== '::' && configured !== '') {
    names.add(configured.includes(':') && !configured.startsWith('[') ? `[${configured}]` : configured);
  }
  return [...names].map((name) => name.toLowerCase());
}

export function consoleGuard(configuredHost: string, port: () => number): ConsoleGuard {
  const names = hostNames(configuredHost);
  const hosts = (): Set<string> => {
    const p = port();
    const withPort = names.map((name) => `${name}:${p}`);
    // Port 80 is left out of Host by browsers.
    return new Set(p === 80 ? [...withPort, ...names] : withPort);
  };
  return {
    refusal({ host, origin }) {
      const allowed = hosts();
      if (host === undefined || !allowed.has(host.toLowerCase())) return 'host';
      if (origin === undefined) return undefined;
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        return 'origin'; // includes the opaque `null` of sandboxed frames and file: pages
      }
      if (parsed.protocol !== 'http:' || !allowed.has(parsed.host.toLowerCase())) return 'origin';
      return undefined;
    },
  };
}
