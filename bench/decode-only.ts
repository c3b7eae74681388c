// The benchmark's yardstick: a whole process that only decodes the given frames with sharp, set up
// exactly as the stacker's decoder (same concurrency, no cache). Prints its wall time in ms.
import { decodeFile } from '../src/stack/io.js';

const started = performance.now();
for (const file of process.argv.slice(2)) await decodeFile(file);
process.stdout.write(
  `${JSON.stringify({ decodeMs: performance.now() - started, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
