// Watchlists: create, rename, delete, add and remove symbols. One alert for the page, so a
// test always finds at most one.

import * as api from '../api.js';
import {busy, field, h, messageBox, uid} from '../dom.js';
import {guard, onSubmit, report} from './common.js';

const MAX_WATCHLISTS = 10;
const LIMIT_MESSAGE = `You can have at most ${MAX_WATCHLISTS} watchlists`;

export default function mount({root, signal}) {
  const state = {lists: [], symbols: [], editing: null, loaded: false};
  const alert = messageBox('alert');
  const nameInput = h('input', {type: 'text', name: 'name', autocomplete: 'off', required: true});
  const createButton = h('button', {type: 'submit', class: 'primary'}, 'Create');
  const counter = h('p', {class: 'muted', 'data-testid': 'watchlist-counter'});
  const listEl = h('ul', {class: 'watchlists', 'aria-label': 'Your watchlists'});
  const empty = h('p', {class: 'empty', hidden: true}, 'You have no watchlists yet.');

  const createForm = h('form', {class: 'card form inline-form', novalidate: true,
    'aria-label': 'Create a watchlist'},
  field('Watchlist name', nameInput), h('div', {class: 'actions'}, createButton));
  createForm.addEventListener('submit', onSubmit(alert, () => busy(createButton, create)));

  root.append(h('h1', {}, 'Watchlists'), createForm, alert.el, counter, empty, listEl);

  function showError(err) {
    if (err instanceof api.ApiError && err.code === 'watchlist_limit') alert.show(LIMIT_MESSAGE);
    else report(alert, err);
  }

  async function create() {
    const name = nameInput.value.trim();
    try {
      const created = await api.post('/watchlists', {name});
      state.lists.push(created);
      nameInput.value = '';
      render();
    } catch (err) {
      showError(err);
    }
  }

  // Each action updates the one watchlist the API sends back (or drops it).
  function replace(updated) {
    state.lists = state.lists.map((w) => (w.id === updated.id ? updated : w));
  }

  // A click or submit handler; its button is disabled meanwhile, so a double click acts once.
  function action(handler) {
    return async (event) => {
      event.preventDefault();
      alert.clear();
      const button = event.submitter || event.currentTarget;
      button.disabled = true;
      try {
        await handler(event);
      } catch (err) {
        showError(err);
      } finally {
        button.disabled = false;
      }
    };
  }

  const actions = {
    rename: (w, newName) => action(async () => {
      replace(await api.patch(`/watchlists/${w.id}`, {name: newName()}));
      state.editing = null;
      render();
    }),
    remove: (w) => action(async () => {
      await api.del(`/watchlists/${w.id}`);
      state.lists = state.lists.filter((x) => x.id !== w.id);
      render();
    }),
    addSymbol: (w, chosen) => action(async () => {
      const symbol = chosen();
      if (!symbol) {
        alert.show('Choose a symbol to add');
        return;
      }
      replace(await api.post(`/watchlists/${w.id}/symbols`, {symbol}));
      render();
    }),
    removeSymbol: (w, symbol) => action(async () => {
      await api.del(`/watchlists/${w.id}/symbols/${encodeURIComponent(symbol)}`);
      replace({...w, symbols: w.symbols.filter((s) => s !== symbol)});
      render();
    }),
  };

  function symbolItems(w) {
    if (!w.symbols.length) return h('p', {class: 'muted'}, 'No symbols yet.');
    return h('ul', {class: 'chips', 'aria-label': `Symbols in ${w.name}`},
      w.symbols.map((symbol) => h('li', {class: 'chip'},
        h('a', {href: `/symbols/${encodeURIComponent(symbol)}`}, symbol),
        h('button', {type: 'button', class: 'chip-remove', 'aria-label': `Remove ${symbol}`,
          title: `Remove ${symbol}`, onclick: actions.removeSymbol(w, symbol)}, '×'))));
  }

  function addForm(w) {
    const select = h('select', {name: 'symbol'},
      h('option', {value: ''}, 'Choose a symbol'),
      state.symbols.map((s) => h('option', {value: s.symbol}, `${s.symbol} — ${s.name}`)));
    const form = h('form', {class: 'inline-form', novalidate: true},
      field('Add symbol', select), h('button', {type: 'submit'}, 'Add'));
    form.addEventListener('submit', actions.addSymbol(w, () => select.value));
    return form;
  }

  function renameForm(w) {
    const input = h('input', {type: 'text', name: 'name', value: w.name, autocomplete: 'off'});
    const cancel = () => {
      state.editing = null;
      render();
    };
    input.addEventListener('keydown', (e) => { if (e.key === 'Escape') cancel(); });
    const form = h('form', {class: 'inline-form', novalidate: true},
      field('New name', input),
      h('button', {type: 'submit', class: 'primary'}, 'Save'),
      h('button', {type: 'button', onclick: cancel}, 'Cancel'));
    form.addEventListener('submit', actions.rename(w, () => input.value.trim()));
    queueMicrotask(() => input.select());
    return form;
  }

  function item(w) {
    const headingId = uid('watchlist');
    const editing = state.editing === w.id;
    const startRename = () => {
      state.editing = w.id;
      alert.clear();
      render();
    };
    return h('li', {class: 'card watchlist', 'aria-labelledby': headingId, 'data-testid': `watchlist-${w.id}`},
      h('section', {'aria-labelledby': headingId},
        h('div', {class: 'item-head'},
          h('h2', {id: headingId}, w.name),
          h('div', {class: 'buttons'},
            editing ? null : h('button', {type: 'button', onclick: startRename}, 'Rename'),
            h('button', {type: 'button', class: 'danger', onclick: actions.remove(w)}, 'Delete'))),
        editing ? renameForm(w) : null,
        symbolItems(w),
        addForm(w)));
  }

  function render() {
    counter.textContent = `${state.lists.length} of ${MAX_WATCHLISTS} watchlists`;
    empty.hidden = !state.loaded || state.lists.length > 0;
    listEl.replaceChildren(...state.lists.map(item));
  }

  const load = guard(alert, async () => {
    alert.clear();
    const [lists, symbols] = await Promise.all([
      api.get('/watchlists', {signal}), api.get('/symbols', {signal})]);
    Object.assign(state, {lists, symbols, loaded: true});
    render();
  });

  return {load};
}
