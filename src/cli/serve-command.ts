// `stackscope serve`: the daemon in the foreground (systemd runs it so), logging pino JSON to stdout,
// stopping cleanly on SIGTERM/SIGINT: the running job is stopped and marked, the stage is released.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../config/load.js';
import { startDaemon } from '../daemon.js';
import { BadArgumentError } from '../errors.js';

export const SERVE_USAGE = `Usage: stackscope serve [options]

Runs the microscope daemon: REST API, web page and jobs, on the Pi's hardware or (off a Pi, or
with --rig simulated) on the simulated microscope.
  --config FILE    configuration file (default: $STACKSCOPE_CONFIG, else built-in defaults)
  --port N         HTTP port [8080]
  --host H         address to listen on [0.0.0.0]
  --data-dir DIR   jobs, frames, results and the stage position [~/.local/share/stackscope]
  --rig pi|simulated
`;

export async function runServeCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'data-dir': { type: 'string' },
        rig: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new BadArgumentError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new BadArgumentError(`--port: expected a whole number from 0 to 65535, got '${values.port}'`);
  }
  if (values.rig !== undefined && values.rig !== 'pi' && values.rig !== 'simulated')
    throw new BadArgumentError(`--rig: expected pi or simulated, got '${values.rig}'`);
  const config = await loadConfig({
    file: values.config,
    overrides: {
      dataDir: values['data-dir'],
      server: { port, host: values.host },
      rig: values.rig ? { type: values.rig } : undefined,
    },
  });
  const logger = pino({ name: 'stackscope', level: process.env.STACKSCOPE_LOG_LEVEL ?? 'info' });
  const daemon = await startDaemon(config, logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      daemon.close().finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
