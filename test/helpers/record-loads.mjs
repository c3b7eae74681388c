// `node --import ./test/helpers/record-loads.mjs …`: appends every module URL the process loads to the
// file named by $RECORD_LOADS, one per line (module hooks run on their own thread, so the hook writes
// the file itself rather than telling the process).
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(process.env.RECORD_LOADS)}, url + '\\n');
  return next(url, context);
}`)}`,
);
