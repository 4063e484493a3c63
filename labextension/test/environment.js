// jsdom (for Lumino widgets and React) with Node's own fetch, so tests fake the server at the
// network boundary with real Request and Response objects.
const { TestEnvironment } = require('jest-environment-jsdom');

const FROM_NODE = ['fetch', 'Request', 'Response', 'Headers', 'TextEncoder', 'TextDecoder', 'structuredClone'];

class JsdomWithFetch extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of FROM_NODE) {
      this.global[name] = globalThis[name];
    }
    // Browser APIs jsdom lacks that the JupyterLab packages touch when they load.
    this.global.DragEvent = class DragEvent extends this.global.MouseEvent {};
    this.global.matchMedia = query => ({
      matches: false,
      media: query,
      addListener: () => undefined,
      removeListener: () => undefined,
      addEventListener: () => undefined,
      removeEventListener: () => undefined
    });
    // Looked up when called, so that jest's fake timers drive it too.
    this.global.requestIdleCallback = callback =>
      this.global.setTimeout(() => callback({ didTimeout: false, timeRemaining: () => 0 }), 0);
    this.global.cancelIdleCallback = handle => this.global.clearTimeout(handle);
  }
}

module.exports = JsdomWithFetch;
