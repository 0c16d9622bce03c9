/**
 * Waits for the event loop's next turn. A loop of database calls never gets one by itself on a
 * local libSQL file: every client call there runs synchronously and resolves at once, so its
 * `await`s only run microtasks, and everything else waits until the whole loop is over: timers,
 * sockets (the server answers no request), and the Node-API finalizers that free each prepared
 * statement's native memory (its bound arguments, its engine state; garbage collection alone
 * only queues them). A rollup rebuild of 10M events held 2.8 GB that way. A long loop takes a
 * turn per step.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
