import { Widget } from '@lumino/widgets';

import { ArtifactsClient } from '../src/api/client';
import * as ArtifactListView from '../src/components/ArtifactList';
import { ArtifactsPanel } from '../src/components/ArtifactsPanel';
import * as TabBarView from '../src/components/TabBar';
import { PanelModel } from '../src/model/panel';
import { MIN_INTERVAL, refreshFrequency } from '../src/model/refresh';
import { SettingsModel } from '../src/model/settings';
import { fakeServer, json } from './server';

const LIST = { artifacts: [], total: 0, limit: 50, offset: 0, next_offset: null };

/** A panel attached to the page but not shown yet, as the sidebar holds it until its tab is clicked. */
function hiddenPanel(interval = 2000, answer: () => Response = () => json(LIST)) {
  const { settings, calls } = fakeServer(answer);
  const panel = new ArtifactsPanel(new PanelModel(new ArtifactsClient(settings)), new SettingsModel(interval));
  panel.hide();
  Widget.attach(panel, document.body);
  // One list of what people saved per refresh (with it come the count of what jobs made and the store's use).
  const lists = () => calls.filter(c => c.path === 'artifacts' && c.url.includes('origin=user')).length;
  return { panel, calls, lists };
}

let panels: ArtifactsPanel[] = [];

beforeEach(() => {
  jest.useFakeTimers();
  // The backoff waits a random time between the interval and three times the last wait: take the longest.
  jest.spyOn(Math, 'random').mockReturnValue(0.999999);
});

afterEach(() => {
  for (const panel of panels) {
    panel.dispose();
  }
  panels = [];
  jest.restoreAllMocks();
  jest.useRealTimers();
});

function track<T extends { panel: ArtifactsPanel }>(made: T): T {
  panels.push(made.panel);
  return made;
}

function setBrowserTabHidden(hidden: boolean): void {
  Object.defineProperty(document, 'visibilityState', { value: hidden ? 'hidden' : 'visible', configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}

describe('the refresh poll', () => {
  it('asks nothing until the panel is shown, then every interval', async () => {
    const { panel, lists } = track(hiddenPanel(2000));
    await jest.advanceTimersByTimeAsync(10_000);
    expect(lists()).toBe(0);
    panel.show();
    await jest.advanceTimersByTimeAsync(0);
    expect(lists()).toBe(1);
    await jest.advanceTimersByTimeAsync(2000);
    expect(lists()).toBe(2);
    await jest.advanceTimersByTimeAsync(6000);
    expect(lists()).toBe(5);
  });

  it('stands by while the panel is hidden, and refreshes at once when it shows again', async () => {
    const { panel, lists } = track(hiddenPanel(2000));
    panel.show();
    await jest.advanceTimersByTimeAsync(2000);
    const before = lists();
    panel.hide();
    await jest.advanceTimersByTimeAsync(20_000);
    expect(lists()).toBe(before);
    panel.show();
    await jest.advanceTimersByTimeAsync(0);
    expect(lists()).toBe(before + 1);
  });

  it('stands by while the browser tab is hidden', async () => {
    const { panel, lists } = track(hiddenPanel(1000));
    panel.show();
    await jest.advanceTimersByTimeAsync(1000);
    setBrowserTabHidden(true);
    try {
      // It lingers for one tick, then asks nothing.
      await jest.advanceTimersByTimeAsync(2000);
      const lingered = lists();
      await jest.advanceTimersByTimeAsync(20_000);
      expect(lists()).toBe(lingered);
      setBrowserTabHidden(false);
      await jest.advanceTimersByTimeAsync(1000);
      expect(lists()).toBe(lingered + 1);
    } finally {
      setBrowserTabHidden(false);
    }
  });

  it('backs off while the server is down, up to ten times the interval, and recovers', async () => {
    let down = false;
    const { panel, lists } = track(
      hiddenPanel(1000, () => {
        if (down) {
          throw new TypeError('Failed to fetch');
        }
        return json(LIST);
      })
    );
    const waits: number[] = [];
    panel.poll.ticked.connect((_, state) => {
      if (state.phase === 'rejected' || state.phase === 'reconnected' || state.phase === 'resolved') {
        waits.push(state.interval);
      }
    });
    panel.show();
    await jest.advanceTimersByTimeAsync(1000);
    expect(waits).toEqual([1000, 1000]);
    waits.length = 0;
    down = true;
    const before = lists();
    await jest.advanceTimersByTimeAsync(60_000);
    // Up to three times longer each time, never more than 10 x 1000 ms.
    expect(waits.slice(0, 4)).toEqual([3000, 9000, 10_000, 10_000]);
    expect(Math.max(...waits)).toBe(10_000);
    expect(lists() - before).toBe(waits.length);
    expect(waits.length).toBeLessThanOrEqual(8); // instead of 60 at the interval
    down = false;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(panel.poll.state.phase).toMatch(/reconnected|resolved/);
    waits.length = 0;
    await jest.advanceTimersByTimeAsync(3000);
    expect(waits).toEqual([1000, 1000, 1000]);
  });

  it('follows the interval setting', async () => {
    const { panel, lists } = track(hiddenPanel(2000));
    panel.show();
    await jest.advanceTimersByTimeAsync(0);
    panel.settings.setRefreshInterval(5000);
    expect(panel.poll.frequency).toEqual({ interval: 5000, backoff: true, max: 50_000 });
    await jest.advanceTimersByTimeAsync(2000); // the wait already scheduled
    const start = lists();
    await jest.advanceTimersByTimeAsync(15_000);
    expect(lists() - start).toBe(3);
  });
});

describe('refreshFrequency', () => {
  it("backs off to ten times the interval, as the setting's description says", () => {
    expect(refreshFrequency(2000)).toEqual({ interval: 2000, backoff: true, max: 20_000 });
    // The schema's minimum, for values set around the settings editor.
    expect(refreshFrequency(10)).toEqual({ interval: MIN_INTERVAL, backoff: true, max: 10 * MIN_INTERVAL });
    const schema = require('../schema/plugin.json');
    expect(schema.properties.refreshInterval.minimum).toBe(MIN_INTERVAL);
    expect(schema.properties.refreshInterval.description).toMatch(/up to ten times this interval/);
  });
});

/** Real timers: the answers' bodies are read by the real fetch machinery. */
async function until<T>(find: () => T | null | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = find();
    if (found) {
      return found;
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  throw new Error('not found in time');
}

describe('rendering', () => {
  it('a refresh re-renders the list it fetched, not the tabs around it', async () => {
    jest.useRealTimers();
    const tabBar = jest.spyOn(TabBarView, 'TabBar');
    const list = jest.spyOn(ArtifactListView, 'ArtifactList');
    let version = 0;
    const { settings } = fakeServer(call => {
      if (!call.url.includes('origin=user')) {
        return json(LIST); // what jobs made, the store's use
      }
      version++;
      const artifact = { id: `${version}`.padStart(32, '0'), kind: 'checkpoint', name: 'run', version,
        reference: `run:v${version}`, state: 'ready', aliases: [], size: 1, file_count: 1, created_at: 1 };
      return json({ ...LIST, artifacts: [artifact], total: 1 });
    });
    const model = new PanelModel(new ArtifactsClient(settings));
    const { panel } = track({ panel: new ArtifactsPanel(model) });
    Widget.attach(panel, document.body);
    void panel.poll.refresh();
    await until(() => panel.node.querySelector('.jp-Artifacts-row'));
    const tabs = tabBar.mock.calls.length;
    const lists = list.mock.calls.length;
    expect(tabs).toBeGreaterThan(0);
    await model.refresh();
    const shown = () => panel.node.querySelector('.jp-Artifacts-row')?.getAttribute('data-reference');
    await until(() => shown() === `run:v${version}` && list.mock.calls.length > lists);
    expect(tabBar.mock.calls.length).toBe(tabs);
    // Opening an artifact changes the frame: the tabs render again.
    model.details.select(`run:v${version}`);
    await until(() => tabBar.mock.calls.length > tabs);
  });
});
