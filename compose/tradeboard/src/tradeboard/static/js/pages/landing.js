// The landing page: what Tradeboard is, and the way in.

import {h} from '../dom.js';

export default function mount({root}) {
  root.append(h('section', {class: 'hero'},
    h('h1', {}, 'Tradeboard'),
    h('p', {class: 'lead'}, 'Market data for your watchlists: live trades, historic bars, '
      + 'your own trade files and CSV exports.'),
    h('a', {href: '/signup', class: 'button primary'}, 'Get started')));
  root.append(h('ul', {class: 'features', 'aria-label': 'Features'},
    feature('Watchlists', 'Group the symbols you follow.'),
    feature('Live and historic data', 'Latest trades as they happen; bars, charts and summaries for any range.'),
    feature('Uploads', 'Send CSV or JSON-lines trade files and watch them load.'),
    feature('Exports', 'Export trades as CSV, with live progress.')));
  return {};
}

function feature(title, text) {
  return h('li', {}, h('strong', {}, title), h('span', {}, text));
}
