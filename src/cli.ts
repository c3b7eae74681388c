#!/usr/bin/env node
// Entry point: `stackscope stack | serve | help`. Thin: pick the command, run it, map errors to
// the exit codes of the contract (0 ok, 2 bad arguments or input, 1 anything else).
// Each command's module is imported only when that command runs: the daemon's modules (fastify,
// pino, the rig) took ~0.4 s to load, which every `stackscope stack` paid for nothing.
import { StackscopeError } from './errors.js';

const stackCommand = () => import('./cli/stack-command.js');
const rigCommands = () => import('./cli/rig-commands.js');
const serveCommand = () => import('./cli/serve-command.js');

const USAGE = `Usage: stackscope <command> [options]

Commands:
  stack   stack existing images into one sharp image and a depth map
  jog     move the focus stage (bring-up; soft limits apply)
  capture take one frame with the camera (bring-up)
  serve   run the microscope daemon (REST API, web page, jobs)
  help    show help for a command

Run 'stackscope <command> --help' for the options of a command.
`;

async function usageOf(command: string | undefined): Promise<string> {
  switch (command) {
    case 'stack':
      return (await stackCommand()).STACK_USAGE;
    case 'jog':
      return (await rigCommands()).JOG_USAGE;
    case 'capture':
      return (await rigCommands()).CAPTURE_USAGE;
    case 'serve':
      return (await serveCommand()).SERVE_USAGE;
    default:
      return USAGE;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'stack': {
      const { parseStackArgs, runStackCommand, STACK_USAGE } = await stackCommand();
      const options = parseStackArgs(rest);
      if (options === 'help') {
        process.stdout.write(STACK_USAGE);
        return 0;
      }
      await runStackCommand(options);
      return 0;
    }
    case 'jog':
      return (await rigCommands()).runJogCommand(rest, process.stdout);
    case 'capture':
      return (await rigCommands()).runCaptureCommand(rest, process.stdout);
    case 'serve':
      return (await serveCommand()).runServeCommand(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(await usageOf(rest[0]));
      return 0;
    case undefined:
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`stackscope: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof StackscopeError) {
      process.stderr.write(`stackscope: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`stackscope: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
