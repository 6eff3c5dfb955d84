// The live trades feed: a WebSocket on the API's /ws/trades (the protocol is the "feed"
// section of compose/CONTRACT.md), reconnecting with backoff, resuming from the last seq it
// applied, and telling its owner when to fall back to polling.
//
// A browser cannot set headers on a WebSocket, hence ?token=; the token is read from the API
// client afresh for every connection, so a refresh in another tab is used at once.

import * as api from './api.js';

export const STATUS_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  polling: 'Polling',
};
export const BACKOFF_MIN_MS = 250;
export const BACKOFF_MAX_MS = 5000;
// Failures to open in a row (since the page loaded or the last open) before polling takes over.
export const FAILURES_BEFORE_POLLING = 3;

const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_BAD_REQUEST = 4400;

/** The ws:// (or wss://) URL of an API path: the API's own URL with its scheme swapped. */
export function wsUrl(path) {
  const url = new URL(api.apiUrl(path));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Milliseconds before reconnect attempt `attempt` (1, 2, ...): 0.25 s doubling to 5 s. */
export function backoffDelay(attempt, random = Math.random) {
  const base = BACKOFF_MIN_MS * 2 ** Math.max(0, attempt - 1);
  // +-20 % jitter, so that many tabs cut off at once do not come back in step.
  return Math.round(Math.min(BACKOFF_MAX_MS, base * (0.8 + 0.4 * random())));
}

/**
 * Follow `symbols` live. `since` maps each symbol to the last seq its owner already has.
 * Callbacks: onTrade(trade) for each new trade, per symbol in seq order and never twice;
 * onReset(symbol, lastSeq) when the server says "too far behind, reload by REST";
 * onStatus(key) with a key of STATUS_TEXT; onPolling(on) when REST polling should run.
 * Returns {advance(symbol, seq), stop()}; `signal` aborting stops it too.
 */
export function openFeed({symbols, since, onTrade, onReset = () => {}, onStatus, onPolling, signal}) {
  const last = new Map(symbols.map((s) => [s, Number(since[s] ?? 0)]));
  let ws = null;
  let timer = null;
  let attempt = 0;       // reconnects since the last `ready` (drives the backoff)
  let failures = 0;      // failures to open in a row (drives the fallback to polling)
  let refreshed = false; // a token refresh was spent since the last `ready`
  let polling = false;
  let stopped = false;
  let status = null;

  function setStatus(key) {
    if (key === status) return;
    status = key;
    onStatus(key);
  }

  function setPolling(on) {
    if (on === polling) return;
    polling = on;
    onPolling(on);
  }

  function query() {
    return new URLSearchParams({
      symbols: symbols.join(','),
      token: api.tokens.access(),
      since: symbols.map((s) => `${s}:${last.get(s)}`).join(','),
    });
  }

  function connect() {
    timer = null;
    if (stopped) return;
    if (!api.tokens.access()) {
      end();
      return;
    }
    let socket;
    try {
      socket = new WebSocket(wsUrl(`/ws/trades?${query()}`));
    } catch {
      retry(true);
      return;
    }
    ws = socket;
    let ready = false;
    socket.onmessage = (event) => {
      if (ws !== socket) return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return; // not ours to understand; the protocol only sends JSON
      }
      if (msg.type === 'ready') {
        ready = true;
        attempt = 0;
        failures = 0;
        refreshed = false;
        setPolling(false);
        setStatus('live');
      } else if (msg.type === 'trade') {
        onMessageTrade(socket, msg);
      } else if (msg.type === 'reset' && last.has(msg.symbol)) {
        last.set(msg.symbol, Number(msg.last_seq));
        onReset(msg.symbol, Number(msg.last_seq));
      }
    };
    socket.onclose = (event) => {
      if (ws !== socket) return;
      ws = null;
      onClose(event.code, ready);
    };
  }

  function onMessageTrade(socket, msg) {
    if (!last.has(msg.symbol)) return;
    const seq = Number(msg.seq);
    const prev = last.get(msg.symbol);
    if (seq <= prev) return; // already applied
    if (seq > prev + 1) {
      // A gap: the server promises none, so start again from what we have.
      drop(socket);
      retry(false);
      return;
    }
    last.set(msg.symbol, seq);
    onTrade(msg);
  }

  function onClose(code, wasReady) {
    if (stopped) return;
    if (code === CLOSE_UNAUTHORIZED) {
      reauthorize();
    } else if (code === CLOSE_BAD_REQUEST) {
      // The server refuses this request as such: retrying it cannot help, polling can.
      setPolling(true);
      setStatus('polling');
    } else {
      retry(!wasReady);
    }
  }

  function retry(failedToOpen) {
    if (stopped) return;
    if (failedToOpen) failures += 1;
    attempt += 1;
    if (failures >= FAILURES_BEFORE_POLLING) {
      setPolling(true);
      setStatus('polling');
    } else if (!polling) {
      setStatus('reconnecting');
    }
    clearTimeout(timer);
    timer = setTimeout(connect, backoffDelay(attempt));
  }

  // 4401: the token expired or the session ended. One refresh through the API client; if
  // that fails (signed out elsewhere), the app signs out as it does on any 401.
  async function reauthorize() {
    if (refreshed) {
      end();
      return;
    }
    refreshed = true;
    if (!polling) setStatus('reconnecting');
    let ok;
    try {
      ok = await api.refreshTokens();
    } catch {
      retry(true); // the API is away: keep trying with backoff
      return;
    }
    if (stopped) return;
    if (ok) connect();
    else end();
  }

  function end() {
    stop();
    api.endSession();
  }

  function drop(socket) {
    socket.onmessage = null;
    socket.onclose = null;
    if (ws === socket) ws = null;
    if (socket.readyState === WebSocket.CONNECTING) {
      // Closing a socket that is still connecting makes Chromium log an error: close it
      // once it opens instead.
      socket.onopen = () => socket.close(1000);
    } else if (socket.readyState === WebSocket.OPEN) {
      socket.close(1000);
    }
  }

  function stop() {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    timer = null;
    if (ws) drop(ws);
  }

  signal?.addEventListener('abort', stop);
  setStatus('connecting');
  connect();
  return {
    /** Trades up to `seq` arrived another way (REST polling): resume after them. */
    advance(symbol, seq) {
      if (last.has(symbol) && Number(seq) > last.get(symbol)) last.set(symbol, Number(seq));
    },
    stop,
    get status() { return status; },
  };
}
