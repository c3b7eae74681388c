#!/usr/bin/env node
// Entry point: `stackscope stack | serve | help`. Thin: pick the command, run it, map errors to
// the exit codes of the contract (0 ok, 2 bad arguments or input, 1 anything else).
import { StackscopeError } from './errors.js';
import { CAPTURE_USAGE, JOG_USAGE, runCaptureCommand, runJogCommand } from './cli/rig-commands.js';
import { runServeCommand, SERVE_USAGE } from './cli/serve-command.js';
import { parseStackArgs, runStackCommand, STACK_USAGE } from './cli/stack-command.js';

const USAGE = `Usage: stackscope <command> [options]

Commands:
  stack   stack existing images into one sharp image and a depth map
  jog     move the focus stage (bring-up; soft limits apply)
  capture take one frame with the camera (bring-up)
  serve   run the microscope daemon (REST API, web page, jobs)
  help    show help for a command

Run 'stackscope <command> --help' for the options of a command.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'stack': {
      const options = parseStackArgs(rest);
      if (options === 'help') {
        process.stdout.write(STACK_USAGE);
        return 0;
      }
      await runStackCommand(options);
      return 0;
    }
    case 'jog':
      return runJogCommand(rest, process.stdout);
    case 'capture':
      return runCaptureCommand(rest, process.stdout);
    case 'serve':
      return runServeCommand(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(
        rest[0] === 'stack'
          ? STACK_USAGE
          : rest[0] === 'jog'
            ? JOG_USAGE
            : rest[0] === 'capture'
              ? CAPTURE_USAGE
              : rest[0] === 'serve'
                ? SERVE_USAGE
                : USAGE,
      );
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
