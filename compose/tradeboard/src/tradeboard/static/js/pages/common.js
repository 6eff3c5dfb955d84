// What the pages share: error reporting into a page's alert, guarded handlers, polling.

import {ApiError, isHandled} from '../api.js';

/** Show an error in `box` (a messageBox); errors the app already handled are ignored. */
export function report(box, err) {
  if (isHandled(err)) return;
  if (err instanceof ApiError) {
    box.show(err.message);
    return;
  }
  console.error('Tradeboard:', err);
  box.show('Something went wrong. Please try again.');
}

/** An event handler that never leaks a rejected promise: failures go to `box`. */
export function guard(box, handler) {
  return async (event) => {
    try {
      await handler(event);
    } catch (err) {
      report(box, err);
    }
  };
}

/** A submit handler: no page reload, failures to `box`, previous message cleared. */
export function onSubmit(box, handler) {
  const guarded = guard(box, handler);
  return (event) => {
    event.preventDefault();
    box.clear();
    return guarded(event);
  };
}

/**
 * Run `tick` every `ms` milliseconds, one at a time (the next waits for the previous to
 * finish, so a slow API never piles up requests), until stop().
 */
export function poller(tick, ms) {
  let timer = null;
  let running = false;
  async function loop() {
    timer = null;
    try {
      await tick();
    } catch (err) {
      if (!isHandled(err)) console.error('Tradeboard: poll failed', err);
    }
    if (running) timer = setTimeout(loop, ms);
  }
  return {
    start() {
      if (running) return;
      running = true;
      timer = setTimeout(loop, ms);
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
    },
    get running() { return running; },
  };
}
