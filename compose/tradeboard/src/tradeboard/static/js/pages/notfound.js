// The 404 page (the server answered 404 with the app; this says so).

import {h} from '../dom.js';

export default function mount({root}) {
  root.append(h('section', {class: 'notfound'},
    h('h1', {}, 'Page not found'),
    h('p', {}, 'There is no page at ', h('code', {}, location.pathname), '.'),
    h('p', {}, h('a', {href: '/'}, 'Back to the home page'))));
  return {};
}
