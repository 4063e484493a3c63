import { IPoll, Poll } from '@lumino/polling';

import type { SettingsModel } from './settings';

/** The smallest refresh interval the setting accepts (`minimum` in schema/plugin.json). */
export const MIN_INTERVAL = 500;

/** Every `interval` ms; after failures, longer and longer waits, up to ten times the interval. */
export function refreshFrequency(interval: number): IPoll.Frequency {
  const value = Math.max(MIN_INTERVAL, interval);
  return { interval: value, backoff: true, max: value * 10 };
}

/**
 * The poll that keeps a view fresh: it asks nothing while `visible()` is false, nor while the
 * browser tab is hidden, and backs off while the server cannot be reached.
 */
export function refreshPoll(
  factory: () => Promise<unknown>,
  visible: () => boolean,
  interval: number
): Poll {
  const poll = new Poll({
    auto: false,
    factory,
    standby: () => (visible() ? 'when-hidden' : true),
    name: 'jupyter-artifacts:refresh'
  });
  // Set after construction: the constructor raises `max` to at least Lumino's default (30 s).
  poll.frequency = refreshFrequency(interval);
  return poll;
}

/** Keep a poll's frequency at the settings' refresh interval (until `owner` is disconnected). */
export function followSettings(poll: Poll, settings: SettingsModel, owner: unknown): void {
  settings.changed.connect(() => {
    poll.frequency = refreshFrequency(settings.refreshInterval);
  }, owner);
}
