// Log in and sign up. A successful login stores the tokens and goes to `?next=` (a path
// of this site only) or the dashboard.

import * as api from '../api.js';
import {busy, field, h, messageBox} from '../dom.js';
import {onSubmit} from './common.js';

const INVALID = 'Invalid email or password';

/** `next` if it is a path on this site (not the auth pages), else /dashboard. */
export function safeNext(next) {
  // "//host" and "/\host" are other sites to a browser, so only a single slash passes.
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return '/dashboard';
  }
  const url = new URL(next, location.origin);
  if (url.origin !== location.origin || ['/login', '/signup'].includes(url.pathname)) {
    return '/dashboard';
  }
  return url.pathname + url.search + url.hash;
}

async function logIn(email, password) {
  const pair = await api.post('/auth/login', {email, password}, {auth: false});
  api.tokens.set(pair);
}

function loginMessage(err) {
  if (err instanceof api.ApiError && err.status === 429) return err.message;
  if (err instanceof api.ApiError && [401, 422].includes(err.status)) return INVALID;
  return null;
}

function credentialFields() {
  const email = h('input', {type: 'email', name: 'email', autocomplete: 'username', required: true});
  const password = h('input', {type: 'password', name: 'password', required: true});
  return {email, password};
}

export function login({root, query, navigate}) {
  const next = query.get('next');
  const alert = messageBox('alert');
  const {email, password} = credentialFields();
  password.autocomplete = 'current-password';
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Log in');
  const signupHref = next ? `/signup?next=${encodeURIComponent(next)}` : '/signup';

  const form = h('form', {class: 'card form narrow', novalidate: true, 'aria-labelledby': 'login-title'},
    h('h1', {id: 'login-title'}, 'Log in'),
    alert.el,
    field('Email', email),
    field('Password', password),
    h('div', {class: 'actions'}, submit),
    h('p', {class: 'aside'}, 'New here? ', h('a', {href: signupHref}, 'Create an account')));

  form.addEventListener('submit', onSubmit(alert, () => busy(submit, async () => {
    if (!email.value.trim() || !password.value) {
      alert.show(INVALID);
      return;
    }
    try {
      await logIn(email.value.trim(), password.value);
    } catch (err) {
      const message = loginMessage(err);
      if (!message) throw err;
      alert.show(message);
      password.value = '';
      return;
    }
    navigate(safeNext(next));
  })));
  root.append(form);
  return {};
}

export function signup({root, query, navigate}) {
  const next = query.get('next');
  const alert = messageBox('alert');
  const {email, password} = credentialFields();
  password.autocomplete = 'new-password';
  password.minLength = 8;
  const displayName = h('input', {type: 'text', name: 'display_name', autocomplete: 'nickname'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Sign up');
  const loginHref = next ? `/login?next=${encodeURIComponent(next)}` : '/login';

  const form = h('form', {class: 'card form narrow', novalidate: true, 'aria-labelledby': 'signup-title'},
    h('h1', {id: 'signup-title'}, 'Sign up'),
    alert.el,
    field('Email', email),
    field('Password', password, 'At least 8 characters.'),
    field('Display name (optional)', displayName),
    h('div', {class: 'actions'}, submit),
    h('p', {class: 'aside'}, h('a', {href: loginHref}, 'I already have an account')));

  form.addEventListener('submit', onSubmit(alert, () => busy(submit, async () => {
    const body = {email: email.value.trim(), password: password.value};
    if (displayName.value.trim()) body.display_name = displayName.value.trim();
    // The API validates (email taken, short password); its message is shown as is.
    await api.post('/auth/signup', body, {auth: false});
    await logIn(body.email, body.password);
    navigate(safeNext(next));
  })));
  root.append(form);
  return {};
}
