// Talks to 429chain's HTTP API: the key from sessionStorage as a Bearer token, JSON in and out, errors turned
// into readable messages (the OpenAI error's `message`, or the admin routes' {"error": "…"} string), a 401 sends
// the user back to sign-in, and a reader for text/event-stream bodies (fetch + ReadableStream, because
// EventSource cannot send an Authorization header).

const KEY_NAME = '429chain-api-key';

export function getKey() {
  return sessionStorage.getItem(KEY_NAME) || '';
}

export function setKey(key) {
  sessionStorage.setItem(KEY_NAME, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY_NAME);
}

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

let unauthorizedHandler = () => {};

// Called with the server's message when a request is refused with 401 (the key is wrong or was revoked).
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

// The message of an error body, whatever its shape; never "[object Object]".
export function errorMessage(body, status, statusText = '') {
  if (body && typeof body === 'object') {
    const error = body.error;
    if (typeof error === 'string' && error) return error;
    if (error && typeof error === 'object' && typeof error.message === 'string' && error.message) return error.message;
    if (typeof body.message === 'string' && body.message) return body.message;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 500);
  return status ? `HTTP ${status}${statusText ? ` ${statusText}` : ''}` : 'No answer from 429chain';
}

// Any thrown value as a sentence for the user.
export function describe(error) {
  if (!error) return 'Unknown error';
  if (typeof error === 'string') return error;
  if (typeof error.message === 'string' && error.message) return error.message;
  return errorMessage(error, 0);
}

async function parseBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// One request. Options: body (sent as JSON), signal, headers, key (instead of the stored one), stream (answer
// the Response itself on success, for streamed bodies), quiet401 (do not sign out: the sign-in check).
export async function request(method, path, options = {}) {
  const headers = { Authorization: `Bearer ${options.key ?? getKey()}`, ...(options.headers || {}) };
  const init = { method, headers, signal: options.signal, cache: 'no-store' };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(`Cannot reach 429chain (${error.message}). Is it still running?`, 0, null);
  }
  if (response.ok && options.stream) return response;
  const body = await parseBody(response);
  if (!response.ok) {
    const error = new ApiError(errorMessage(body, response.status, response.statusText), response.status, body);
    if (response.status === 401 && !options.quiet401) unauthorizedHandler(error.message);
    throw error;
  }
  return body;
}

export const api = {
  get: (path, options) => request('GET', path, options),
  post: (path, body, options = {}) => request('POST', path, { ...options, body }),
  put: (path, body, options = {}) => request('PUT', path, { ...options, body }),
  del: (path, options) => request('DELETE', path, options),
};

// "/v1/stats/requests" + {limit: 50, chain: ''} → "/v1/stats/requests?limit=50" (empty values left out).
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export const enc = encodeURIComponent;

// The events of a text/event-stream body as {event, data, id}, as they arrive.
export async function* readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = { event: 'message', data: [], id: null };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let lineEnd;
      while ((lineEnd = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A lone \r at the end may be the first half of \r\n: wait for more.
        if (buffer[lineEnd] === '\r' && lineEnd === buffer.length - 1) break;
        const line = buffer.slice(0, lineEnd);
        buffer = buffer.slice(lineEnd + (buffer.startsWith('\r\n', lineEnd) ? 2 : 1));
        if (line === '') {
          if (event.data.length) yield { event: event.event, data: event.data.join('\n'), id: event.id };
          event = { event: 'message', data: [], id: null };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) text = text.slice(1);
        if (name === 'data') event.data.push(text);
        else if (name === 'event') event.event = text;
        else if (name === 'id') event.id = text;
      }
    }
  } finally {
    // Also when the reader stops early: the connection is closed, not left open.
    reader.cancel().catch(() => {});
  }
}
