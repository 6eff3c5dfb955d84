// Small DOM helpers: an element builder, labelled fields, message boxes and tabs.

const SVG_NS = 'http://www.w3.org/2000/svg';
let nextId = 0;

/** A unique id for label/aria wiring. */
export function uid(prefix = 'tb') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'text') {
      el.textContent = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** h('p', {class: 'x'}, 'text', child): build an HTML element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Like h() but in the SVG namespace. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

/** A label + control pair; `hint` becomes the control's description. */
export function field(labelText, control, hint) {
  control.id ||= uid('field');
  const parts = [h('label', {for: control.id}, labelText), control];
  if (hint) {
    const hintId = uid('hint');
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('small', {id: hintId, class: 'hint'}, hint));
  }
  return h('div', {class: 'field'}, parts);
}

/**
 * A message line that is display:none while empty, so an idle alert is neither visible
 * nor in the accessibility tree (tests then find exactly one alert when it shows).
 */
export function messageBox(role = 'alert') {
  const el = h('p', {role, class: role === 'alert' ? 'message error' : 'message info', hidden: true});
  return {
    el,
    show(text) {
      el.textContent = text;
      el.hidden = false;
    },
    clear() {
      el.textContent = '';
      el.hidden = true;
    },
  };
}

/**
 * ARIA tabs: a tablist of buttons and one panel per tab; switching only toggles `hidden`,
 * so panel contents (and their data) survive.
 */
export function tabs(label, items, onChange) {
  const list = h('div', {role: 'tablist', 'aria-label': label, class: 'tablist'});
  const buttons = [];
  const panels = [];
  let current = items[0].key;

  function select(key, focus = false) {
    current = key;
    items.forEach((item, i) => {
      const on = item.key === key;
      buttons[i].setAttribute('aria-selected', String(on));
      buttons[i].tabIndex = on ? 0 : -1;
      panels[i].hidden = !on;
      if (on && focus) buttons[i].focus();
    });
    if (onChange) onChange(key);
  }

  // Arrow keys move between tabs, as the ARIA tabs pattern expects.
  function onKey(event, index) {
    const step = {ArrowRight: 1, ArrowLeft: -1}[event.key];
    if (!step) return;
    event.preventDefault();
    select(items[(index + step + items.length) % items.length].key, true);
  }

  items.forEach((item, index) => {
    const tabId = uid('tab');
    const panelId = uid('panel');
    const button = h('button', {
      type: 'button', role: 'tab', id: tabId, 'aria-controls': panelId, class: 'tab',
      onclick: () => select(item.key), onkeydown: (e) => onKey(e, index),
    }, item.label);
    const panel = h('div', {role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, class: 'tabpanel'},
      item.content);
    buttons.push(button);
    panels.push(panel);
    list.append(button);
  });
  // Initial state without calling onChange: the owner decides what to start.
  items.forEach((item, i) => {
    const on = i === 0;
    buttons[i].setAttribute('aria-selected', String(on));
    buttons[i].tabIndex = on ? 0 : -1;
    panels[i].hidden = !on;
  });
  return {list, panels, select, get current() { return current; }};
}

/**
 * A <table> with a caption and column headers; returns the table and its body.
 * Columns named in `numeric` are right-aligned, like their cells.
 */
export function dataTable(caption, headers, numeric = []) {
  const body = h('tbody');
  const table = h('table', {class: 'data'},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((name) =>
      h('th', {scope: 'col', class: numeric.includes(name) ? 'num' : null}, name)))),
    body);
  return {table, body};
}

/** Disable a form's submit button while `work` runs, so a double click sends once. */
export async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}
