// Reads rpicam-still's `--metadata - --metadata-format txt` output: one `Name=value` line per control and a
// blank line after each frame's files are saved. Parsed as it streams in; chunks may split lines anywhere.
import { StringDecoder } from 'node:string_decoder';

/** One frame's metadata: control name → value as printed (libcamera's ControlValue::toString). */
export type MetadataBlock = ReadonlyMap<string, string>;

export interface FrameExposure {
  /** ExposureTime, µs. */
  shutterUs?: number;
  /** AnalogueGain. */
  analogueGain?: number;
  /** ColourGains: red and blue. */
  awbGains?: [number, number];
}

/**
 * Splits a byte stream into metadata blocks. push() returns the blocks completed by a chunk; a block
 * is complete only at its blank line, which rpicam-still prints after the frame's file is closed.
 */
export class MetadataReader {
  private readonly decoder = new StringDecoder('utf8');
  private partialLine = '';
  private current = new Map<string, string>();

  push(chunk: Buffer | string): MetadataBlock[] {
    const text = this.partialLine + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.partialLine = lines.pop() ?? '';
    const done: MetadataBlock[] = [];
    for (const raw of lines) {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '') {
        // Two blank lines in a row would be an empty block: nothing to report.
        if (this.current.size > 0) done.push(this.current);
        this.current = new Map();
        continue;
      }
      const eq = line.indexOf('=');
      // Anything else on stdout is not metadata (a program that prints more): skip it.
      if (eq > 0) this.current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
    return done;
  }
}

/** Calls `onBlock` for each block the stream delivers; returns a function that stops listening. */
export function watchMetadata(
  stream: NodeJS.ReadableStream,
  onBlock: (block: MetadataBlock) => void,
): () => void {
  const reader = new MetadataReader();
  const onData = (chunk: Buffer | string) => {
    for (const block of reader.push(chunk)) onBlock(block);
  };
  stream.on('data', onData);
  return () => stream.off('data', onData);
}

/** Numbers in a printed value: "19987", "1.000000", "[ 1.832031, 2.015625 ]", "(0, 0)/4056x3040". */
export function parseNumbers(value: string): number[] {
  return (value.match(/[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g) ?? []).map(Number);
}

/** The exposure a frame was taken with, as far as its metadata tells. */
export function frameExposure(block: MetadataBlock): FrameExposure {
  const exposure: FrameExposure = {};
  const shutter = single(block.get('ExposureTime'));
  if (shutter !== undefined && shutter > 0) exposure.shutterUs = shutter;
  const gain = single(block.get('AnalogueGain'));
  if (gain !== undefined && gain > 0) exposure.analogueGain = gain;
  const gains = block.has('ColourGains') ? parseNumbers(block.get('ColourGains') ?? '') : [];
  if (gains.length === 2 && gains.every((g) => g > 0)) exposure.awbGains = [gains[0], gains[1]];
  return exposure;
}

function single(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const numbers = parseNumbers(value);
  return numbers.length === 1 && Number.isFinite(numbers[0]) ? numbers[0] : undefined;
}
