// Readiness, watchdog and stopping notifications for systemd: nothing off systemd, READY=1 then
// WATCHDOG=1 at half the period systemd asked for, STOPPING=1 at shutdown; and the real systemd-notify
// delivering them to a NOTIFY_SOCKET (a unix datagram socket read by a small python3 receiver).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { notifyServiceReady, runSystemdNotify, watchdogIntervalMs } from '../src/daemon-notify.js';

function recorder() {
  const sent: string[][] = [];
  return { sent, send: async (assignments: string[]) => void sent.push(assignments) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('notifyServiceReady', () => {
  it('does nothing without NOTIFY_SOCKET (not started by systemd)', async () => {
    const { sent, send } = recorder();
    const stop = await notifyServiceReady('listening', { env: { WATCHDOG_USEC: '1000000' }, send });
    await stop();
    expect(sent).toEqual([]);
  });

  it('sends READY=1 with the status, then STOPPING=1 on shutdown', async () => {
    const { sent, send } = recorder();
    const stop = await notifyServiceReady('listening on http://0.0.0.0:8080', {
      env: { NOTIFY_SOCKET: '/run/systemd/notify' },
      send,
    });
    expect(sent).toEqual([['READY=1', 'STATUS=listening on http://0.0.0.0:8080']]);
    await stop();
    expect(sent[1]).toEqual(['STOPPING=1', 'STATUS=stopping']);
  });

  it('pings the watchdog at half its period until shutdown', async () => {
    vi.useFakeTimers();
    const { sent, send } = recorder();
    const env = { NOTIFY_SOCKET: '@notify', WATCHDOG_USEC: '4000000', WATCHDOG_PID: '4242' };
    const stop = await notifyServiceReady('ok', { env, send, pid: 4242 });
    await vi.advanceTimersByTimeAsync(1999);
    expect(sent.filter((a) => a[0] === 'WATCHDOG=1')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(sent.filter((a) => a[0] === 'WATCHDOG=1')).toHaveLength(3);
    await stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent.filter((a) => a[0] === 'WATCHDOG=1')).toHaveLength(3);
  });

  it('logs a failed notification and carries on', async () => {
    const warn = vi.fn();
    const send = vi.fn(async () => {
      throw new Error('systemd-notify is not installed (package systemd)');
    });
    const stop = await notifyServiceReady('ok', { env: { NOTIFY_SOCKET: '/x' }, send, logger: { warn } });
    await stop();
    expect(send).toHaveBeenCalledTimes(2);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[0][1]).toMatch(/READY=1.*not installed/);
  });
});

describe('watchdogIntervalMs', () => {
  it('is half of WATCHDOG_USEC, only for the process it names', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '60000000' }, 1)).toBe(30_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '7' }, 7)).toBe(30_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '7' }, 8)).toBeNull();
    expect(watchdogIntervalMs({}, 1)).toBeNull();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 1)).toBeNull();
  });
});

// The receiver prints each datagram it reads and closes the descriptors systemd-notify passes for its
// barrier (as systemd does), so systemd-notify returns.
const RECEIVER = `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
print("bound", flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(repr(msg.decode()), flush=True)
`;

const hasTools = ['systemd-notify', 'python3'].every(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0,
);

describe.skipIf(!hasTools)('runSystemdNotify with the real systemd-notify', () => {
  it('delivers READY=1 and WATCHDOG=1 to NOTIFY_SOCKET', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stackscope-notify-'));
    const socketPath = join(dir, 'notify');
    const receiver = spawn('python3', ['-c', RECEIVER, socketPath]);
    let output = '';
    receiver.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await vi.waitFor(() => expect(output).toContain('bound'), { timeout: 5000 });
      const previous = process.env.NOTIFY_SOCKET;
      process.env.NOTIFY_SOCKET = socketPath;
      try {
        await runSystemdNotify(['READY=1', 'STATUS=listening']);
        await runSystemdNotify(['WATCHDOG=1']);
      } finally {
        if (previous === undefined) delete process.env.NOTIFY_SOCKET;
        else process.env.NOTIFY_SOCKET = previous;
      }
      await vi.waitFor(() => expect(output).toContain("'WATCHDOG=1'"), { timeout: 5000 });
      expect(output).toContain(String.raw`'READY=1\nSTATUS=listening'`);
    } finally {
      receiver.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says what failed when nobody listens', async () => {
    const previous = process.env.NOTIFY_SOCKET;
    process.env.NOTIFY_SOCKET = join(tmpdir(), 'stackscope-no-such-socket');
    try {
      await expect(runSystemdNotify(['READY=1'])).rejects.toThrow(/systemd-notify READY=1 failed/);
    } finally {
      if (previous === undefined) delete process.env.NOTIFY_SOCKET;
      else process.env.NOTIFY_SOCKET = previous;
    }
  });
});
