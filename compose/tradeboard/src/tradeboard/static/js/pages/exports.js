// Exports: start one, follow its progress live (server-sent events), download, cancel.
//
// Each unfinished export gets an EventSource on /exports/{id}/events (EventSource cannot
// send headers, hence ?access_token=). Browsers allow few connections per host, so at
// most MAX_STREAMS stream at once; the rest are polled.

import * as api from '../api.js';
import {busy, field, h, messageBox, uid} from '../dom.js';
import {defaultRange, formatNumber, formatTime, localInputToIso} from '../format.js';
import {onSubmit, poller, report} from './common.js';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
const ACTIVE = new Set(['queued', 'running']);
const MAX_STREAMS = 3;
const POLL_MS = 1000;

export default function mount({root, signal}) {
  const state = {exports: new Map(), order: [], loaded: false};
  const views = new Map();    // id -> the item's elements
  const streams = new Map();  // id -> EventSource
  const blobUrls = new Map(); // id -> object URL of the downloaded file
  const alert = messageBox('alert');

  const range = defaultRange();
  const symbolSelect = h('select', {name: 'symbol'}, h('option', {value: ''}, 'Choose a symbol'));
  const fromInput = h('input', {type: 'datetime-local', name: 'from', step: 1, value: range.from});
  const toInput = h('input', {type: 'datetime-local', name: 'to', step: 1, value: range.to});
  const startButton = h('button', {type: 'submit', class: 'primary'}, 'Start export');
  const form = h('form', {class: 'card form inline-form', novalidate: true, 'aria-label': 'Start an export'},
    field('Symbol', symbolSelect), field('From', fromInput, 'UTC'), field('To', toInput, 'UTC'),
    h('div', {class: 'actions'}, startButton));
  const list = h('ul', {class: 'exports', 'aria-label': 'Your exports'});
  const empty = h('p', {class: 'empty', hidden: true}, 'No exports yet.');

  root.append(h('h1', {}, 'Exports'), form, alert.el, empty, list);

  // --- one export's view -------------------------------------------------------------

  function buildView(exp) {
    const headingId = uid('export');
    const v = {
      status: h('span', {class: 'badge', role: 'status', 'data-testid': 'export-status'}),
      bar: h('div', {class: 'progress-fill'}),
      percent: h('span', {class: 'muted'}),
      rows: h('span', {'data-testid': 'export-rows'}),
      finished: h('span', {}),
      error: h('p', {class: 'error-text', hidden: true}),
      buttons: h('div', {class: 'buttons'}),
    };
    v.progress = h('div', {role: 'progressbar', class: 'progress', 'aria-label': 'Export progress',
      'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0}, v.bar);
    v.item = h('li', {class: 'card export', 'aria-labelledby': headingId, 'data-testid': `export-${exp.id}`},
      h('div', {class: 'item-head'},
        h('h2', {id: headingId}, `${exp.symbol} ${formatTime(exp.from)} → ${formatTime(exp.to)}`),
        v.buttons),
      h('p', {class: 'meta'}, 'Status: ', v.status, ' ', v.percent),
      v.progress,
      h('p', {class: 'meta muted'}, `Created ${formatTime(exp.created_at)}`, ' · Rows: ', v.rows,
        ' · Finished: ', v.finished),
      v.error);
    return v;
  }

  // Updates in place (no re-render), so a button being clicked is never replaced under it.
  function updateView(v, exp) {
    const progress = Math.max(0, Math.min(100, Number(exp.progress) || 0));
    v.status.textContent = exp.status;
    v.status.className = `badge status-${exp.status}`;
    v.progress.setAttribute('aria-valuenow', String(progress));
    v.progress.setAttribute('aria-valuetext', `${progress}%`);
    v.bar.style.width = `${progress}%`;
    v.percent.textContent = `${progress}%`;
    v.rows.textContent = formatNumber(exp.rows);
    v.finished.textContent = formatTime(exp.finished_at);
    v.error.hidden = !exp.error;
    v.error.textContent = exp.error || '';
    updateButtons(v, exp);
  }

  function updateButtons(v, exp) {
    const wanted = ACTIVE.has(exp.status) ? 'cancel' : exp.status === 'succeeded' ? 'download' : 'none';
    if (v.buttons.dataset.kind === wanted) return;
    v.buttons.dataset.kind = wanted;
    if (wanted === 'cancel') {
      v.buttons.replaceChildren(h('button', {type: 'button', class: 'danger', onclick: cancel(exp.id)}, 'Cancel'));
    } else if (wanted === 'download') {
      v.buttons.replaceChildren(h('a', {href: blobUrls.get(exp.id) || '#', class: 'button',
        download: `export-${exp.id}.csv`, onclick: download(exp.id)}, 'Download'));
    } else {
      v.buttons.replaceChildren();
    }
  }

  // A poll answer can be older than the last streamed event: never step backwards.
  function isStale(old, exp) {
    if (!old) return false;
    if (TERMINAL.has(old.status)) return !TERMINAL.has(exp.status);
    return old.status === exp.status && Number(exp.progress) < Number(old.progress);
  }

  function show(exp) {
    const known = state.exports.has(exp.id);
    if (isStale(state.exports.get(exp.id), exp)) return;
    state.exports.set(exp.id, exp);
    if (!known) state.order.unshift(exp.id);
    let v = views.get(exp.id);
    if (!v) {
      v = buildView(exp);
      views.set(exp.id, v);
      list.prepend(v.item);
    }
    updateView(v, exp);
    empty.hidden = !state.loaded || state.exports.size > 0;
    if (ACTIVE.has(exp.status)) follow(exp.id);
    else stopStream(exp.id);
    syncPolling();
  }

  function showAll(exports) {
    // The API lists newest first; showing oldest first with prepend keeps that order.
    [...exports].reverse().forEach(show);
  }

  // --- live progress -------------------------------------------------------------------

  function stopStream(id) {
    const stream = streams.get(id);
    if (!stream) return;
    stream.close();
    streams.delete(id);
  }

  function follow(id) {
    if (streams.has(id) || streams.size >= MAX_STREAMS || !api.tokens.access()) return;
    const url = api.apiUrl(`/exports/${id}/events?access_token=${encodeURIComponent(api.tokens.access())}`);
    const stream = new EventSource(url);
    streams.set(id, stream);
    stream.addEventListener('status', (event) => {
      const exp = JSON.parse(event.data);
      // Close before the server ends the stream, or EventSource would reconnect.
      if (TERMINAL.has(exp.status)) stopStream(id);
      show(exp);
    });
    stream.addEventListener('error', () => {
      // CONNECTING: the browser reconnects by itself. CLOSED: refused (an expired token,
      // say); the poll below takes over, refreshing the token through the API client.
      if (stream.readyState === EventSource.CLOSED) {
        stopStream(id);
        syncPolling();
      }
    });
  }

  function syncPolling() {
    const unfollowed = [...state.exports.values()]
      .some((exp) => ACTIVE.has(exp.status) && !streams.has(exp.id));
    if (unfollowed) poll.start();
    else poll.stop();
  }

  async function refresh(background) {
    const exports = await api.get('/exports', {signal, background});
    state.loaded = true;
    showAll(exports);
    empty.hidden = exports.length > 0;
  }

  const poll = poller(() => refresh(true), POLL_MS);

  // --- actions -------------------------------------------------------------------------

  function cancel(id) {
    return async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      alert.clear();
      try {
        show(await api.del(`/exports/${id}`, {signal}));
      } catch (err) {
        button.disabled = false;
        report(alert, err);
      }
    };
  }

  // The file needs the bearer token, so it is fetched, then saved through a blob URL.
  function download(id) {
    return async (event) => {
      const link = event.currentTarget;
      if (blobUrls.has(id)) return; // the link already points at the file
      event.preventDefault();
      alert.clear();
      try {
        const blob = await api.getBlob(`/exports/${id}/download`, {signal});
        blobUrls.set(id, URL.createObjectURL(blob));
        link.href = blobUrls.get(id);
        link.click();
      } catch (err) {
        report(alert, err);
      }
    };
  }

  form.addEventListener('submit', onSubmit(alert, () => busy(startButton, async () => {
    if (!symbolSelect.value) {
      alert.show('Choose a symbol to export');
      return;
    }
    const body = {symbol: symbolSelect.value, from: localInputToIso(fromInput.value),
      to: localInputToIso(toInput.value)};
    state.loaded = true;
    show(await api.post('/exports', body, {signal}));
  })));

  async function loadSymbols() {
    const symbols = await api.get('/symbols', {signal});
    const chosen = symbolSelect.value;
    symbolSelect.replaceChildren(h('option', {value: ''}, 'Choose a symbol'),
      ...symbols.map((s) => h('option', {value: s.symbol}, `${s.symbol} — ${s.name}`)));
    symbolSelect.value = chosen;
  }

  async function load() {
    alert.clear();
    try {
      await Promise.all([loadSymbols(), refresh(false)]);
    } catch (err) {
      report(alert, err);
    }
  }

  function unmount() {
    poll.stop();
    [...streams.keys()].forEach(stopStream);
    blobUrls.forEach((url) => URL.revokeObjectURL(url));
  }

  return {load, unmount};
}
