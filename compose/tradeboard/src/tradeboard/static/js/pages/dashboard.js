// The dashboard: counts of the user's watchlists, uploads and exports, and the symbols.

import * as api from '../api.js';
import {h, messageBox, uid} from '../dom.js';
import {DASH} from '../format.js';
import {report} from './common.js';

function card(title, testId, unit, link) {
  const headingId = uid('card');
  const count = h('strong', {class: 'count', 'data-testid': testId}, DASH);
  const el = h('section', {class: 'card stat', 'aria-labelledby': headingId},
    h('h2', {id: headingId}, title),
    h('p', {}, count, ` ${unit}`),
    h('a', {href: link.href}, link.text));
  return {el, count};
}

export default function mount({root, signal}) {
  const alert = messageBox('alert');
  const who = h('p', {class: 'lead'});
  const cards = {
    watchlists: card('Watchlists', 'watchlist-count', 'watchlists',
      {href: '/watchlists', text: 'Create or edit a watchlist'}),
    uploads: card('Uploads', 'upload-count', 'uploads', {href: '/uploads', text: 'Upload trades'}),
    exports: card('Exports', 'export-count', 'exports', {href: '/exports', text: 'Start an export'}),
  };
  const symbolList = h('ul', {class: 'symbols', 'aria-label': 'Symbols'});

  root.append(
    h('h1', {}, 'Dashboard'), who, alert.el,
    h('div', {class: 'cards'}, cards.watchlists.el, cards.uploads.el, cards.exports.el),
    h('section', {class: 'card', 'aria-labelledby': 'symbols-title'},
      h('h2', {id: 'symbols-title'}, 'Symbols'),
      h('p', {class: 'muted'}, 'Open a symbol for its live trades and historic bars.'),
      symbolList));

  function renderSymbols(symbols) {
    symbolList.replaceChildren(...symbols.map((item) => h('li', {},
      h('a', {href: `/symbols/${encodeURIComponent(item.symbol)}`}, item.symbol),
      h('span', {class: 'muted'}, item.name))));
  }

  async function load() {
    alert.clear();
    try {
      const opts = {signal};
      const [me, lists, ups, exps, symbols] = await Promise.all([
        api.get('/auth/me', opts), api.get('/watchlists', opts), api.get('/uploads', opts),
        api.get('/exports', opts), api.get('/symbols', opts)]);
      who.textContent = `Signed in as ${me.email}`;
      cards.watchlists.count.textContent = String(lists.length);
      cards.uploads.count.textContent = String(ups.length);
      cards.exports.count.textContent = String(exps.length);
      renderSymbols(symbols);
    } catch (err) {
      report(alert, err);
    }
  }

  return {load};
}
