import { ISignal } from '@lumino/signaling';
import * as React from 'react';

/**
 * Re-render the calling view whenever one of these signals is emitted, and only then. It listens
 * from the moment the view is on the page (a layout effect), so that nothing emitted before its
 * first paint is missed, such as a click that changes the model right away.
 */
export function useSignal(...signals: ISignal<unknown, unknown>[]): void {
  const [, setTick] = React.useState(0);
  React.useLayoutEffect(() => {
    const onEmit = () => setTick(tick => tick + 1);
    for (const signal of signals) {
      signal.connect(onEmit);
    }
    return () => {
      for (const signal of signals) {
        signal.disconnect(onEmit);
      }
    };
  }, signals);
}
