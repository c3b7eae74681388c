// A stand-in for rpicam-still (raspberrypi/rpicam-apps apps/rpicam_still.cpp) that behaves like it for the
// options stackscope uses, traps included, and can crash or hang on demand. Run through ./rpicam-still.
//
// Environment:
//   FAKE_RPICAM_ARGS_LOG      append one JSON line per event (start, trigger, frame, exit) to this file
//   FAKE_RPICAM_STARTUP_MS    time before the camera is configured and the signal handlers matter (200)
//   FAKE_RPICAM_FRAME_MS      camera frame period: triggers are polled once per frame (20)
//   FAKE_RPICAM_CAPTURE_MS    time from a trigger's frame to the file being written (40)
//   FAKE_RPICAM_WRITE_PAUSE_MS pause between the two halves of a file, as an in-place write (30)
//   FAKE_RPICAM_TIMEOUT_SCALE multiplies -t so preview timeouts pass quickly in tests (1)
//   FAKE_RPICAM_CRASH_AFTER=N the trigger after N frames makes it fail: stderr error, exit code 1
//   FAKE_RPICAM_HANG_AFTER=N  after N frames it stops answering: triggers, quit requests and SIGTERM
//   FAKE_RPICAM_TRUNCATE=1    lies: reports each frame saved after writing only its first half
//   FAKE_RPICAM_LIFETIME_MS   exits after this long whatever happens, so a test that dies leaves no stray (120000)
//   FAKE_RPICAM_AUTO_SHUTTER / _AUTO_GAIN / _AUTO_AWB  what auto exposure "measures" (12000, 2.5, "1.5,2.25")
import { appendFileSync, closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';

const env = process.env;
const num = (name, fallback) => (env[name] === undefined || env[name] === '' ? fallback : Number(env[name]));
const STARTUP_MS = num('FAKE_RPICAM_STARTUP_MS', 200);
const FRAME_MS = num('FAKE_RPICAM_FRAME_MS', 20);
const CAPTURE_MS = num('FAKE_RPICAM_CAPTURE_MS', 40);
const WRITE_PAUSE_MS = num('FAKE_RPICAM_WRITE_PAUSE_MS', 30);
const TIMEOUT_SCALE = num('FAKE_RPICAM_TIMEOUT_SCALE', 1);
const CRASH_AFTER = num('FAKE_RPICAM_CRASH_AFTER', Infinity);
const HANG_AFTER = num('FAKE_RPICAM_HANG_AFTER', Infinity);
const TRUNCATE = env.FAKE_RPICAM_TRUNCATE === '1';
const AUTO_SHUTTER = num('FAKE_RPICAM_AUTO_SHUTTER', 12000);
const AUTO_GAIN = num('FAKE_RPICAM_AUTO_GAIN', 2.5);
const AUTO_AWB = (env.FAKE_RPICAM_AUTO_AWB ?? '1.5,2.25').split(',').map(Number);

const LIFETIME_MS = num('FAKE_RPICAM_LIFETIME_MS', 120000);

const program = basename(process.argv[1] ?? 'rpicam-still');
const started = Date.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (event) => {
  if (env.FAKE_RPICAM_ARGS_LOG)
    appendFileSync(
      env.FAKE_RPICAM_ARGS_LOG,
      JSON.stringify({ pid: process.pid, t: Date.now(), ...event }) + '\n',
    );
};
const stamp = () => {
  const ms = Date.now() - started;
  return `[0:00:${String(Math.floor(ms / 1000)).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')}000000] [${process.pid}]`;
};
const chatter = (line) => process.stderr.write(line + '\n');
function exit(code, reason) {
  log({ event: 'exit', code, reason });
  process.exit(code);
}

// ---- options (boost::program_options style: --name value, --name=value, -x value) ----
const FLAGS = new Set(['-n', '--nopreview', '-s', '--signal', '-k', '--keypress', '--immediate', '--zsl']);
for (const flag of [
  '-r',
  '--raw',
  '--datetime',
  '--timestamp',
  '--no-raw',
  '--autofocus-on-capture',
  '--hdr',
])
  FLAGS.add(flag);
const VALUED = new Set(
  (
    '-t --timeout -o --output -e --encoding -q --quality --width --height --framestart --wrap --metadata ' +
    '--metadata-format --shutter --gain --analoggain --awbgains --awb --denoise --autofocus-mode --lens-position ' +
    '--thumb -v --verbose --ev --metering --exposure --brightness --contrast --saturation --sharpness --rotation ' +
    '--mode --viewfinder-mode --camera --tuning-file --latest -x --exif --flicker-period --autofocus-range'
  ).split(' '),
);
const ALIASES = {
  '-t': '--timeout',
  '-o': '--output',
  '-e': '--encoding',
  '-q': '--quality',
  '-v': '--verbose',
};
Object.assign(ALIASES, {
  '-n': '--nopreview',
  '-s': '--signal',
  '-k': '--keypress',
  '--analoggain': '--gain',
});
Object.assign(ALIASES, { '-r': '--raw', '-x': '--exif' });

function parseOptions(argv) {
  const options = new Map();
  for (let i = 0; i < argv.length; i++) {
    let [name, inline] = argv[i].startsWith('--') ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
    if (!FLAGS.has(name) && !VALUED.has(name)) throw new Error(`unrecognised option '${name}'`);
    const canonical = ALIASES[name] ?? name;
    if (options.has(canonical) && canonical !== '--exif')
      throw new Error(`option '${canonical}' cannot be specified more than once`);
    if (FLAGS.has(name)) options.set(canonical, true);
    else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`the required argument for option '${canonical}' is missing`);
      options.set(canonical, value);
    }
  }
  return options;
}

/** rpicam's TimeVal: a bare number is in the option's default unit. */
function parseTime(value, defaultUnitMs) {
  const match = /^([\d.]+)\s*(min|s|ms|us|ns)?$/.exec(String(value));
  if (!match) throw new Error(`invalid time value '${value}'`);
  const scale = { min: 60000, s: 1000, ms: 1, us: 0.001, ns: 1e-6 }[match[2]] ?? defaultUnitMs;
  return Number(match[1]) * scale;
}

/** What snprintf(filename, 128, output, framestart) makes of the output name. */
function formatName(pattern, counter) {
  const name = pattern.replace(/%(0?)(\d*)d|%%|%./g, (whole, zero, width) => {
    if (whole === '%%') return '%';
    if (whole.endsWith('d')) return String(counter).padStart(Number(width || 0), zero ? '0' : ' ');
    throw new Error(`output name "${pattern}" has a printf conversion "${whole}" that reads garbage`);
  });
  return name.slice(0, 127);
}

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  log({ event: 'start', program, argv: process.argv.slice(2) });
  chatter(`ERROR: *** ${error.message} ***`);
  exit(255, 'bad options');
}
log({ event: 'start', program, argv: process.argv.slice(2) });

const signalMode = options.has('--signal');
const keypressMode = options.has('--keypress');
const waitsForTrigger = signalMode || keypressMode;
const timeoutMs = options.has('--timeout')
  ? parseTime(options.get('--timeout'), 1) * TIMEOUT_SCALE
  : 5000 * TIMEOUT_SCALE;
const encoding = options.get('--encoding') ?? 'jpg';
const quality = Number(options.get('--quality') ?? 93);
const width = Number(options.get('--width') ?? 64);
const height = Number(options.get('--height') ?? 48);
const verbose = Number(options.get('--verbose') ?? 1);
let counter = Number(options.get('--framestart') ?? 0);
const wrap = Number(options.get('--wrap') ?? 0);
const shutter = options.has('--shutter') ? parseTime(options.get('--shutter'), 0.001) * 1000 : AUTO_SHUTTER;
const gain = options.has('--gain') ? Number(options.get('--gain')) : AUTO_GAIN;
const awb = options.has('--awbgains') ? options.get('--awbgains').split(',').map(Number) : AUTO_AWB;
const sharpModule = import('sharp').then((m) => m.default);

// ---- triggers: one slot, polled once per frame, as signal_received in the real program ----
let ready = false;
let capturing = false;
let hung = false;
let frames = 0;
let pending = null; // 'capture' | 'quit' | null
const stdinLines = [];

function request(kind, via) {
  if (kind === 'capture') log({ event: 'trigger', via, busy: capturing || pending !== null, hung });
  if (hung) return;
  pending = kind;
}
function onUserSignal(signal) {
  if (!ready) {
    // The real program installs its handlers only once the camera is open; before that the default
    // action of SIGUSR1/SIGUSR2 terminates it.
    chatter(`(fake) ${signal} arrived before the handler was installed: the real program dies of it`);
    exit(128 + (signal === 'SIGUSR1' ? 10 : 12), `${signal} before ready`);
  }
  if (!signalMode) return;
  if (verbose >= 1) chatter(`Received signal ${signal === 'SIGUSR1' ? 10 : 12}`);
  request(signal === 'SIGUSR1' ? 'capture' : 'quit', 'signal');
}
process.on('SIGUSR1', () => onUserSignal('SIGUSR1'));
process.on('SIGUSR2', () => onUserSignal('SIGUSR2'));
process.on('SIGTERM', () => {
  if (hung) chatter('(fake) hung: SIGTERM ignored');
  else exit(143, 'SIGTERM');
});
if (keypressMode) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === '')
      log({ event: 'trigger', via: 'keypress', busy: capturing || stdinLines.length > 0, hung });
    stdinLines.push(line);
  });
}
/** The key for this frame: one line from stdin (keypress), or the signal slot (signal). */
function takeKey() {
  if (hung) return null;
  if (keypressMode && stdinLines.length > 0) {
    const line = stdinLines.shift();
    if (line[0] === 'x' || line[0] === 'X') return 'quit';
    return line === '' ? 'capture' : null;
  }
  const key = pending;
  pending = null;
  return key;
}

async function makeImage(index) {
  const sharp = await sharpModule;
  const shade = (index * 37) % 200;
  const image = sharp({
    create: { width, height, channels: 3, background: { r: 40 + shade, g: 200 - shade, b: 90 } },
  });
  return encoding === 'png' ? image.png().toBuffer() : image.jpeg({ quality }).toBuffer();
}

function metadataBlock() {
  const f = (x) => x.toFixed(6);
  const lines = [
    `SensorTimestamp=${process.hrtime.bigint()}`,
    `ExposureTime=${Math.round(shutter)}`,
    `AnalogueGain=${f(gain)}`,
    'DigitalGain=1.000000',
    `ColourGains=[ ${f(awb[0])}, ${f(awb[1])} ]`,
    'ColourTemperature=4821',
    'Lux=312.664001',
    'FrameDuration=33334',
    'SensorBlackLevels=[ 4096, 4096, 4096, 4096 ]',
    'FocusFoM=1523',
    'ScalerCrop=(0, 0)/4056x3040',
    'AeLocked=true',
  ];
  return lines.join('\n') + '\n\n';
}

async function captureOne() {
  capturing = true;
  if (frames >= CRASH_AFTER) {
    chatter(
      `${stamp()} ERROR V4L2 v4l2_videodevice.cpp:1248 /dev/video0[13:cap]: Failed to queue buffer 0: Input/output error`,
    );
    chatter('ERROR: *** failed to start camera ***');
    exit(1, 'crash on demand');
  }
  if (frames >= HANG_AFTER) {
    hung = true;
    capturing = false;
    log({ event: 'hang' });
    return;
  }
  if (verbose >= 1) chatter('Still capture image received');
  const name = formatName(options.get('--output'), counter);
  const data = await makeImage(frames);
  await sleep(CAPTURE_MS);
  // In place, in two writes: a watcher polling the folder could see the first half alone.
  const fd = openSync(name, 'w');
  const half = Math.floor(data.length / 2);
  writeSync(fd, data, 0, half);
  await sleep(WRITE_PAUSE_MS);
  if (!TRUNCATE) writeSync(fd, data, half, data.length - half);
  closeSync(fd);
  if (verbose >= 2) chatter(`Saved image ${width} x ${height} to file ${name}`);
  counter = wrap ? (counter + 1) % wrap : counter + 1;
  frames++;
  const metadata = options.get('--metadata');
  if (metadata === '-') process.stdout.write(metadataBlock());
  else if (metadata) writeFileSync(metadata, metadataBlock());
  log({ event: 'frame', file: name, bytes: data.length });
  capturing = false;
}

async function main() {
  setTimeout(() => exit(0, 'lifetime over'), LIFETIME_MS).unref();
  chatter(`${stamp()} INFO Camera camera_manager.cpp:327 libcamera v0.3.1+50-69a894c4`);
  chatter(`${stamp()} INFO RPI pisp.cpp:695 libpisp version v1.0.7 28196ed6edcf 29-08-2024 (16:33:32)`);
  await sleep(STARTUP_MS);
  ready = true;
  chatter(`Mode selection for ${width}:${height}:12:P`);
  chatter('    SRGGB10_CSI2P,1332x990/0 - Score: 3456.22');
  chatter('    SRGGB12_CSI2P,4056x3040/0 - Score: 1000');
  chatter(
    `${stamp()} INFO RPI pisp.cpp:1453 Sensor: /base/axi/pcie@120000/rp1/i2c@88000/imx477@1a - ` +
      'Selected sensor format: 4056x3040-SBGGR12_1X12 - Selected CFE format: 4056x3040-PC1B',
  );
  if (!options.has('--output')) {
    chatter('(fake) no --output: nothing is captured');
  }
  const cameraStarted = Date.now();
  if (options.has('--immediate')) {
    // rpicam-apps #488: with --immediate a signal/keypress process waits for one trigger, shoots, exits.
    while (waitsForTrigger) {
      const key = takeKey();
      if (key === 'quit') exit(0, 'quit');
      if (key === 'capture') break;
      await sleep(10);
    }
    if (!options.has('--output')) exit(0, 'no output');
    await captureOne();
    while (hung) await sleep(1000);
    exit(0, 'immediate shot done');
  }
  let keypressed = false;
  for (;;) {
    await sleep(FRAME_MS);
    const key = takeKey();
    if (key === 'quit') exit(0, 'quit');
    if (key === 'capture') keypressed = true;
    const timedOut = timeoutMs > 0 && Date.now() - cameraStarted > timeoutMs;
    if (!timedOut && !keypressed) continue;
    // The trap: a signal/keypress process that reaches its timeout quits without capturing.
    if (!keypressed && waitsForTrigger) exit(0, 'timeout without trigger');
    keypressed = false;
    if (!options.has('--output')) exit(0, 'no output');
    await captureOne();
    if (!waitsForTrigger && !hung) exit(0, 'timeout shot done');
  }
}

main().catch((error) => {
  chatter(`ERROR: *** ${error.message} ***`);
  exit(255, 'error');
});
