/**
 * One request at a time for what is asked for again and again (the Flow, the scenarios: on
 * every event that may change them): calls while one runs share it, and it runs once more
 * after it, so what the last call wanted to see is seen — however many calls came meanwhile.
 */
export function coalesced(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await task();
      } while (again);
    })().finally(() => { running = undefined; });
    return running;
  };
}
