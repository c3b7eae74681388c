// The page's client of the daemon's REST API: JSON in and out, the bearer token on every request,
// `{ error, message }` answers turned into ApiErrors, and a 401 answered by asking for the token.
import { askForToken, currentToken } from './token.js';

export class ApiError extends Error {
  readonly code: string;
  /** HTTP status; 0 when the daemon could not be reached at all. */
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

async function errorOf(response: Response, method: string, path: string): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body.message === 'string')
      return new ApiError(String(body.error ?? response.status), body.message, response.status);
  } catch {
    // Not JSON (a proxy's error page): fall through to the status line.
  }
  return new ApiError(
    `HTTP_${response.status}`,
    `${method} ${path} answered ${response.status} ${response.statusText}`.trim(),
    response.status,
  );
}

async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  // Two token prompts at most: a wrong token is asked for again once, then the error is shown.
  for (let asked = 0; ; asked++) {
    const headers: Record<string, string> = {};
    // Only with a body: fastify refuses an empty body declared as JSON.
    if (body !== undefined) headers['content-type'] = 'application/json';
    const token = currentToken();
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError('NETWORK', `cannot reach the daemon (${(error as Error).message})`, 0);
    }
    if (response.status === 401 && asked < 2) {
      const refused = await errorOf(response, method, path);
      if (await askForToken(refused.message)) continue;
      throw refused;
    }
    if (!response.ok) throw await errorOf(response, method, path);
    if (response.status === 204) return undefined as T;
    const type = response.headers.get('content-type') ?? '';
    return (type.includes('json') ? await response.json() : undefined) as T;
  }
}

export const api = {
  get: <T>(path: string) => send<T>('GET', path),
  post: <T>(path: string, body?: unknown) => send<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => send<T>('PATCH', path, body),
  delete: <T>(path: string) => send<T>('DELETE', path),
  /**
   * Whether a download exists, without fetching it. 404 (no such route or file yet) and 400 (a
   * route that does not know this file name yet) both mean "not available here".
   */
  async available(path: string): Promise<boolean> {
    try {
      const response = await fetch(path, { method: 'HEAD' });
      return response.ok;
    } catch {
      return false;
    }
  },
};

/** URL of a job's file (result.jpg, depth.png, mesh.glb, frames/3 …). */
export function jobUrl(id: string, file: string): string {
  return `/api/stacks/${encodeURIComponent(id)}/${file}`;
}
