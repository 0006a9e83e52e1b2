// Sign-in and tickets over HTTP. The long-lived token stays in this tab (sessionStorage): two
// windows are two people, and a reload keeps you who you were. WebSockets only ever see a
// single-use ticket.

const TOKEN_KEY = 'roulette.token';

export class AuthError extends Error {}

async function post(path: string, token?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers['Authorization'] = `Bearer ${token}`;
  return fetch(path, { method: 'POST', headers, credentials: 'same-origin' });
}

/** A token handed over in the page's fragment (`#login=...`, by the demo or GitHub sign-in). */
export function takeLoginFromFragment(): void {
  const m = /^#login=([A-Za-z0-9_\-.]+)$/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, '', location.pathname + location.search);
  }
}

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The tab's token: the stored one, or a new anonymous guest's. */
export async function signIn(): Promise<string> {
  const stored = storedToken();
  if (stored) return stored;
  const res = await post('/api/guest');
  if (!res.ok) throw new Error(`guest sign-in failed: ${res.status}`);
  const body = (await res.json()) as { token: string };
  sessionStorage.setItem(TOKEN_KEY, body.token);
  return body.token;
}

/** A single-use ticket for the WebSocket. */
export async function ticket(token: string): Promise<string> {
  const res = await post('/api/ticket', token);
  if (res.status === 401) throw new AuthError('token refused');
  if (!res.ok) throw new Error(`ticket failed: ${res.status}`);
  return ((await res.json()) as { ticket: string }).ticket;
}

/** A host token for the signed-in person. */
export async function hostToken(token: string): Promise<string> {
  const res = await post('/api/host-token', token);
  if (!res.ok) throw new Error(`host token failed: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

/** What the server offers: whether GitHub sign-in is configured. */
export async function serverConfig(): Promise<{ github: boolean }> {
  try {
    const res = await fetch('/api/config');
    if (!res.ok) return { github: false };
    return (await res.json()) as { github: boolean };
  } catch {
    return { github: false };
  }
}
