/** The one free-port helper lives with the dev tooling; tests import it from here too. */
export { freePort } from '../../src/dev/ports';
