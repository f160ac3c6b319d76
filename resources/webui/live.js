// The live event feed: GET /v1/events as text/event-stream, read with fetch + ReadableStream (EventSource
// cannot send an Authorization header). One connection for the whole app; pages subscribe. Reconnects with a
// growing delay and resumes after the last event seen. Keeps the latest events for pages that open later.

import { getKey, readEvents, request } from './api.js';

const KEEP = 100;
const listeners = new Set();
const statusListeners = new Set();
const recent = [];
let controller = null;
let lastId = 0;
let status = 'off';

export function liveStatus() {
  return status;
}

// The events seen so far, oldest first.
export function recentEvents() {
  return recent.slice();
}

// fn(event) for every new event; returns the unsubscribe function.
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// fn(status) with 'connecting', 'live', 'retrying' or 'off'.
export function onLiveStatus(fn) {
  statusListeners.add(fn);
  fn(status);
  return () => statusListeners.delete(fn);
}

function setStatus(next) {
  status = next;
  for (const fn of statusListeners) fn(next);
}

export function startLive() {
  if (controller || !getKey()) return;
  controller = new AbortController();
  run(controller.signal);
}

export function stopLive() {
  if (controller) controller.abort();
  controller = null;
  recent.length = 0;
  lastId = 0;
  setStatus('off');
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

async function run(signal) {
  let delay = 1000;
  while (!signal.aborted) {
    setStatus(status === 'off' ? 'connecting' : status);
    try {
      const path = lastId ? `/v1/events?after=${lastId}` : '/v1/events?limit=100';
      const response = await request('GET', path, { signal, stream: true, headers: { Accept: 'text/event-stream' } });
      setStatus('live');
      delay = 1000;
      for await (const message of readEvents(response)) {
        let event;
        try {
          event = JSON.parse(message.data);
        } catch {
          continue;
        }
        if (typeof event.id === 'number') lastId = Math.max(lastId, event.id);
        recent.push(event);
        if (recent.length > KEEP) recent.shift();
        for (const fn of listeners) {
          try {
            fn(event);
          } catch (error) {
            console.warn('event listener failed', error);
          }
        }
      }
    } catch (error) {
      if (signal.aborted || error.status === 401) return;
    }
    if (signal.aborted) return;
    setStatus('retrying');
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 15000);
  }
}
