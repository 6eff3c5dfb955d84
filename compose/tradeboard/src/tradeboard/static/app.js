// Tradeboard's single-page app: routing, navigation, the API alert and the session.
//
// Each page module exports `mount(ctx)` which fills ctx.root and returns
// `{load, unmount}`: `load` fetches the page's data (Retry runs it again), `unmount`
// stops its timers and streams.

import * as api from './js/api.js';
import {h} from './js/dom.js';
import landing from './js/pages/landing.js';
import {login, signup} from './js/pages/auth.js';
import dashboard from './js/pages/dashboard.js';
import watchlists from './js/pages/watchlists.js';
import symbol from './js/pages/symbol.js';
import uploads from './js/pages/uploads.js';
import exportsPage from './js/pages/exports.js';
import notFound from './js/pages/notfound.js';

const ROUTES = [
  {pattern: /^\/$/, title: 'Home', page: landing},
  {pattern: /^\/login$/, title: 'Log in', page: login},
  {pattern: /^\/signup$/, title: 'Sign up', page: signup},
  {pattern: /^\/dashboard$/, title: 'Dashboard', page: dashboard, protected: true},
  {pattern: /^\/watchlists$/, title: 'Watchlists', page: watchlists, protected: true},
  {pattern: /^\/symbols\/([^/]+)$/, title: null, page: symbol, protected: true},
  {pattern: /^\/uploads$/, title: 'Uploads', page: uploads, protected: true},
  {pattern: /^\/exports$/, title: 'Exports', page: exportsPage, protected: true},
];
const NOT_FOUND = {title: 'Page not found', page: notFound};

const NAV_LINKS = [
  ['/', 'Home'], ['/dashboard', 'Dashboard'], ['/watchlists', 'Watchlists'],
  ['/uploads', 'Uploads'], ['/exports', 'Exports'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const banner = document.getElementById('api-alert');
const retryButton = document.getElementById('api-retry');

let current = null; // {route, view, controller}
let firstRender = true;

function match(pathname) {
  for (const route of ROUTES) {
    const found = pathname.match(route.pattern);
    if (!found) continue;
    try {
      return {route, params: found.slice(1).map(decodeURIComponent)};
    } catch {
      break; // a malformed %-escape: no such page
    }
  }
  return {route: NOT_FOUND, params: []};
}

/** /login?next=<path>; slashes stay readable, everything else is escaped. */
export function loginPath(next) {
  return `/login?next=${encodeURIComponent(next).replace(/%2F/gi, '/')}`;
}

export function navigate(path, {replace = false} = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function redirectToLogin() {
  navigate(loginPath(location.pathname + location.search), {replace: true});
}

function onSignedOut() {
  if (current?.route.protected) redirectToLogin();
  else renderNav();
}

async function signOut() {
  // The page goes first: its live feed closes before the API ends the session under it.
  leavePage();
  try {
    await api.post('/auth/logout', undefined, {quiet: true, signal: AbortSignal.timeout(3000)});
  } catch {
    // The session ends in this browser whatever the API says (or if it is away).
  }
  api.tokens.clear();
  navigate('/login');
}

function renderNav() {
  const path = location.pathname;
  const links = NAV_LINKS.map(([href, label]) =>
    h('li', {}, h('a', {href, 'aria-current': path === href ? 'page' : null}, label)));
  const account = api.tokens.access()
    ? [h('li', {}, h('button', {type: 'button', class: 'nav-button', onclick: signOut}, 'Sign out'))]
    : [h('li', {}, h('a', {href: '/login', 'aria-current': path === '/login' ? 'page' : null}, 'Log in')),
      h('li', {}, h('a', {href: '/signup', class: 'nav-cta', 'aria-current': path === '/signup' ? 'page' : null}, 'Sign up'))];
  nav.replaceChildren(h('ul', {class: 'nav-links'}, links), h('ul', {class: 'nav-account'}, account));
}

function setBanner(visible) {
  banner.hidden = !visible;
}

/** Run the current page's data loading; errors it did not handle are reported once. */
async function runLoad({probe = false} = {}) {
  let load = current?.view.load;
  // A page without data of its own still lets Retry find out whether the API is back.
  if (!load && probe) load = () => api.get('/health', {auth: false}).catch(() => null);
  if (!load) return;
  try {
    await load();
  } catch (err) {
    if (!api.isHandled(err)) console.error('Tradeboard: page load failed', err);
  }
}

async function retry() {
  retryButton.disabled = true;
  try {
    await runLoad({probe: true});
  } finally {
    retryButton.disabled = false;
  }
}

function focusHeading() {
  const heading = main.querySelector('h1');
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus({preventScroll: true});
}

/** Stop the current page: its requests, timers and streams. */
function leavePage() {
  if (!current) return;
  current.controller.abort();
  current.view.unmount?.();
  current = null;
}

function render() {
  leavePage();
  setBanner(false);
  const {route, params} = match(location.pathname);
  if (route.protected && !api.tokens.access()) {
    redirectToLogin();
    return;
  }
  const controller = new AbortController();
  document.title = `${route.title ?? params[0].toUpperCase()} · Tradeboard`;
  main.replaceChildren();
  const ctx = {
    root: main, params, query: new URLSearchParams(location.search),
    signal: controller.signal, navigate, loginPath,
  };
  current = {route, view: route.page(ctx) || {}, controller};
  renderNav();
  window.scrollTo(0, 0);
  if (!firstRender) focusHeading();
  firstRender = false;
  runLoad();
}

// Same-origin links are handled here, so moving between pages never reloads the document.
function onLinkClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/static/')) return;
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

// Another tab signed out (or cleared the storage): leave protected pages at once.
function onStorage(event) {
  if (event.storageArea !== localStorage || !api.tokens.isAccessKey(event.key)) return;
  if (api.tokens.access()) renderNav();
  else onSignedOut();
}

api.configure({
  offline: () => setBanner(true),
  online: () => setBanner(false),
  isOffline: () => !banner.hidden,
  signedOut: onSignedOut,
});
retryButton.addEventListener('click', retry);
document.addEventListener('click', onLinkClick);
window.addEventListener('popstate', render);
window.addEventListener('storage', onStorage);
render();
