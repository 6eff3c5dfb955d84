// The historic chart: an inline SVG of candlesticks with volume below. No library; the
// accessible name states the symbol and the number of bars.

import {s} from './dom.js';
import {formatNumber, formatTime} from './format.js';

const W = 800;
const H = 340;
const PAD = {left: 72, right: 12, top: 12, bottom: 28};
const VOLUME_H = 60;
const GAP = 10;

function priceScale(bars, top, bottom) {
  let lo = Math.min(...bars.map((b) => Number(b.low)));
  let hi = Math.max(...bars.map((b) => Number(b.high)));
  if (hi === lo) { // a flat range still needs some height
    hi += Math.abs(hi) * 0.01 || 1;
    lo -= Math.abs(lo) * 0.01 || 1;
  }
  const y = (price) => bottom - ((Number(price) - lo) / (hi - lo)) * (bottom - top);
  return {y, lo, hi};
}

function gridAndLabels(scale, top, bottom) {
  const parts = [];
  for (let i = 0; i <= 4; i += 1) {
    const yPos = top + ((bottom - top) * i) / 4;
    const price = scale.hi - ((scale.hi - scale.lo) * i) / 4;
    parts.push(s('line', {x1: PAD.left, x2: W - PAD.right, y1: yPos, y2: yPos, class: 'grid'}));
    parts.push(s('text', {x: PAD.left - 6, y: yPos + 4, 'text-anchor': 'end', class: 'axis'},
      formatNumber(Number(price.toFixed(4)))));
  }
  return parts;
}

function candles(bars, scale, step) {
  const width = Math.max(1, step * 0.6);
  return bars.map((b, i) => {
    const x = PAD.left + step * i + step / 2;
    const up = Number(b.close) >= Number(b.open);
    const top = scale.y(Math.max(Number(b.open), Number(b.close)));
    const bottom = scale.y(Math.min(Number(b.open), Number(b.close)));
    return s('g', {class: up ? 'up' : 'down'},
      s('line', {x1: x, x2: x, y1: scale.y(b.high), y2: scale.y(b.low), class: 'wick'}),
      s('rect', {x: x - width / 2, y: top, width, height: Math.max(1, bottom - top), class: 'body'}));
  });
}

function volumes(bars, step, top, bottom) {
  const most = Math.max(...bars.map((b) => Number(b.volume))) || 1;
  const width = Math.max(1, step * 0.6);
  return bars.map((b, i) => {
    const height = ((bottom - top) * Number(b.volume)) / most;
    const x = PAD.left + step * i + step / 2 - width / 2;
    return s('rect', {x, y: bottom - height, width, height, class: 'volume'});
  });
}

/** An <svg role="img"> for `bars` (oldest first). */
export function candleChart(symbol, bars) {
  const label = `${symbol} price chart: ${bars.length} ${bars.length === 1 ? 'bar' : 'bars'}`;
  const svg = s('svg', {role: 'img', 'aria-label': label, viewBox: `0 0 ${W} ${H}`, class: 'chart',
    'data-bars': bars.length});
  if (!bars.length) {
    svg.append(s('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'axis'},
      'No bars in this range'));
    return svg;
  }
  const priceBottom = H - PAD.bottom - VOLUME_H - GAP;
  const volumeTop = H - PAD.bottom - VOLUME_H;
  const step = (W - PAD.left - PAD.right) / bars.length;
  const scale = priceScale(bars, PAD.top, priceBottom);
  svg.append(
    ...gridAndLabels(scale, PAD.top, priceBottom),
    ...volumes(bars, step, volumeTop, H - PAD.bottom),
    ...candles(bars, scale, step),
    s('text', {x: PAD.left, y: H - 8, class: 'axis'}, formatTime(bars[0].t)),
    s('text', {x: W - PAD.right, y: H - 8, 'text-anchor': 'end', class: 'axis'},
      formatTime(bars[bars.length - 1].t)));
  return svg;
}
