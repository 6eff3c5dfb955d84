// A symbol's page. Live mode: the latest trades, loaded by REST and then pushed by the live
// feed (js/feed.js) as they are loaded; REST polling every second only while the feed cannot
// be opened. Historic mode: bars for a range, shown as a table, a chart or a summary; the
// three views are built from the same loaded data, so switching between them fetches nothing.

import * as api from '../api.js';
import {candleChart} from '../chart.js';
import {busy, dataTable, field, h, messageBox, tabs} from '../dom.js';
import {STATUS_TEXT, openFeed} from '../feed.js';
import {DASH, decimalSum, defaultRange, formatNumber, formatTime, localInputToIso} from '../format.js';
import {onSubmit, poller, report} from './common.js';

const LIVE_LIMIT = 20;
const POLL_MS = 1000;
const INTERVALS = ['1m', '5m', '15m', '1h', '1d'];

function timeCell(iso) {
  return h('td', {class: 'time'}, h('time', {datetime: iso || ''}, formatTime(iso)));
}

function numberCell(value) {
  return h('td', {class: 'num'}, formatNumber(value));
}

/** A sortable key of an API timestamp ("...T10:00:00Z", "...T10:00:00.25Z"): microseconds
 * padded, so that text order is time order (Date would drop the microseconds). */
export function timeKey(iso) {
  const text = String(iso || '').replace(/Z$/, '');
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(6, '0')}`;
}

/** Newest first, as /trades/latest lists them: trade time, then seq (a load numbers its
 * trades in (time, trade id) order). */
function newerFirst(a, b) {
  if (a.key !== b.key) return a.key < b.key ? 1 : -1;
  return b.seq - a.seq;
}

/** The moment a row arrived, in ms since the epoch with sub-ms precision (for latency). */
function now() {
  return performance.timeOrigin + performance.now();
}

function summaryOf(bars) {
  const first = bars[0];
  const last = bars[bars.length - 1];
  const pick = (key, better) => (bars.length
    ? bars.map((b) => b[key]).reduce((a, b) => (better(Number(b), Number(a)) ? b : a))
    : null);
  return [
    ['Bars', 'summary-bars', String(bars.length)],
    ['Total volume', 'summary-volume', decimalSum(bars.map((b) => b.volume))],
    ['Total trades', 'summary-trades', decimalSum(bars.map((b) => b.trades))],
    ['Open', 'summary-open', first ? formatNumber(first.open) : DASH],
    ['High', 'summary-high', formatNumber(pick('high', (x, y) => x > y))],
    ['Low', 'summary-low', formatNumber(pick('low', (x, y) => x < y))],
    ['Close', 'summary-close', last ? formatNumber(last.close) : DASH],
  ];
}

export default function mount({root, params, signal}) {
  const symbol = params[0].toUpperCase();
  const enc = encodeURIComponent(symbol);
  const state = {mode: 'live', barsQuery: null, bars: null, unknown: false};
  const alert = messageBox('alert');
  const subtitle = h('p', {class: 'lead'});

  // Live mode.
  const live = dataTable('Latest trades', ['Time', 'Price', 'Quantity', 'Trade ID'],
    ['Price', 'Quantity']);
  const liveStatus = h('p', {class: 'live-status', 'data-testid': 'live-status', 'aria-live': 'polite'});
  const liveUpdated = h('p', {class: 'muted', 'data-testid': 'live-updated'});
  const livePanel = [
    h('p', {class: 'muted'}, `The ${LIVE_LIMIT} latest trades, newest first. While Live, new `
      + 'trades appear as soon as they are loaded; when the live connection cannot be opened, '
      + 'the page asks for them every second instead (Polling).'),
    liveStatus, live.table, liveUpdated];
  // The shown trades (at most LIVE_LIMIT, newest first), each with its row: a row is made
  // once, so its data-received-at stays the moment the trade first reached this page.
  let shown = [];
  let feed = null;
  setLiveStatus('connecting');

  // Historic mode.
  const range = defaultRange();
  const utcHint = 'UTC';
  const fromInput = h('input', {type: 'datetime-local', name: 'from', step: 1, value: range.from});
  const toInput = h('input', {type: 'datetime-local', name: 'to', step: 1, value: range.to});
  const intervalSelect = h('select', {name: 'interval'},
    INTERVALS.map((i) => h('option', {value: i}, i)));
  const loadButton = h('button', {type: 'submit', class: 'primary'}, 'Load');
  const rangeForm = h('form', {class: 'inline-form', novalidate: true, 'aria-label': 'Range'},
    field('From', fromInput, utcHint), field('To', toInput, utcHint),
    field('Interval', intervalSelect), h('div', {class: 'actions'}, loadButton));
  const status = messageBox('status');
  const barsTable = dataTable('Bars', ['Time', 'Open', 'High', 'Low', 'Close', 'Volume', 'Trades'],
    ['Open', 'High', 'Low', 'Close', 'Volume', 'Trades']);
  const chartBox = h('div', {class: 'chart-box'});
  const summary = h('dl', {class: 'summary'});
  const views = tabs('View', [
    {key: 'table', label: 'Table', content: h('div', {class: 'table-scroll'}, barsTable.table)},
    {key: 'chart', label: 'Chart', content: chartBox},
    {key: 'summary', label: 'Summary', content: summary},
  ]);
  const viewsBox = h('div', {class: 'views', hidden: true}, views.list, views.panels);

  const modes = tabs('Mode', [
    {key: 'live', label: 'Live', content: livePanel},
    {key: 'historic', label: 'Historic', content: [rangeForm, status.el, viewsBox]},
  ], onMode);

  root.append(h('h1', {}, symbol), subtitle, alert.el, modes.list, ...modes.panels);

  function row(t) {
    const ts = t.ts ?? t.traded_at;
    return h('tr', {'data-trade-id': t.trade_id, 'data-seq': t.seq ?? '',
      'data-received-at': now().toFixed(3)},
    timeCell(ts), numberCell(t.price), numberCell(t.quantity), h('td', {}, String(t.trade_id)));
  }

  /** Add trades (REST answers or feed messages) to the table; a trade already shown keeps
   * its row. Only the LIVE_LIMIT newest stay. */
  function showTrades(trades, {replace = false} = {}) {
    const bySeq = new Map(replace ? [] : shown.map((e) => [String(e.seq ?? e.trade_id), e]));
    const kept = new Map(shown.map((e) => [String(e.seq ?? e.trade_id), e]));
    for (const t of trades) {
      const id = String(t.seq ?? t.trade_id);
      if (bySeq.has(id)) continue;
      bySeq.set(id, kept.get(id)
        ?? {seq: Number(t.seq ?? 0), key: timeKey(t.ts ?? t.traded_at), trade: t, el: null});
    }
    const next = [...bySeq.values()].sort(newerFirst).slice(0, LIVE_LIMIT);
    if (next.length === shown.length && next.every((e, i) => e === shown[i])) return;
    shown = next;
    if (!shown.length) {
      live.body.replaceChildren(h('tr', {}, h('td', {colspan: 4, class: 'empty'}, 'No trades yet.')));
      return;
    }
    // Move rows into place rather than rebuilding them: rows that stay are left untouched.
    let ref = live.body.firstChild;
    for (const e of shown) {
      e.el ??= row(e.trade);
      if (e.el === ref) ref = ref.nextSibling;
      else live.body.insertBefore(e.el, ref);
    }
    while (ref) {
      const next = ref.nextSibling;
      ref.remove();
      ref = next;
    }
  }

  function touched() {
    liveUpdated.textContent = `Updated ${new Date().toISOString().slice(0, 19)}Z`;
  }

  function setLiveStatus(key) {
    liveStatus.dataset.state = key;
    liveStatus.textContent = STATUS_TEXT[key];
  }

  async function refreshLive(background, {replace = false} = {}) {
    if (state.unknown) return null;
    try {
      const data = await api.get(`/trades/latest?symbol=${enc}&limit=${LIVE_LIMIT}`,
        {signal, background});
      showTrades(data.trades, {replace});
      touched();
      if (feed && data.last_seq !== undefined) feed.advance(symbol, data.last_seq);
      return data;
    } catch (err) {
      if (err instanceof api.ApiError && err.code === 'unknown_symbol') {
        state.unknown = true;
        stopLive();
      }
      throw err;
    }
  }

  // REST polling: only while the feed cannot be opened (or the API has no feed).
  const livePoll = poller(() => refreshLive(true), POLL_MS);

  function startFeed(lastSeq) {
    if (feed || state.mode !== 'live' || signal.aborted) return;
    if (lastSeq === undefined) {
      // An API without the live feed: poll, as the page always did.
      setLiveStatus('polling');
      livePoll.start();
      return;
    }
    feed = openFeed({
      symbols: [symbol], since: {[symbol]: lastSeq}, signal,
      onTrade: (t) => {
        showTrades([t]);
        touched();
      },
      // Too far behind for the feed to catch up: the newest trades by REST instead.
      onReset: () => refreshLive(true, {replace: true}).catch((err) => report(alert, err)),
      onStatus: setLiveStatus,
      onPolling: (on) => (on ? livePoll.start() : livePoll.stop()),
    });
  }

  /** Live mode on: the newest trades by REST, then the feed from where they end. */
  async function startLive(background) {
    const data = await refreshLive(background);
    if (data) startFeed(data.last_seq);
  }

  function stopLive() {
    livePoll.stop();
    feed?.stop();
    feed = null;
    setLiveStatus('connecting'); // what it will be when live mode starts again
  }

  function onMode(mode) {
    state.mode = mode;
    if (mode === 'live' && !state.unknown) {
      startLive(true).catch((err) => report(alert, err));
    } else {
      stopLive();
    }
  }

  function renderBars() {
    const bars = state.bars;
    barsTable.body.replaceChildren(...bars.map((b) => h('tr', {},
      timeCell(b.t), numberCell(b.open), numberCell(b.high), numberCell(b.low),
      numberCell(b.close), numberCell(b.volume), numberCell(b.trades))));
    if (!bars.length) {
      barsTable.body.append(h('tr', {}, h('td', {colspan: 7, class: 'empty'}, 'No bars in this range.')));
    }
    chartBox.replaceChildren(candleChart(symbol, bars));
    summary.replaceChildren(...summaryOf(bars).map(([term, testId, value]) => h('div', {},
      h('dt', {}, term), h('dd', {'data-testid': testId}, value))));
    viewsBox.hidden = false;
    status.show(`Loaded ${bars.length} ${bars.length === 1 ? 'bar' : 'bars'}`);
  }

  async function fetchBars() {
    const data = await api.get(`/bars?${state.barsQuery}`, {signal});
    state.bars = data.bars;
    renderBars();
  }

  rangeForm.addEventListener('submit', onSubmit(alert, () => busy(loadButton, async () => {
    const query = new URLSearchParams({symbol, interval: intervalSelect.value});
    if (fromInput.value) query.set('from', localInputToIso(fromInput.value));
    if (toInput.value) query.set('to', localInputToIso(toInput.value));
    state.barsQuery = query.toString();
    status.clear();
    await fetchBars();
  })));

  async function loadName() {
    const symbols = await api.get('/symbols', {signal});
    const known = symbols.find((item) => item.symbol === symbol);
    subtitle.textContent = known ? known.name : 'Unknown symbol';
  }

  async function load() {
    alert.clear();
    try {
      const work = [loadName()];
      if (state.mode === 'live') work.push(startLive(false));
      if (state.mode === 'historic' && state.barsQuery) work.push(fetchBars());
      await Promise.all(work);
    } catch (err) {
      report(alert, err);
    }
  }

  return {load, unmount: stopLive};
}
