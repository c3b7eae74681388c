// Child process of the crash test: updates one job's manifest in a tight loop and prints each
// version number once its update has returned, until the test kills it with SIGKILL.
import { JobStore } from '../../src/store/job-store.js';
import { versionOf } from './crash-versions.js';

const [dataDir, id] = process.argv.slice(2);
const store = await JobStore.open({ dataDir });
for (;;) {
  const written = await store.update(id, (m) => versionOf(m, m.progress.captured + 1));
  process.stdout.write(`${written.progress.captured}\n`);
}
