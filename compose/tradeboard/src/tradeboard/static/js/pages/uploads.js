// Uploads: send a trade file, then watch it load. While any upload is pending the list is
// polled every second; polling stops once every upload is loaded or rejected.

import * as api from '../api.js';
import {busy, dataTable, field, h, messageBox} from '../dom.js';
import {formatNumber, formatTime} from '../format.js';
import {onSubmit, poller, report} from './common.js';

const POLL_MS = 1000;
const COLUMNS = ['File', 'Status', 'Rows total', 'Rows loaded', 'Rows rejected', 'Landed at',
  'Loaded at', 'Error'];

function row(u) {
  return h('tr', {'data-testid': `upload-${u.id}`},
    h('td', {class: 'filename'}, u.filename),
    h('td', {}, h('span', {class: `badge status-${u.status}`, 'data-testid': 'upload-status'}, u.status)),
    h('td', {class: 'num', 'data-testid': 'rows-total'}, formatNumber(u.rows_total)),
    h('td', {class: 'num', 'data-testid': 'rows-loaded'}, formatNumber(u.rows_loaded)),
    h('td', {class: 'num', 'data-testid': 'rows-rejected'}, formatNumber(u.rows_rejected)),
    h('td', {class: 'time'}, formatTime(u.landed_at)),
    h('td', {class: 'time'}, formatTime(u.loaded_at)),
    h('td', {class: 'error-text'}, u.error || ''));
}

export default function mount({root, signal}) {
  const state = {uploads: [], loaded: false};
  const alert = messageBox('alert');
  const done = messageBox('status');
  const fileInput = h('input', {type: 'file', name: 'file', accept: '.csv,.jsonl,.ndjson,text/csv'});
  const uploadButton = h('button', {type: 'submit', class: 'primary'}, 'Upload');
  const form = h('form', {class: 'card form inline-form', novalidate: true, 'aria-label': 'New upload'},
    field('Trade file', fileInput, 'CSV or JSON lines with trade_id, symbol, price, quantity, ts.'),
    h('div', {class: 'actions'}, uploadButton));
  const {table, body} = dataTable('Your uploads', COLUMNS, ['Rows total', 'Rows loaded', 'Rows rejected']);
  const tableBox = h('div', {class: 'table-scroll', hidden: true}, table);
  const empty = h('p', {class: 'empty', hidden: true}, 'No uploads yet.');

  root.append(h('h1', {}, 'Uploads'), form, alert.el, done.el, empty, tableBox);

  function render() {
    const any = state.uploads.length > 0;
    empty.hidden = !state.loaded || any;
    tableBox.hidden = !any;
    body.replaceChildren(...state.uploads.map(row));
    if (state.uploads.some((u) => u.status === 'pending')) poll.start();
    else poll.stop();
  }

  async function refresh(background) {
    state.uploads = await api.get('/uploads', {signal, background});
    state.loaded = true;
    render();
  }

  const poll = poller(() => refresh(true), POLL_MS);

  form.addEventListener('submit', onSubmit(alert, () => busy(uploadButton, async () => {
    done.clear();
    const file = fileInput.files[0];
    if (!file) {
      alert.show('Choose a file to upload');
      return;
    }
    const data = new FormData();
    data.append('file', file, file.name);
    const upload = await api.request('POST', '/uploads', {form: data, signal});
    state.uploads = [upload, ...state.uploads.filter((u) => u.id !== upload.id)];
    state.loaded = true;
    fileInput.value = '';
    done.show(`Uploaded ${upload.filename}`);
    render();
  })));

  async function load() {
    alert.clear();
    try {
      await refresh(false);
    } catch (err) {
      report(alert, err);
    }
  }

  return {load, unmount: () => poll.stop()};
}
