// The API client: tokens in localStorage, JSON requests, one refresh on token expiry.
//
// Every call reads the tokens from localStorage afresh, so a sign-out or a token rotation
// in another tab is seen by this one at its next call.

const ACCESS_KEY = 'tb.access_token';
const REFRESH_KEY = 'tb.refresh_token';

export const tokens = {
  access: () => localStorage.getItem(ACCESS_KEY),
  refresh: () => localStorage.getItem(REFRESH_KEY),
  set(pair) {
    localStorage.setItem(ACCESS_KEY, pair.access_token);
    localStorage.setItem(REFRESH_KEY, pair.refresh_token);
  },
  clear() {
    localStorage.removeItem(ACCESS_KEY);
    localStorage.removeItem(REFRESH_KEY);
  },
  isAccessKey: (key) => key === null || key === ACCESS_KEY,
};

/** An error answer of the API: `{"error": {"code", "message"}}`. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** The API could not be reached; the app already shows its alert. */
export class NetworkError extends Error {}

/** The user is being sent to the login page; callers just stop. */
export class AuthRedirect extends Error {}

/** Errors the app has already dealt with: callers ignore them. */
export function isHandled(err) {
  return err instanceof NetworkError || err instanceof AuthRedirect || err?.name === 'AbortError';
}

const hooks = {
  offline: () => {},       // the API did not answer: show the alert
  online: () => {},        // the API answered: hide the alert
  isOffline: () => false,  // background polls pause while the alert shows
  signedOut: () => {},     // no usable session: go to the login page
};

export function configure(newHooks) {
  Object.assign(hooks, newHooks);
}

export function apiUrl(path) {
  const base = (window.TB_API_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
  return base + path;
}

async function send(method, path, {body, form, auth, signal, quiet}) {
  const headers = {};
  if (auth) headers.Authorization = `Bearer ${tokens.access()}`;
  let payload;
  if (form) {
    payload = form;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  try {
    return await fetch(apiUrl(path), {method, headers, body: payload, signal});
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    if (!quiet) hooks.offline();
    throw new NetworkError('Cannot reach the Tradeboard API');
  }
}

async function readError(res) {
  let code = 'error';
  let message = `The API answered ${res.status}`;
  try {
    const data = await res.json();
    code = data?.error?.code || code;
    message = data?.error?.message || message;
  } catch {
    // Not JSON (a proxy error page, say): keep the generic message.
  }
  const retryAfter = res.headers.get('Retry-After');
  return new ApiError(res.status, code, message, retryAfter === null ? null : Number(retryAfter));
}

// One refresh at a time: parallel requests that all meet an expired token share it, since
// refresh tokens rotate and a second use of the same one would fail.
let refreshing = null;

export function refreshTokens() {
  refreshing ??= doRefresh().finally(() => { refreshing = null; });
  return refreshing;
}

async function doRefresh() {
  const used = tokens.refresh();
  if (!used) return false;
  let res;
  try {
    res = await fetch(apiUrl('/auth/refresh'), {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({refresh_token: used}),
    });
  } catch {
    hooks.offline();
    throw new NetworkError('Cannot reach the Tradeboard API');
  }
  if (res.ok) {
    tokens.set(await res.json());
    return true;
  }
  // Another tab may have rotated the pair just before us: its new tokens are as good.
  const now = tokens.refresh();
  return now !== null && now !== used;
}

/** The session is over (the API refused it): forget the tokens and go to the login page,
 * as on any 401 of a request. */
export function endSession() {
  tokens.clear();
  hooks.signedOut();
}

/** The Response of an API call, after at most one token refresh; see request(). */
async function respond(method, path, options) {
  const opts = {auth: true, quiet: false, background: false, ...options};
  if (opts.background && hooks.isOffline()) throw new NetworkError('paused while offline');
  if (opts.auth && !tokens.access()) {
    if (!opts.quiet) hooks.signedOut();
    throw new AuthRedirect('signed out');
  }
  let res = await send(method, path, opts);
  if (res.status === 401 && opts.auth) {
    const err = await readError(res);
    if (err.code === 'token_expired' && await refreshTokens()) {
      res = await send(method, path, opts);
    }
    if (res.status === 401) {
      if (!opts.quiet) endSession();
      throw new AuthRedirect('session ended');
    }
  }
  if (!opts.quiet) hooks.online();
  if (!res.ok) throw await readError(res);
  return res;
}

/**
 * Call the API. Options: body (JSON), form (FormData), auth (default true), signal,
 * background (a poll: skipped while the API alert shows), quiet (no alert, no redirect).
 * Resolves to the parsed JSON (null for 204); rejects with ApiError, NetworkError or
 * AuthRedirect.
 */
export async function request(method, path, options) {
  const res = await respond(method, path, options);
  return res.status === 204 ? null : res.json();
}

export const get = (path, opts) => request('GET', path, opts);
export const post = (path, body, opts) => request('POST', path, {...opts, body});
export const patch = (path, body, opts) => request('PATCH', path, {...opts, body});
export const del = (path, opts) => request('DELETE', path, opts);

/** Fetch a file with the bearer token (for downloads); resolves to a Blob. */
export async function getBlob(path, opts) {
  const res = await respond('GET', path, opts);
  return res.blob();
}
