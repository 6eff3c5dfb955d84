// A symbol's page. Live mode: the latest trades, polled every second. Historic mode: bars
// for a range, shown as a table, a chart or a summary; the three views are built from the
// same loaded data, so switching between them fetches nothing.

import * as api from '../api.js';
import {candleChart} from '../chart.js';
import {busy, dataTable, field, h, messageBox, tabs} from '../dom.js';
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
  const state = {mode: 'live', liveKey: '', barsQuery: null, bars: null, unknown: false};
  const alert = messageBox('alert');
  const subtitle = h('p', {class: 'lead'});

  // Live mode.
  const live = dataTable('Latest trades', ['Time', 'Price', 'Quantity', 'Trade ID'],
    ['Price', 'Quantity']);
  const liveUpdated = h('p', {class: 'muted', 'data-testid': 'live-updated'});
  const livePanel = [
    h('p', {class: 'muted'}, `The ${LIVE_LIMIT} latest trades, newest first, updated every second.`),
    live.table, liveUpdated];

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

  function renderTrades(trades) {
    // Skip identical answers: the table stays put between polls when nothing traded.
    const key = JSON.stringify(trades);
    if (key === state.liveKey) return;
    state.liveKey = key;
    if (!trades.length) {
      live.body.replaceChildren(h('tr', {}, h('td', {colspan: 4, class: 'empty'}, 'No trades yet.')));
      return;
    }
    live.body.replaceChildren(...trades.map((t) => h('tr', {'data-trade-id': t.trade_id},
      timeCell(t.ts), numberCell(t.price), numberCell(t.quantity), h('td', {}, String(t.trade_id)))));
  }

  async function refreshLive(background) {
    if (state.unknown) return;
    try {
      const data = await api.get(`/trades/latest?symbol=${enc}&limit=${LIVE_LIMIT}`,
        {signal, background});
      renderTrades(data.trades);
      liveUpdated.textContent = `Updated ${new Date().toISOString().slice(0, 19)}Z`;
    } catch (err) {
      if (err instanceof api.ApiError && err.code === 'unknown_symbol') {
        state.unknown = true;
        livePoll.stop();
      }
      throw err;
    }
  }

  const livePoll = poller(() => refreshLive(true), POLL_MS);

  function onMode(mode) {
    state.mode = mode;
    if (mode === 'live' && !state.unknown) {
      refreshLive(true).catch((err) => report(alert, err));
      livePoll.start();
    } else {
      livePoll.stop();
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
      if (state.mode === 'live') work.push(refreshLive(false));
      if (state.mode === 'historic' && state.barsQuery) work.push(fetchBars());
      await Promise.all(work);
    } catch (err) {
      report(alert, err);
    }
  }

  livePoll.start();
  return {load, unmount: () => livePoll.stop()};
}
