// Before any test: the WebAssembly kernels the stacker loads from dist/wasm must match their source
// (npm ci builds them; after an edit of src/stack/align/simd/kernels.ts a plain `npm test` rebuilds).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const SOURCE = 'src/stack/align/simd/kernels.ts';
const MODULE = 'dist/wasm/warp.wasm';

export default function setup(): void {
  if (existsSync(MODULE) && statSync(MODULE).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  execFileSync('npm', ['run', '--silent', 'build:wasm'], { stdio: 'inherit' });
}
